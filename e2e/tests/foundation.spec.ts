// The skeleton's promises: every route is server-rendered, the client hydrates and handles
// clicks, navigation happens without a reload, and unknown paths are 404s.
import { test, expect } from '@playwright/test';
import { rawHtml, waitForHydration } from './helpers';

const pages: Array<[string, RegExp]> = [
  ['/', /AION Story Engine/],
  ['/stories', /Stories/],
  ['/stories?sort=title_asc', /Title A-Z/],
  ['/tasks', /Tasks/],
  ['/performance', /Performance/],
  ['/performance-dashboard', /Performance dashboard/],
];

for (const [path, heading] of pages) {
  test(`${path} carries its content in the server HTML`, async ({ page }) => {
    const { status, html } = await rawHtml(page, path);
    expect(status).toBe(200);
    expect(html).toMatch(heading);
    expect(html).toContain('class="mainnav"');
  });
}

test('the home page hydrates and a click is handled by the WASM client', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto('/');
  await waitForHydration(page);
  await expect(page.getByTestId('health-status')).toHaveText('ok');
  const before = await page.getByTestId('health-checks').textContent();
  await page.getByTestId('health-refresh').click();
  await expect(page.getByTestId('health-checks')).not.toHaveText(before ?? '');
  // The Content-Security-Policy must not block anything the client needs.
  expect(problems).toEqual([]);
});

test('navigation between routes happens in the client, without a page load', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);
  await page.evaluate(() => ((window as any).__aionMarker = 'still here'));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
  await expect(page).toHaveURL(/\/tasks$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tasks');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Performance', exact: true }).click();
  await expect(page).toHaveURL(/\/performance$/);
  expect(await page.evaluate(() => (window as any).__aionMarker)).toBe('still here');
});

test('an unknown path renders the not-found page with status 404', async ({ page }) => {
  const { status, html } = await rawHtml(page, '/no/such/page');
  expect(status).toBe(404);
  expect(html).toContain('Page not found');
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId('not-found')).toBeVisible();
});

test('an unknown API path is a JSON 404', async ({ request }) => {
  const res = await request.get('/api/no-such-thing');
  expect(res.status()).toBe(404);
  expect((await res.json()).error.code).toBe('not_found');
});

test('/metrics reports the client bundle as served, measured from its files', async ({ request }) => {
  const text = await (await request.get('/metrics')).text();
  const bytes = (kind: string, encoding: string) =>
    Number(text.match(new RegExp(`aion_client_bundle_bytes\\{kind="${kind}",encoding="${encoding}"\\} (\\d+)`))?.[1] ?? 0);
  expect(bytes('wasm', 'br')).toBeGreaterThan(100_000);
  expect(bytes('wasm', 'identity')).toBeGreaterThan(bytes('wasm', 'br'));
  expect(bytes('js', 'br')).toBeGreaterThan(0);
  expect(bytes('css', 'identity')).toBeGreaterThan(0);
  expect(Number(text.match(/aion_http_open_connections (\d+)/)?.[1] ?? 0)).toBeGreaterThan(0);
});

