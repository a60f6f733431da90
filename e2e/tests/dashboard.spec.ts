// The performance dashboard: six sections of figures measured on the running server, which
// move when the server does; a refresh that stops while paused or while the tab is hidden
// and comes back at once on resume. The browser's clock is Playwright's, so "no refresh for
// ten seconds" is ten seconds of timers run at once, not a wait.
import { test, expect, Page } from '@playwright/test';
import { recordApi, waitForHydration } from './helpers';

const SECTIONS = ['api', 'database', 'caches', 'tasks', 'rum', 'resources'];

async function open(page: Page) {
  await page.clock.install();
  await page.goto('/performance-dashboard');
  await waitForHydration(page);
  await expect(page.getByTestId('section-api')).toBeVisible();
}

/** The number at the start of a metric's value (`12.3` of `12.3 ms`). */
async function figure(page: Page, testid: string) {
  const text = await page.getByTestId(testid).locator('.metric-value').textContent();
  return Number((text ?? '').replace(/^p\d\d /, '').split(' ')[0]);
}

test('six sections of server figures, which move when the server does', async ({ page }) => {
  await open(page);
  for (const id of SECTIONS) {
    await expect(page.getByTestId(`section-${id}`)).toBeVisible();
  }
  await expect(page.getByTestId('alerts')).toContainText('API p95 latency');
  // Charts are drawn from the server's history; figures are real: the bundle it serves.
  await expect(page.getByTestId('res-bundle').locator('.metric-value')).toContainText('KiB brotli');
  // Which routes are slowest depends on the machine (a sign-up's password hash, a beacon, a
  // page); that there are measured ones, named by method and route, does not.
  await expect(page.getByTestId('slowest-routes').locator('tbody tr td code').first()).toHaveText(/^(GET|POST|PUT|PATCH|DELETE) \S/);

  const before = await figure(page, 'api-rps');
  const ok = page.locator('[data-testid=section-api] .status-classes dd').nth(1);
  const okBefore = Number(await ok.textContent());
  for (let i = 0; i < 60; i++) {
    expect((await page.request.get('/api/stories?limit=5')).ok()).toBe(true);
  }
  // Next refresh (5 s by default): more requests per second.
  await page.clock.runFor(5_000);
  await expect.poll(() => figure(page, 'api-rps')).toBeGreaterThan(before);
  await expect.poll(async () => Number(await ok.textContent())).toBeGreaterThanOrEqual(okBefore + 60);
  expect(await figure(page, 'api-latency')).toBeGreaterThan(0);
});

test('pausing stops the refreshes, resuming brings one at once, and a hidden tab refreshes nothing', async ({ page }) => {
  await open(page);
  const fetches = recordApi(page, (u) => u.pathname === '/api/metrics/dashboard');
  await page.getByTestId('refresh-rate').selectOption('1');
  await page.clock.runFor(3_000);
  await expect.poll(() => fetches.length).toBeGreaterThanOrEqual(3);

  await page.getByTestId('pause').click();
  await expect(page.getByTestId('refresh-state')).toHaveText('paused');
  const paused = fetches.length;
  // The positive control: a timer of the page's own, on the same clock, fires ten times in
  // these ten seconds, so a refresh timer that still ran would have fetched.
  await page.evaluate(() => {
    (window as any).__ticks = 0;
    (window as any).__probe = setInterval(() => { (window as any).__ticks += 1; }, 1_000);
  });
  await page.clock.runFor(10_000);
  expect(await page.evaluate(() => (window as any).__ticks)).toBeGreaterThanOrEqual(10);
  expect(fetches.length).toBe(paused);

  await page.getByTestId('pause').click();
  await expect.poll(() => fetches.length).toBe(paused + 1);
  await page.clock.runFor(2_000);
  await expect.poll(() => fetches.length).toBeGreaterThanOrEqual(paused + 3);

  // The tab goes to the background: no refresh; back in front: one at once.
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect(page.getByTestId('refresh-state')).toHaveText('paused while this tab is hidden');
  const hidden = fetches.length;
  const ticked = await page.evaluate(() => (window as any).__ticks);
  await page.clock.runFor(10_000);
  expect(await page.evaluate(() => (window as any).__ticks)).toBeGreaterThanOrEqual(ticked + 10);
  expect(fetches.length).toBe(hidden);
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect(page.getByTestId('refresh-state')).toHaveText('live');
  await expect.poll(() => fetches.length).toBe(hidden + 1);
});

