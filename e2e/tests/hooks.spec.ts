// The client performance hooks at work: the virtual list over the whole library, search as
// you type, the request cache and prefetch, the editor's autosave, form fields after load.
// Requests are counted from the browser's own network events.
import { test, expect, Page } from '@playwright/test';
import { rawHtml, recordApi, waitForHydration } from './helpers';

const ROW = 112; // px, ROW_HEIGHT in components/story_list.rs

async function total(page: Page) {
  const text = await page.getByTestId('story-count').textContent();
  return parseInt((text ?? '').replace(/\D/g, ''), 10);
}

test('the whole library scrolls in one virtual list with a bounded DOM', async ({ page }) => {
  const { html } = await rawHtml(page, '/stories');
  const ssrRows = (html.match(/data-testid="story-card"/g) ?? []).length;
  expect(ssrRows).toBeGreaterThan(3);
  expect(ssrRows).toBeLessThanOrEqual(60);

  await page.goto('/stories');
  await waitForHydration(page);
  const n = await total(page);
  expect(n).toBeGreaterThan(90_000); // 100,000 seeded; archived ones are not listed by default
  const list = page.getByTestId('virtual-list');
  const rows = list.locator('[role="listitem"]');
  // The list scrolls with the page: the document is as tall as the whole library.
  const height = await page.evaluate(() => document.scrollingElement!.scrollHeight);
  expect(height).toBeGreaterThan(n * ROW);
  let most = 0;
  for (let step = 1; step <= 25; step++) {
    const row = Math.floor(((n - 1) * step) / 25);
    await list.evaluate((el, y) => {
      window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY + y);
    }, row * ROW);
    await expect(list.locator(`[aria-posinset="${row + 1}"]`)).toBeAttached();
    most = Math.max(most, await rows.count());
  }
  expect(most).toBeLessThanOrEqual(60);
  // The last story is reachable, and its page loads.
  const last = list.locator(`[aria-posinset="${n}"]`);
  await last.scrollIntoViewIfNeeded();
  await expect(last.getByTestId('story-card')).toBeVisible();
  await expect(last).toHaveAttribute('aria-setsize', String(n));
});

test('"Go to" and ?at= jump to a position', async ({ page }) => {
  await page.goto('/stories?at=54321');
  await waitForHydration(page);
  const list = page.getByTestId('virtual-list');
  await expect(list.locator('[aria-posinset="54321"]').getByTestId('story-card')).toBeVisible();
  await page.locator('input[name="goto"]').fill('777');
  await page.getByRole('button', { name: 'Go', exact: true }).click();
  await expect(list.locator('[aria-posinset="777"]').getByTestId('story-card')).toBeVisible();
});

test('search as you type sends one request per pause, kept in the URL', async ({ page }) => {
  await page.goto('/stories');
  await waitForHydration(page);
  const searches = recordApi(page, (u) => u.pathname === '/api/stories' && u.searchParams.has('q'));
  const box = page.getByRole('searchbox', { name: 'Search stories' });
  const urlQuery = () => new URL(page.url()).searchParams.get('q');
  await box.pressSequentially('龙门客栈', { delay: 50 });
  await expect.poll(urlQuery).toBe('龙门客栈');
  // No seeded story has this title (the stories test makes one later): the list answers
  // with its empty state, from the one search request.
  await expect(page.getByTestId('no-stories')).toBeVisible();
  await expect.poll(() => searches.length).toBe(1);
  expect(new URL(searches[0].split(' ')[1], page.url()).searchParams.get('q')).toBe('龙门客栈');

  await box.fill('');
  await box.pressSequentially('inn', { delay: 50 });
  await expect.poll(urlQuery).toBe('inn');
  await expect.poll(() => searches.length).toBe(2);

  await page.reload();
  await waitForHydration(page);
  await expect(page.getByRole('searchbox', { name: 'Search stories' })).toHaveValue('inn');
});

