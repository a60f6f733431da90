// Passkeys in Chromium with a virtual authenticator (the DevTools protocol's WebAuthn
// domain): a writer adds a passkey on the account page, signs out, and signs in with it.
// WebAuthn needs a domain name (browsers refuse IP addresses), so these pages are opened
// on `localhost`, the same server.
import { test, expect, BrowserContext, Page } from '@playwright/test';
import { waitForHydration } from './helpers';

const local = (process.env.BASE_URL ?? '').replace('127.0.0.1', 'localhost');
const PASSWORD = 'correct horse battery staple';

async function withAuthenticator(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}

test('a writer adds a passkey, signs out, and signs in with it', async ({ browser }) => {
  const context = await browser.newContext({ baseURL: local, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  const authenticator = await withAuthenticator(context, page);
  const handle = `pk${Date.now().toString(36)}`;
  const up = await page.request.post('/api/account/signup', { data: { handle, password: PASSWORD } });
  expect(up.status()).toBe(201);

  await page.goto('/account');
  await waitForHydration(page);
  const passkeys = page.getByTestId('passkeys');
  await expect(passkeys.getByTestId('no-passkeys')).toBeVisible();
  const register = page.getByTestId('passkey-register-form');
  await register.getByLabel('Name').fill('test laptop');
  await register.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(passkeys.getByRole('cell', { name: 'test laptop' })).toBeVisible();
  expect(await authenticator.credentials()).toHaveLength(1);
  await expect(passkeys.getByRole('row').filter({ hasText: 'test laptop' })).toContainText('never');

  // Signed out, the passkey signs in: no password typed.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  const signin = page.getByTestId('passkey-signin-form');
  await expect(signin).toBeVisible();
  await signin.getByLabel('Handle').fill(handle);
  await signin.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(page).toHaveURL(/\/stories\?scope=mine/);
  const me = await page.request.get('/api/me');
  expect(me.status()).toBe(200);
  expect((await me.json()).handle).toBe(handle);
  await page.goto('/account');
  await expect(page.getByTestId('passkeys').getByRole('row').filter({ hasText: 'test laptop' })).not.toContainText('never');
  await context.close();
});

test('a handle without a passkey is told so, and nobody is signed in', async ({ browser }) => {
  const context = await browser.newContext({ baseURL: local, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await withAuthenticator(context, page);
  const handle = `nopk${Date.now().toString(36)}`;
  const up = await context.request.post('/api/account/signup', { data: { handle, password: PASSWORD } });
  expect(up.status()).toBe(201);
  await context.clearCookies();
  // Reached by a client-side navigation this time: the page loads its script itself.
  await page.goto('/');
  await waitForHydration(page);
  await page.getByTestId('account-link').click();
  await expect(page).toHaveURL(/\/account$/);
  const signin = page.getByTestId('passkey-signin-form');
  await signin.getByLabel('Handle').fill(handle);
  await signin.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(signin.getByRole('status')).toHaveText(/no passkey is registered for this handle/);
  expect((await page.request.get('/api/me')).status()).toBe(401);
  await context.close();
});
