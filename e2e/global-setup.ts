// Signs one writer up (or in, on a database an earlier run left) before the tests run and
// keeps its cookies: every test's browser context starts signed in as that writer, as
// someone writing stories would be. Tests of what visitors see open a context without it.
import { request, FullConfig } from '@playwright/test';

export const WRITER = { handle: 'e2e-writer', password: 'correct horse battery staple' };
export const WRITER_STATE = 'writer.state.json';

export default async function globalSetup(config: FullConfig) {
  const baseURL = config.projects[0].use.baseURL;
  const api = await request.newContext({ baseURL });
  const up = await api.post('/api/account/signup', { data: WRITER });
  if (up.status() !== 201) {
    const signin = await api.post('/api/account/signin', { data: WRITER });
    if (!signin.ok()) {
      throw new Error(`the test writer could not sign up (${up.status()}) or in (${signin.status()})`);
    }
  }
  await api.storageState({ path: WRITER_STATE });
  await api.dispose();
}
