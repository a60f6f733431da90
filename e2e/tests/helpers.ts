import { expect, Page } from '@playwright/test';

/** Waits until the WASM client has hydrated the page (the health panel's first check ran). */
export async function waitForHydration(page: Page) {
  await expect(page.getByTestId('health-checks')).toContainText(/checked [1-9]\d* times/);
}

/** Fetches a path without running any JavaScript and returns status and HTML. */
export async function rawHtml(page: Page, path: string) {
  const res = await page.request.get(path, { headers: { accept: 'text/html' } });
  return { status: res.status(), html: await res.text() };
}
