// The account page's passkeys (served as /account/passkeys.js; API.md, "Passkeys"):
// registering one while signed in, and signing in with one by handle. Each is the server's
// start, the browser's WebAuthn call with the options it returned, and the server's
// finish with the browser's answer. Controls marked `passkey-only` show only where the
// browser can do this (the script marks <html> with `passkeys`).
(() => {
  const PKC = window.PublicKeyCredential;
  if (window.aionPasskeys || !PKC || !PKC.parseCreationOptionsFromJSON || !PKC.parseRequestOptionsFromJSON) return;
  window.aionPasskeys = true;
  document.documentElement.classList.add('passkeys');

  async function post(path, body) {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
      credentials: 'same-origin',
    });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw new Error(data?.error?.message ?? `the server answered ${res.status}`);
    return data;
  }

  async function register(form) {
    const started = await post('/api/account/passkeys/register/start');
    const publicKey = PKC.parseCreationOptionsFromJSON(started.options.publicKey);
    const credential = await navigator.credentials.create({ publicKey });
    await post('/api/account/passkeys/register/finish', {
      ceremony: started.ceremony,
      name: form.elements.name.value,
      credential: credential.toJSON(),
    });
    location.assign('/account');
  }

  async function signIn(form) {
    const started = await post('/api/account/passkeys/signin/start', { handle: form.elements.handle.value });
    const publicKey = PKC.parseRequestOptionsFromJSON(started.options.publicKey);
    const credential = await navigator.credentials.get({ publicKey });
    await post('/api/account/passkeys/signin/finish', {
      ceremony: started.ceremony,
      credential: credential.toJSON(),
    });
    location.assign('/stories?scope=mine');
  }

  document.addEventListener('submit', async (event) => {
    const form = event.target;
    const kind = form instanceof HTMLFormElement ? form.dataset.passkey : undefined;
    if (kind !== 'register' && kind !== 'signin') return;
    event.preventDefault();
    const status = form.querySelector('[data-passkey-status]');
    const say = (text) => { if (status) status.textContent = text; };
    say('Waiting for your passkey…');
    try {
      await (kind === 'register' ? register(form) : signIn(form));
    } catch (err) {
      say(err && err.name === 'NotAllowedError' ? 'Cancelled, or no passkey of this site was chosen.' : String(err.message ?? err));
    }
  });
})();
