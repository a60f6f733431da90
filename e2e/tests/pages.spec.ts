// A page served from the server's page cache is the page the server rendered: it paints
// before the WASM arrives and hydrates exactly like a fresh render. The page cache keeps
// what visitors are shown (a signed-in writer's pages are answered from it but never fill
// it), so the visits here are a visitor's, in a context without the writer's cookies.
import { test, expect, APIRequestContext, Browser } from '@playwright/test';
import { waitForHydration } from './helpers';

/** A story with a root scene and one choice under it; returns the story id. */
async function storyWithChoice(request: APIRequestContext, title: string) {
  const created = await request.post('/api/stories', { data: { title, visibility: 'public' } });
  expect(created.ok()).toBeTruthy();
  const story = (await created.json()).id as string;
  const root = await request.post(`/api/stories/${story}/nodes`, {
    data: { kind: 'scene', title: 'The gate', content: 'A gate in the fog.' },
  });
  const rootId = (await root.json()).id as string;
  await request.post(`/api/stories/${story}/nodes`, {
    data: { kind: 'scene', title: 'Beyond the gate', content: 'Fields.', parent_id: rootId, choice_label: 'Open it' },
  });
  return story;
}

/** A browser context of a visitor: no account. */
async function visitor(browser: Browser, options = {}) {
  return browser.newContext({ storageState: { cookies: [], origins: [] }, ...options });
}

test('a reader page from the page cache hydrates and plays like a fresh one', async ({ browser, request }) => {
  const story = await storyWithChoice(request, `Cached tale ${Date.now()}`);
  const context = await visitor(browser);
  const page = await context.newPage();

  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));

  // The first visit renders and keeps the page; the second is answered from memory.
  const first = await page.goto(`/stories/${story}`);
  expect(first?.headers()['x-cache']).toBe('MISS');
  await waitForHydration(page);
  const fresh = await page.getByTestId('reader').innerHTML();
  const second = await page.goto(`/stories/${story}`);
  expect(second?.headers()['x-cache']).toBe('HIT');
  await waitForHydration(page);
  expect(await page.getByTestId('reader').innerHTML()).toBe(fresh);

  // Hydrated: a choice navigates inside the app without loading a page.
  const documents: string[] = [];
  page.on('request', (r) => { if (r.resourceType() === 'document') documents.push(r.url()); });
  await page.getByTestId('choices').getByRole('link', { name: 'Open it' }).click();
  await expect(page.getByTestId('node-title')).toHaveText('Beyond the gate');
  expect(documents).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});

test('a cached page paints before the WASM client has loaded', async ({ browser, request }) => {
  const path = `/stories/${await storyWithChoice(request, `Painted tale ${Date.now()}`)}`;
  const warm = await visitor(browser);
  await warm.request.get(path); // kept in the page cache
  await warm.close();
  const context = await visitor(browser, { javaScriptEnabled: false });
  const page = await context.newPage();
  const res = await page.goto(path);
  expect(res?.headers()['x-cache']).toBe('HIT');
  await expect(page.getByTestId('node-title')).toBeVisible();
  await context.close();
});