test('the percentile selector asks the server for that percentile', async ({ page }) => {
  await open(page);
  const fetches = recordApi(page, (u) => u.pathname === '/api/metrics/dashboard');
  await page.getByTestId('percentile').selectOption('p99');
  await expect.poll(() => fetches.at(-1)).toContain('percentile=p99');
  await expect(page.getByTestId('api-latency').locator('.metric-value')).toContainText('p99');
});

test('a real page visit beacons its Web Vitals, which then show for its route', async ({ page }) => {
  await page.goto('/tasks');
  await waitForHydration(page);
  await page.getByTestId('library-report').click();
  const beacon = page.waitForRequest((r) => r.url().endsWith('/api/vitals') && r.method() === 'POST');
  // The tab goes to the background: the view's measurements are sent.
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  const sent = JSON.parse((await beacon).postData() ?? '{}');
  expect(sent.route).toBe('/tasks');
  expect(sent.nav).toBe('navigate');
  const names = sent.metrics.map((m: { name: string }) => m.name);
  for (const name of ['TTFB', 'FCP', 'LCP', 'CLS']) expect(names).toContain(name);
  expect(names).not.toContain('FID');
  expect(sent.wasm_memory_bytes).toBeGreaterThan(1 << 20);

  await expect.poll(async () => {
    const snapshot = await (await page.request.get('/api/metrics/snapshot')).json();
    const tasks = snapshot.rum.pages.find((p: { route: string }) => p.route === '/tasks');
    return tasks?.metrics.find((m: { name: string }) => m.name === 'LCP')?.samples ?? 0;
  }).toBeGreaterThan(0);
});

test('a route change inside the app beacons the view it ends as its own route', async ({ page }) => {
  await page.goto('/performance');
  await waitForHydration(page);
  const beacon = page.waitForRequest((r) => r.url().endsWith('/api/vitals') && r.method() === 'POST');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
  await expect(page).toHaveURL(/\/tasks$/);
  const sent = JSON.parse((await beacon).postData() ?? '{}');
  expect(sent.route).toBe('/performance');
  expect(sent.nav).toBe('navigate');
});

test('/performance explains five layers next to their live figures, which move, and their benchmark runs', async ({ page }) => {
  await page.clock.install();
  await page.goto('/performance');
  await waitForHydration(page);
  for (const id of ['http', 'store', 'cache', 'tasks', 'client']) {
    await expect(page.getByTestId(`layer-${id}`)).toContainText('Targets');
    await expect(page.getByTestId(`bench-${id}`)).toContainText('cargo xtask ');
  }
  await expect(page.getByTestId('live-client-bundle').locator('.metric-value')).toContainText('KiB brotli');
  // Every recorded run in the page names the command that wrote it.
  for (const run of await page.locator('.bench-run').all()) {
    await expect(run.locator('code').first()).toContainText('cargo xtask ');
  }

  const before = await figure(page, 'live-http-rps');
  for (let i = 0; i < 60; i++) {
    expect((await page.request.get('/api/stories?limit=5')).ok()).toBe(true);
  }
  await page.clock.runFor(5_000);
  await expect.poll(() => figure(page, 'live-http-rps')).toBeGreaterThan(before);
  await expect(page.getByTestId('wasm-memory')).toContainText('MiB');
});

test('an operator unlocks admin actions with the token and follows maintenance and a backup to their end', async ({ page }) => {
  const token = process.env.ADMIN_TOKEN;
  test.skip(!token, 'the server under test has no admin token');
  await page.goto('/performance-dashboard');
  await waitForHydration(page);
  const panel = page.getByTestId('admin-panel');
  await panel.getByTestId('admin-token').fill('not the token');
  await panel.getByTestId('admin-unlock').click();
  await expect(panel.getByTestId('admin-error')).toContainText('does not match');
  await expect(panel.getByTestId('admin-checkpoint')).toHaveCount(0);

  await panel.getByTestId('admin-token').fill(token ?? '');
  await panel.getByTestId('admin-unlock').click();
  await panel.getByTestId('admin-checkpoint').click();
  const checkpoint = panel.getByTestId('task').first();
  await expect(checkpoint).toHaveAttribute('data-status', 'completed');
  await expect(checkpoint).toContainText('frames moved');

  const before = await panel.getByTestId('backups').locator('tr').count();
  await panel.getByTestId('admin-backup').click();
  await expect(panel.getByTestId('task').first()).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(panel.getByTestId('backups').locator('tr')).toHaveCount(before + 1);

  await panel.getByTestId('admin-lock').click();
  await expect(panel.getByTestId('admin-token')).toBeVisible();
});