test('hovering a story prefetches it: opening it and coming back make no requests', async ({ page }) => {
  // Oldest first: seeded demo stories (with nodes), which stories that other specs create
  // while this one runs never push aside.
  await page.goto('/stories?sort=created_asc');
  await waitForHydration(page);
  const card = page.getByTestId('story-card').first();
  const link = card.locator('a.story-title');
  const story = page.waitForResponse((r) => /\/api\/stories\/[0-9a-f-]{36}$/.test(new URL(r.url()).pathname));
  const start = page.waitForResponse((r) => /\/api\/stories\/[0-9a-f-]{36}\/view$/.test(new URL(r.url()).pathname));
  await link.hover();
  await Promise.all([story, start]);

  const after = recordApi(page, (u) => u.pathname.startsWith('/api/stories'));
  const title = (await link.textContent()) ?? '';
  await link.click();
  await expect(page).toHaveURL(/\/stories\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('node-title')).toBeVisible();
  await page.goBack();
  await expect(page.getByTestId('story-count')).toBeVisible();
  await expect(page.getByTestId('story-card').first()).toContainText(title.trim());
  // The positive control: hovering another story is recorded, after anything the first one
  // could still have sent; only its own requests are there.
  const other = page.getByTestId('story-card').nth(1).locator('a.story-title');
  const otherId = ((await other.getAttribute('href')) ?? '').split('/').pop() ?? '';
  expect(otherId).toMatch(/^[0-9a-f-]{36}$/);
  const otherStart = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/stories/${otherId}/view`);
  await other.hover();
  await otherStart;
  expect(after.length).toBeGreaterThan(0);
  expect(after.filter((r) => !r.includes(otherId))).toEqual([]);
});

async function storyWithNode(page: Page) {
  const created = await page.request.post('/api/stories', {
    data: { title: `Autosave ${Date.now()}`, summary: '山路 A mountain road', tags: ['walk', '山'], status: 'in_progress' },
  });
  expect(created.ok()).toBe(true);
  const story = await created.json();
  const node = await page.request.post(`/api/stories/${story.id}/nodes`, {
    data: { kind: 'choice', title: 'The fork', content: '左边还是右边？', choice_label: 'Take the fork' },
  });
  expect(node.ok()).toBe(true);
  return { story, node: await node.json() };
}

test('every form field shows its stored value, server-rendered and after navigation', async ({ page }) => {
  const { story, node } = await storyWithNode(page);
  const { html } = await rawHtml(page, `/stories/${story.id}/edit`);
  // The text is the textarea's content, with nothing else in it (no hydration markers).
  expect(html).toMatch(/<textarea[^>]*name="story-summary"[^>]*>山路 A mountain road<\/textarea>/);

  const check = async () => {
    await expect(page.locator('input[name="story-title"]')).toHaveValue(story.title);
    await expect(page.locator('textarea[name="story-summary"]')).toHaveValue('山路 A mountain road');
    await expect(page.locator('input[name="story-tags"]')).toHaveValue('walk, 山');
    await expect(page.locator('select[name="story-status"]')).toHaveValue('in_progress');
    await page.getByTestId('tree-node').filter({ hasText: 'The fork' }).click();
    await expect(page.locator('input[name="node-title"]')).toHaveValue(node.title);
    await expect(page.locator('textarea[name="node-content"]')).toHaveValue('左边还是右边？');
    await expect(page.locator('input[name="node-choice-label"]')).toHaveValue('Take the fork');
    await expect(page.locator('select[name="node-kind"]')).toHaveValue('choice');
  };
  await page.goto(`/stories/${story.id}/edit`);
  await waitForHydration(page);
  await check();
  // Client-side navigation away and back.
  await page.getByRole('link', { name: 'Read it' }).click();
  await expect(page).toHaveURL(new RegExp(`/stories/${story.id}$`));
  await page.goBack();
  await expect(page).toHaveURL(/\/edit$/);
  await check();
});

test('the editor autosaves one request per pause and keeps text through offline and reload', async ({ page, context }) => {
  const { story, node } = await storyWithNode(page);
  await page.goto(`/stories/${story.id}/edit`);
  await waitForHydration(page);
  await page.getByTestId('tree-node').filter({ hasText: 'The fork' }).click();
  const saves = recordApi(page, (u, m) => m === 'PATCH' && u.pathname === `/api/nodes/${node.id}`);
  const content = page.locator('textarea[name="node-content"]');
  const status = page.getByTestId('save-status');

  await content.fill('');
  await content.pressSequentially('Left, toward the river.', { delay: 30 });
  await expect(status).toHaveText('Saved');
  expect(saves.length).toBeLessThanOrEqual(2); // the clear and the typing: one request per pause
  const afterTyping = saves.length;

  await context.setOffline(true);
  await content.pressSequentially(' 河边有船。', { delay: 30 });
  await expect(status).toContainText('Offline');
  await context.setOffline(false);
  await expect(status).toHaveText('Saved', { timeout: 20_000 });
  expect(saves.length).toBeGreaterThan(afterTyping);
  const stored = await (await page.request.get(`/api/nodes/${node.id}`)).json();
  expect(stored.content).toBe('Left, toward the river. 河边有船。');

  // Typed but not yet saved, then reloaded: the local draft brings it back and saves it.
  await content.pressSequentially(' Reload!', { delay: 10 });
  await page.reload();
  await waitForHydration(page);
  await page.getByTestId('tree-node').filter({ hasText: 'The fork' }).click();
  await expect(page.locator('textarea[name="node-content"]')).toHaveValue('Left, toward the river. 河边有船。 Reload!');
  // Saved either by the flush as the page was left or from the draft after the reload.
  await expect
    .poll(async () => (await (await page.request.get(`/api/nodes/${node.id}`)).json()).content)
    .toBe('Left, toward the river. 河边有船。 Reload!');
  await expect(page.getByTestId('save-status')).not.toHaveText('Not saved');
});

test('the notification bell is an icon with an accessible name', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);
  const bell = page.getByRole('button', { name: /Notifications: \d+ unread/ });
  await expect(bell.locator('svg')).toBeVisible();
  expect(await bell.textContent()).not.toContain('🔔');
});

test('after an edit the views of the story are fresh, not served from the cache', async ({ page }) => {
  const { story } = await storyWithNode(page);
  await page.goto(`/stories/${story.id}/edit`);
  await waitForHydration(page);
  // Editor → reader → editor, all in the client: the reader's data is cached now.
  await page.getByRole('link', { name: 'Read it' }).click();
  await expect(page.getByTestId('node-title')).toHaveText('The fork');
  await page.goBack();
  await expect(page).toHaveURL(/\/edit$/);
  await page.getByTestId('tree-node').filter({ hasText: 'The fork' }).click();
  await page.locator('input[name="node-title"]').fill('The crossroads');
  await page.getByTestId('save-node').click();
  await expect(page.getByTestId('save-status')).toHaveText('Saved');
  await page.getByRole('link', { name: 'Read it' }).click();
  await expect(page.getByTestId('node-title')).toHaveText('The crossroads');
});
