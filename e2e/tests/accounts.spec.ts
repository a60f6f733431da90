// Writers' accounts in the browser: signing up on the account page (a form that posts),
// a private story shared with a second writer as editor, who edits it, while a third
// writer and a visitor cannot see it at all.
import { test, expect, Browser, Page } from '@playwright/test';
import { waitForHydration } from './helpers';

const PASSWORD = 'correct horse battery staple';

/** A fresh browser context (no account) and its page. */
async function stranger(browser: Browser) {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  return { context, page: await context.newPage() };
}

/** Signs up `handle` through the account page's form; lands on the writer's stories. */
async function signUp(page: Page, handle: string) {
  await page.goto('/account');
  const form = page.getByTestId('signup-form');
  await form.locator('input[name="handle"]').fill(handle);
  await form.locator('input[name="password"]').fill(PASSWORD);
  await form.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/stories\?scope=mine$/);
  await waitForHydration(page);
  await expect(page.getByTestId('account-link')).toHaveText('Account');
}

test('a private story shared with an editor: they edit it, nobody else sees it', async ({ browser }) => {
  const stamp = Date.now() % 1_000_000_000;
  const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => `${n}${stamp}`);
  const a = await stranger(browser);
  await signUp(a.page, alice);

  // Alice writes a story: it starts private.
  const title = `Lantern ${stamp}`;
  await a.page.locator('input[name="title"]').fill(title);
  await a.page.getByRole('button', { name: 'Create' }).click();
  await expect(a.page).toHaveURL(/\/stories\/[0-9a-f-]{36}\/edit$/);
  const id = a.page.url().split('/').at(-2) as string;
  // The sharing panel is the writer's own page, in a frame of the (cached) editor page.
  const panel = a.page.frameLocator('[data-testid=share-frame]');
  await expect(panel.getByTestId('visibility')).toHaveValue('private');

  const b = await stranger(browser);
  await signUp(b.page, bob);
  // Before it is shared, Bob does not find it: 404, as if it did not exist.
  expect((await b.page.goto(`/stories/${id}`))?.status()).toBe(404);

  // Sharing is a form that posts; the panel comes back with the result.
  const share = panel.getByTestId('share-form');
  await share.locator('input[name="handle"]').fill('nobody-by-that-name');
  await share.getByRole('button', { name: 'Share' }).click();
  await expect(panel.getByRole('alert')).toContainText('no writer with the handle nobody-by-that-name');
  await share.locator('input[name="handle"]').fill(bob);
  await share.locator('select[name="role"]').selectOption('editor');
  await share.getByRole('button', { name: 'Share' }).click();
  await expect(panel.getByTestId('collaborators')).toContainText(`${bob} · editor`);
  await expect(panel.getByRole('alert')).toHaveCount(0);

  // Bob edits the title; Alice sees it.
  await b.page.goto(`/stories/${id}/edit`);
  await waitForHydration(b.page);
  await b.page.locator('input[name="story-title"]').fill(`${title} (edited by Bob)`);
  await b.page.getByRole('button', { name: 'Save story' }).click();
  await expect(b.page.getByRole('heading', { level: 1 })).toContainText('edited by Bob');
  await b.page.goto('/stories?scope=shared');
  await expect(b.page.getByText(`${title} (edited by Bob)`)).toBeVisible();
  await a.page.goto(`/stories/${id}/edit`);
  await expect(a.page.getByRole('heading', { level: 1 })).toContainText('edited by Bob');

  // Carol, another writer, and a visitor: not in the list, not by its address.
  const c = await stranger(browser);
  await signUp(c.page, carol);
  const v = await stranger(browser);
  for (const page of [c.page, v.page]) {
    expect((await page.goto(`/stories/${id}`))?.status()).toBe(404);
    expect((await page.goto(`/stories/${id}/edit`))?.status()).toBe(404);
    await page.goto(`/stories?q=${encodeURIComponent(title)}`);
    await waitForHydration(page);
    await expect(page.getByText('edited by Bob')).toHaveCount(0);
  }
  // Bob, an editor, sees who may read it but may not change it: only its owner may.
  await b.page.goto(`/stories/${id}/edit`);
  await waitForHydration(b.page);
  const bobs = b.page.frameLocator('[data-testid=share-frame]');
  await expect(bobs.getByTestId('visibility-shown')).toContainText(`Only its owner, ${alice}`);
  await expect(bobs.getByTestId('share-form')).toHaveCount(0);
  // Alice makes it public: now a visitor reads it.
  await a.page.goto(`/stories/${id}/edit`);
  const alices = a.page.frameLocator('[data-testid=share-frame]');
  await alices.getByTestId('visibility').selectOption('public');
  // The select shows 'public' as soon as it is chosen: wait for the form's answer (and the
  // panel it leads back to), not for the select, before a visitor looks.
  const changed = a.page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/stories/${id}/sharing/visibility`,
  );
  const back = a.page.waitForResponse(
    (r) => r.request().method() === 'GET' && new URL(r.url()).pathname === `/stories/${id}/sharing`,
  );
  await alices.getByRole('button', { name: 'Change' }).click();
  expect((await changed).status()).toBe(303);
  expect((await back).status()).toBe(200);
  await expect(alices.getByTestId('visibility')).toHaveValue('public');
  expect((await v.page.goto(`/stories/${id}`))?.status()).toBe(200);

  // Its owner deletes it: the library is as it was.
  expect((await a.page.request.delete(`/api/stories/${id}`)).status()).toBe(200);
  for (const x of [a, b, c, v]) await x.context.close();
});

test('the account page lists sessions and ends one; a wrong password is refused', async ({ browser }) => {
  const handle = `dana${Date.now() % 1_000_000_000}`;
  const first = await stranger(browser);
  await signUp(first.page, handle);
  const second = await stranger(browser);
  await second.page.goto('/account');
  const signin = second.page.getByTestId('signin-form');
  await signin.locator('input[name="handle"]').fill(handle);
  await signin.locator('input[name="password"]').fill('not the password');
  await signin.getByRole('button', { name: 'Sign in' }).click();
  await expect(second.page.getByTestId('account-error')).toHaveText('the handle or the password is wrong');
  await signin.locator('input[name="handle"]').fill(handle);
  await signin.locator('input[name="password"]').fill(PASSWORD);
  await signin.getByRole('button', { name: 'Sign in' }).click();
  await expect(second.page).toHaveURL(/scope=mine/);

  await first.page.goto('/account');
  const rows = first.page.getByTestId('sessions').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await rows.getByRole('button', { name: 'End' }).click();
  await expect(first.page.getByTestId('sessions').locator('tbody tr')).toHaveCount(1);
  // The ended session is signed out.
  await second.page.goto('/account');
  await expect(second.page.getByTestId('signin-form')).toBeVisible();
  for (const x of [first, second]) await x.context.close();
});
