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

/** Records the API requests the page makes from now on (method, path and query). */
export function recordApi(page: Page, match: (url: URL, method: string) => boolean = () => true) {
  const seen: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/') && url.pathname !== '/api/events' && match(url, r.method())) {
      seen.push(`${r.method()} ${url.pathname}${url.search}`);
    }
  });
  return seen;
}
