// The pages' script policy: no `unsafe-inline` and no `unsafe-eval` for scripts, so a script
// injected into a page does not run, while every page still hydrates with nothing refused.
import { test, expect, Page } from '@playwright/test';
import { waitForHydration } from './helpers';

/** Collects the page's policy violations from its first script on. */
async function watchViolations(page: Page) {
  await page.addInitScript(() => {
    (window as any).__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as any).__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
    });
  });
}

async function aStory(page: Page): Promise<string> {
  const res = await page.request.get('/api/stories?scope=public&limit=1');
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.items.length).toBeGreaterThan(0);
  return body.items[0].id;
}

test('the script policy allows no inline script and no eval', async ({ request }) => {
  const res = await request.get('/stories');
  const policy = res.headers()['content-security-policy'];
  const scripts = policy.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
  expect(scripts).toBeDefined();
  expect(scripts).not.toContain("'unsafe-inline'");
  expect(scripts).not.toContain("'unsafe-eval'");
  expect(scripts).toMatch(/'sha256-[A-Za-z0-9+/]+=*'/);
  // The hydration data travels in an inert block, not a script.
  const html = await res.text();
  expect(html).not.toContain('<script>window.initial_dioxus_hydration_data');
  expect(html).toContain('id="aion-hydration"');
  // The title comes with the page: no component sets it (that needs eval).
  expect(html).toMatch(/<title>AION Story Engine<\/title>/);
});

test('every page hydrates under the policy with nothing refused', async ({ page }) => {
  const id = await aStory(page);
  await watchViolations(page);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  for (const path of ['/', '/stories', `/stories/${id}`, `/stories/${id}/edit`, '/account', '/performance', '/tasks']) {
    await page.goto(path);
    await waitForHydration(page);
    expect(await page.evaluate(() => (window as any).__violations), path).toEqual([]);
  }
  // A client-side navigation sets the title without eval.
  await page.goto('/');
  await waitForHydration(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tasks');
  expect(await page.evaluate(() => (window as any).__violations)).toEqual([]);
  expect(errors).toEqual([]);
});

test('an injected inline script does not run', async ({ page }) => {
  await page.goto('/stories');
  await waitForHydration(page);
  // Inject as stored markup would arrive: an inline script element in the page. The
  // browser reports the refusal with a violation event, which is the signal waited on.
  const violation = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
        const s = document.createElement('script');
        s.textContent = 'window.__injected = true;';
        document.body.appendChild(s);
      }),
  );
  expect(violation).toMatch(/^script-src/);
  expect(await page.evaluate(() => (window as any).__injected)).toBeUndefined();
  // The page is still alive and handles a click.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tasks');
});

test('an injected event-handler attribute does not run', async ({ page }) => {
  await page.goto('/stories');
  await waitForHydration(page);
  const violation = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
        const img = document.createElement('img');
        img.setAttribute('onerror', 'window.__injected = true');
        img.src = 'data:,not-an-image';
        document.body.appendChild(img);
      }),
  );
  expect(violation).toMatch(/^script-src/);
  expect(await page.evaluate(() => (window as any).__injected)).toBeUndefined();
});
