// Client benchmarks: the virtual list (/stories) over 100,000 stories, and the requests
// and bytes of a typical reading session. Figures are printed as a Markdown table for
// BENCHMARKS.md. Frame times are requestAnimationFrame deltas while the page (the list
// scrolls with it) moves by a fixed distance per frame (a fling). The paged list the virtual list replaced was measured
// side by side by this file's first version (commit "Client hooks…", BENCHMARKS.md) and then
// removed from the app to keep the bundle within its budget.
import { test, expect, Page } from '@playwright/test';
import { waitForHydration } from '../tests/helpers';

const ROW = 112; // px per story row (components/story_list.rs)
const FRAMES = 300;

type Frames = { frames: number; over16: number; longest: number; mean: number };

/** Scrolls the list by `distance` px over FRAMES animation frames; frame statistics. */
async function fling(page: Page, selector: string | null, distance: number): Promise<Frames> {
  const deltas: number[] = await page.evaluate(
    async ({ selector, distance, frames }) => {
      const el = (selector ? document.querySelector(selector) : document.scrollingElement) as Element;
      const out: number[] = [];
      await new Promise((r) => requestAnimationFrame(r));
      let last = performance.now();
      for (let i = 0; i < frames; i++) {
        el.scrollTop += distance / frames;
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        out.push(now - last);
        last = now;
      }
      return out;
    },
    { selector, distance, frames: FRAMES },
  );
  return {
    frames: deltas.length,
    over16: deltas.filter((d) => d > 16.7).length,
    longest: Math.max(...deltas),
    mean: deltas.reduce((a, b) => a + b, 0) / deltas.length,
  };
}

async function footprint(page: Page) {
  return page.evaluate(() => ({
    dom: document.getElementsByTagName('*').length,
    heap: (performance as any).memory?.usedJSHeapSize ?? 0,
  }));
}

/** The WASM linear memory of this tab, read by the memory hook on /performance after a
 *  client-side navigation (the same WASM instance; linear memory never shrinks, so this is
 *  the high-water mark of what came before). */
async function wasmMemory(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Performance' }).click();
  const text = await page.getByTestId('wasm-memory').textContent();
  return parseFloat(text ?? '0');
}

const mib = (b: number) => (b / 1048576).toFixed(1);
const rows: string[] = [];

test('virtual list over 100,000 stories', async ({ browser }) => {
  // Virtual list: fling 10,000 rows from the top, then the rest of the 100,000.
  const v = await (await browser.newContext()).newPage();
  await v.goto('/stories');
  await waitForHydration(v);
  const total = parseInt(((await v.getByTestId('story-count').textContent()) ?? '').replace(/\D/g, ''), 10);
  const vf10 = await fling(v, null, 10_000 * ROW);
  await expect(v.locator('[aria-posinset="10000"]').first()).toBeAttached();
  const v10 = await footprint(v);
  const vf100 = await fling(v, null, (total - 10_000) * ROW);
  await expect(v.locator(`[aria-posinset="${total}"]`)).toBeAttached();
  const v100 = await footprint(v);
  const vw = await wasmMemory(v);

  const f = (x: Frames) => `${x.over16}/${x.frames} | ${x.longest.toFixed(1)} ms | ${x.mean.toFixed(1)} ms`;
  rows.push(
    '| list | rows scrolled | frames > 16.7 ms | longest frame | mean frame | DOM elements | JS heap | WASM memory |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| virtual | 10,000 | ${f(vf10)} | ${v10.dom} | ${mib(v10.heap)} MiB | |`,
    `| virtual | 100,000 | ${f(vf100)} | ${v100.dom} | ${mib(v100.heap)} MiB | ${vw} MiB |`,
  );
});

test('a typical session: open the list, search, open three stories, come back', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen: { url: string; bytes: number; api: boolean }[] = [];
  page.on('requestfinished', async (r) => {
    const sizes = await r.sizes();
    const url = new URL(r.url());
    seen.push({
      url: url.pathname + url.search,
      bytes: sizes.responseBodySize + sizes.responseHeadersSize,
      api: url.pathname.startsWith('/api/') && url.pathname !== '/api/events',
    });
  });
  await page.goto('/stories');
  await waitForHydration(page);
  const initial = seen.length;
  const initialBytes = seen.reduce((a, s) => a + s.bytes, 0);
  const box = page.getByRole('searchbox', { name: 'Search stories' });
  await box.pressSequentially('story', { delay: 60 });
  await expect(page).toHaveURL(/q=story/);
  for (let i = 0; i < 3; i++) {
    const link = page.getByTestId('story-card').nth(i).locator('a.story-title');
    await link.hover();
    await link.click();
    await expect(page).toHaveURL(/\/stories\/[0-9a-f-]{36}$/);
    await page.goBack();
    await expect(page.getByTestId('story-count')).toBeVisible();
  }
  await page.waitForLoadState('networkidle');
  const after = seen.slice(initial);
  const api = after.filter((s) => s.api);
  rows.push(
    '',
    '| session step | requests | bytes |',
    '|---|---:|---:|',
    `| first load of /stories (document, JS, WASM, CSS, data) | ${initial} | ${initialBytes} |`,
    `| search, open three stories, come back each time | ${after.length} (API: ${api.length}) | ${after.reduce((a, s) => a + s.bytes, 0)} |`,
    '',
    'API requests of the session after the first load:',
    ...api.map((s) => `- ${s.url}`),
  );
});

test.afterAll(() => {
  console.log('\n' + rows.join('\n') + '\n');
});

test('covers: bytes of the first screen of /stories, lazy, against every covered row loaded', async ({ browser }) => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  // The demo covers' variants are made by the server's task queue after start.
  let covered: string[] = [];
  await expect
    .poll(
      async () => {
        const items = (await (await page.request.get('/api/stories?limit=100')).json()).items as any[];
        covered = items.filter((s) => s.cover).map((s) => s.cover.hash);
        return covered.length > 0 && !items.some((s) => s.cover_pending);
      },
      { timeout: 180_000, intervals: [2_000] },
    )
    .toBe(true);
  await page.goto('/stories');
  await waitForHydration(page);
  await page.waitForLoadState('networkidle');
  const lazy: { name: string; bytes: number }[] = await page.evaluate(() =>
    (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
      .filter((e) => e.name.includes('/media/'))
      .map((e) => ({ name: new URL(e.name).pathname, bytes: e.encodedBodySize })),
  );
  expect(lazy.length).toBeGreaterThan(0);
  // The file the browser chose (format and width) for every covered story of the list: what
  // the page would fetch if covers were not lazy.
  const chosen = lazy[0].name.replace(/^\/media\/[0-9a-f]{16}/, '');
  let all = 0;
  for (const hash of covered) {
    all += (await (await page.request.get(`/media/${hash}${chosen}`)).body()).length;
  }
  const lazyBytes = lazy.reduce((a, e) => a + e.bytes, 0);
  console.log(
    `\n| /stories first screen (1200×800), ${covered.length} covered stories | cover files | cover bytes |\n|---|---:|---:|\n` +
      `| lazy (loaded near the viewport) | ${lazy.length} | ${lazyBytes} |\n` +
      `| every covered story's cover (${chosen.slice(1)}) | ${covered.length} | ${all} |\n` +
      `lazy / all: ${(lazyBytes / all).toFixed(2)}\n`,
  );
  await page.close();
});
