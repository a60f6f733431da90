// Story covers in the browser: the demo library's generated covers load lazily (counted
// image requests before and after scrolling), cover boxes are laid out before their images
// arrive (layout shift measured in the page), the reader's cover is eager and high
// priority, and a writer uploads a cover in the editor with a preview and progress.
import { test, expect, Page } from '@playwright/test';
import { waitForHydration } from './helpers';

/** The ids of the stories with a cover once every demo cover's variants are made. */
type Covered = { id: string; hash: string; row: number };

async function coveredStories(page: Page): Promise<Covered[]> {
  let covered: Covered[] = [];
  await expect
    .poll(
      async () => {
        const list = await (await page.request.get('/api/stories?limit=100')).json();
        const items = list.items as any[];
        covered = items
          .map((s, row) => ({ s, row }))
          .filter(({ s }) => s.cover)
          .map(({ s, row }) => ({ id: s.id, hash: s.cover.hash, row }));
        return items.filter((s) => s.cover_pending).length === 0 && covered.length > 0;
      },
      // Every 2 s: the tests share one client address and its read rate limit.
      { timeout: 180_000, intervals: [2_000] },
    )
    .toBe(true);
  return covered;
}

/** Records requests for cover variants from now on. */
function recordMedia(page: Page) {
  const seen: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/media/')) seen.push(url.pathname);
  });
  return seen;
}

/** Layout shift of the page so far, summed over every shift without recent input. */
async function layoutShift(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        let total = 0;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries() as any[]) if (!e.hadRecentInput) total += e.value;
        }).observe({ type: 'layout-shift', buffered: true });
        // Buffered entries are delivered in the next task.
        setTimeout(() => resolve(total), 50);
      }),
  );
}

test('covers below the fold are not requested until they are scrolled near', async ({ page }) => {
  const covered = await coveredStories(page);
  expect(covered.length).toBeGreaterThanOrEqual(20);
  await page.setViewportSize({ width: 1200, height: 700 });
  const media = recordMedia(page);
  await page.goto('/stories');
  await waitForHydration(page);
  // The first screen's covers load: one file each, the best format the browser takes.
  await expect.poll(() => media.length).toBeGreaterThan(2);
  await expect(page.locator('.story-card .cover img').first()).toBeVisible();
  const firstScreen = new Set(media);
  expect([...firstScreen].every((p) => p.endsWith('.avif'))).toBe(true);
  // Of 20+ covered rows, only those within a screen of the viewport were asked for.
  expect(firstScreen.size).toBeLessThan(covered.length);
  const last = covered[covered.length - 1].hash;
  expect([...firstScreen].some((p) => p.includes(last))).toBe(false);
  // Scrolling down brings the rest.
  for (let y = 0; y <= 112 * (covered[covered.length - 1].row + 1); y += 350) {
    await page.mouse.wheel(0, 350);
  }
  await expect.poll(() => media.some((p) => p.includes(last)), { timeout: 10_000 }).toBe(true);
  expect(media.length).toBeGreaterThan(firstScreen.size);
});

test('cover boxes are laid out before their images: no layout shift on /stories and the reader', async ({ page }) => {
  const covered = await coveredStories(page);
  await page.goto('/stories');
  await waitForHydration(page);
  await expect(page.locator('.story-card .cover img').first()).toBeVisible();
  await page.waitForFunction(() => [...document.images].some((i) => i.complete && i.naturalWidth > 0));
  expect(await layoutShift(page)).toBeLessThanOrEqual(0.02);

  await page.goto(`/stories/${covered[0].id}`);
  const hero = page.locator('.cover-hero img');
  // In the server's HTML, eager and high priority: the likely LCP element.
  await expect(hero).toHaveAttribute('fetchpriority', 'high');
  await waitForHydration(page);
  await page.waitForFunction(() => {
    const img = document.querySelector('.cover-hero img') as HTMLImageElement | null;
    return !!img && img.complete && img.naturalWidth > 0;
  });
  // Chromium decoded the AVIF it chose.
  expect(await hero.evaluate((i: HTMLImageElement) => i.currentSrc)).toMatch(/\.avif$/);
  expect(await layoutShift(page)).toBeLessThanOrEqual(0.02);
});

test('a writer uploads a cover in the editor: preview, progress, then the new cover', async ({ page }) => {
  const covered = await coveredStories(page);
  const file = await (await page.request.get(`/media/${covered[0].hash}-640.jpg`)).body();
  const created = await (await page.request.post('/api/stories', { data: { title: 'Cover from the editor' } })).json();
  await page.goto(`/stories/${created.id}/edit`);
  await waitForHydration(page);
  const panel = page.getByTestId('cover-editor');
  await expect(panel).toContainText('No cover yet');
  await panel.getByTestId('cover-input').setInputFiles({ name: 'cover.jpg', mimeType: 'image/jpeg', buffer: file });
  await expect(panel.getByTestId('cover-preview')).toBeVisible();
  // The variants are made, the story reloads and shows its cover.
  await expect(panel.locator('.cover-editor img')).toBeVisible({ timeout: 60_000 });
  const story = await (await page.request.get(`/api/stories/${created.id}`)).json();
  expect(story.cover.width).toBe(640);
  await expect(panel.getByTestId('cover-preview')).toHaveCount(0);

  // Removing it leaves the story without a cover.
  await panel.getByTestId('cover-remove').click();
  await expect(panel).toContainText('No cover yet');
  // Other tests open the newest story: leave none without nodes behind.
  expect((await page.request.delete(`/api/stories/${created.id}`)).ok()).toBe(true);
});
