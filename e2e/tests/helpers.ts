import { expect, Page } from '@playwright/test';

/** Waits until the WASM client has hydrated the page. */
export async function waitForHydration(page: Page) {
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
}

/** Fetches a path without running any JavaScript and returns status and HTML. */
export async function rawHtml(page: Page, path: string) {
  const res = await page.request.get(path, { headers: { accept: 'text/html' } });
  return { status: res.status(), html: await res.text() };
}