test('every encoding of a bundle file varies on it, and none names another time', async ({ request }) => {
  const html = await (await request.get('/')).text();
  const css = html.match(/\/assets\/main-[^"]+\.css/)?.[0];
  expect(css, 'the page links its stylesheet').toBeTruthy();
  const answers = [];
  for (const encoding of ['identity', 'br', 'gzip']) {
    const res = await request.get(css!, { headers: { 'accept-encoding': encoding } });
    expect(res.status()).toBe(200);
    const headers = res.headers();
    answers.push({ encoding, sent: headers['content-encoding'] ?? 'identity', vary: headers['vary'], modified: headers['last-modified'] });
  }
  // A shared cache keys each copy by the encoding asked for, and has no dates to mix up.
  expect(answers.map((a) => a.sent)).toEqual(['identity', 'br', 'gzip']);
  for (const a of answers) {
    expect(a.vary, a.encoding).toBe('accept-encoding');
    expect(a.modified, a.encoding).toBeUndefined();
  }
});

test('on a phone the navigation is one row with the account link in it', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto('/stories');
  await waitForHydration(page);
  const bar = await page.locator('header.topbar').boundingBox();
  const account = await page.getByTestId('account-link').boundingBox();
  expect(bar).not.toBeNull();
  expect(account).not.toBeNull();
  // One row: about one line of text high (it wrapped into three rows, 150 px, before).
  expect(bar!.height).toBeLessThan(60);
  expect(account!.y).toBeGreaterThanOrEqual(bar!.y);
  expect(account!.y + account!.height).toBeLessThanOrEqual(bar!.y + bar!.height);
  expect(account!.x + account!.width).toBeLessThanOrEqual(390);
  await context.close();
});

test('on a phone a story card grows to fit a long title, and rows do not overlap', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: 'writer.state.json' });
  const page = await context.newPage();
  const long = `A very long title for a phone ${Date.now()}: `.concat('一个很长的标题 that wraps onto several lines '.repeat(3));
  const created = await page.request.post('/api/stories', {
    data: { title: long.slice(0, 200), summary: 'A summary. '.repeat(30), tags: ['phone', 'long'] },
  });
  expect(created.ok(), await created.text()).toBe(true);
  const story = await created.json();
  await page.goto('/stories?scope=mine&sort=updated_desc');
  await waitForHydration(page);
  const rows = page.getByTestId('virtual-list').locator('[role="listitem"]');
  const first = rows.first().getByTestId('story-card');
  await expect(first).toContainText(long.slice(0, 40));
  // The whole title is inside its card, nothing is cut off, and each row starts below the
  // one before it (rows are measured, not a fixed height).
  const boxes = async () => rows.evaluateAll((els) => els.slice(0, 4).map((row) => {
    const card = row.querySelector('[data-testid="story-card"]') as HTMLElement;
    const title = row.querySelector('.story-title')!.getBoundingClientRect();
    const c = card.getBoundingClientRect();
    const r = row.getBoundingClientRect();
    return { titleBottom: title.bottom, cardBottom: c.bottom, clipped: card.scrollHeight > card.clientHeight + 1, rowTop: r.top, rowBottom: r.bottom, titleHeight: title.height };
  }));
  await expect.poll(async () => {
    const b = await boxes();
    return b.every((x) => !x.clipped && x.titleBottom <= x.cardBottom + 0.5)
      && b.every((x, i) => i === 0 || x.rowTop >= b[i - 1].rowBottom - 0.5);
  }).toBe(true);
  const b = await boxes();
  // The long title takes several lines: its card is taller than the estimate of 112 px.
  expect(b[0].titleHeight).toBeGreaterThan(60);
  expect(b[0].rowBottom - b[0].rowTop).toBeGreaterThan(112);
  // Other tests read the top of the library: leave it as it was.
  expect((await page.request.delete(`/api/stories/${story.id}`)).ok()).toBe(true);
  await context.close();
});

test('the client starts after the first paint', async ({ page }) => {
  const { html } = await rawHtml(page, '/stories');
  expect(html).not.toContain('<script type="module" async');
  expect(html).toMatch(/<script defer src="\/boot.js" data-app="[^"]+\.js"><\/script>/);
  await page.goto('/stories');
  await waitForHydration(page);
  const times = await page.evaluate(() => {
    const paint = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
    const wasm = performance.getEntriesByType('resource').find((r) => r.name.endsWith('.wasm'));
    return { paint: paint?.startTime, wasm: wasm?.startTime };
  });
  expect(times.paint).toBeDefined();
  expect(times.wasm).toBeDefined();
  // The WebAssembly is requested once the page has painted, not before.
  expect(times.wasm!).toBeGreaterThanOrEqual(times.paint!);
});
