// The request cache revalidates a view that has gone stale (30 s) when the window regains
// focus and when the network comes back: another writer's change appears without a reload,
// and a view still fresh makes no request. The browser's clock is Playwright's, so half a
// minute passes at once.
import { test, expect, Page } from '@playwright/test';
import { recordApi, waitForHydration } from './helpers';

async function storyWithNode(page: Page, title: string) {
  const created = await page.request.post('/api/stories', { data: { title } });
  expect(created.ok()).toBe(true);
  const story = await created.json();
  const node = await page.request.post(`/api/stories/${story.id}/nodes`, {
    data: { kind: 'chapter', title: 'Opening', content: 'It begins.' },
  });
  expect(node.ok()).toBe(true);
  return story;
}

/** Renames the story as another writer would: outside this page's cache. */
async function rename(page: Page, id: string, title: string) {
  const r = await page.request.patch(`/api/stories/${id}`, { data: { title } });
  expect(r.ok()).toBe(true);
}

test('a stale view refreshes on window focus and on reconnect, a fresh one does not', async ({ page, context }) => {
  await page.clock.install();
  const story = await storyWithNode(page, `Before ${Date.now()}`);
  await page.goto(`/stories/${story.id}`);
  await waitForHydration(page);
  const crumb = page.getByRole('navigation', { name: 'Path' }).getByRole('link').first();
  await expect(crumb).toHaveText(story.title);
  const reads = recordApi(page, (u, m) => m === 'GET' && u.pathname === `/api/stories/${story.id}`);

  // Focus while fresh: nothing to do. Then half a minute later: one request, new title.
  await rename(page, story.id, 'After focus');
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await page.clock.fastForward('00:31');
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await expect(crumb).toHaveText('After focus');
  expect(reads.length).toBe(1);

  // Offline, then back online after the view went stale again: refreshed once more.
  await rename(page, story.id, 'After reconnect');
  await page.clock.fastForward('00:31');
  await context.setOffline(true);
  await context.setOffline(false);
  await expect(crumb).toHaveText('After reconnect');
  expect(reads.length).toBe(2);
});
