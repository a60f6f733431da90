// Background work from the browser: export a story as PDF from the reader, watch its
// progress, download it, get notified through the bell, and find it on /tasks.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { rawHtml, waitForHydration } from './helpers';

test('export a story as PDF, download it and get notified', async ({ page }) => {
  const title = `雪山 Snow Mountain ${Date.now()}`;
  const created = await page.request.post('/api/stories', { data: { title } });
  expect(created.status()).toBe(200);
  const story = await created.json();
  const batch = await page.request.post(`/api/stories/${story.id}/nodes/batch`, {
    data: {
      nodes: [
        { ref: 'c', kind: 'chapter', title: '第一章 山脚 The Foot', content: '风很冷。The wind is cold.' },
        { ref: 's', parent_ref: 'c', kind: 'scene', title: '营地 Camp', content: '你点起火。You light a fire.' },
      ],
    },
  });
  expect(batch.status()).toBe(200);

  await page.goto(`/stories/${story.id}`);
  await waitForHydration(page);
  await expect(page.getByTestId('node-title')).toHaveText('第一章 山脚 The Foot');
  const unreadBefore = Number((await page.getByTestId('unread-count').textContent({ timeout: 1000 }).catch(() => '0')) ?? '0');

  await page.getByTestId('export-pdf').click();
  const row = page.getByTestId('exports').getByTestId('task');
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('task-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(row.getByTestId('task-progress')).toHaveAttribute('value', '100');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row.getByTestId('task-download').click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/\.pdf$/);
  const file = readFileSync(await download.path());
  expect(file.subarray(0, 5).toString()).toBe('%PDF-');
  expect(file.length).toBeGreaterThan(1000);

  // The finished export was pushed to the bell.
  await expect(page.getByTestId('unread-count')).toHaveText(String(unreadBefore + 1));
  await page.getByTestId('bell').click();
  const notes = page.getByTestId('notifications');
  await expect(notes).toContainText(`PDF export of “${title}” is ready`);
  await notes.getByRole('button', { name: 'Mark all read' }).click();
  await expect(page.getByTestId('unread-count')).toHaveCount(0);

  // Client-side navigation to /tasks shows it there, completed.
  await page.getByRole('link', { name: 'Tasks', exact: true }).click();
  await expect(page).toHaveURL(/\/tasks$/);
  const listed = page.getByTestId('tasks').getByTestId('task').first();
  await expect(listed.getByTestId('task-status')).toHaveText('completed');
  await expect(listed).toContainText('PDF export');
  await expect(page.getByTestId('stat-completed')).not.toHaveText('0');
});

test('a library report runs from /tasks with live progress', async ({ page }) => {
  await page.goto('/tasks');
  await waitForHydration(page);
  await expect(page.getByTestId('live-on')).toBeVisible();
  await page.getByTestId('library-report').click();
  const report = page.getByTestId('tasks').getByTestId('task').filter({ hasText: 'Report' }).first();
  await expect(report.getByTestId('task-status')).toHaveText('completed', { timeout: 30_000 });
  const href = await report.getByTestId('task-download').getAttribute('href');
  const res = await page.request.get(href!);
  expect(res.status()).toBe(200);
  expect(await res.text()).toContain('# Library report');
});

test('/tasks is server-rendered with the queue statistics', async ({ page }) => {
  const { status, html } = await rawHtml(page, '/tasks');
  expect(status).toBe(200);
  expect(html).toContain('data-testid="task-stats"');
  expect(html).toContain('Throughput');
});

test('a running export can be cancelled from its row', async ({ page }) => {
  // Big enough that its PDF takes a couple of seconds: 40 chapters of 100 scenes.
  const created = await page.request.post('/api/stories', { data: { title: `长篇 Long ${Date.now()}` } });
  const story = await created.json();
  const text = '很久很久以前，在一个遥远的王国里。Once upon a time, in a faraway kingdom. '.repeat(6);
  const nodes: object[] = [];
  for (let c = 0; c < 40; c++) {
    nodes.push({ ref: `c${c}`, kind: 'chapter', title: `第${c}章 Chapter ${c}`, content: text });
    for (let s = 0; s < 99; s++) {
      nodes.push({ ref: `s${c}-${s}`, parent_ref: s === 0 ? `c${c}` : `s${c}-${s - 1}`, kind: 'scene', title: `Scene ${s}`, content: text });
    }
  }
  const batch = await page.request.post(`/api/stories/${story.id}/nodes/batch`, { data: { nodes } });
  expect(batch.status()).toBe(200);

  await page.goto(`/stories/${story.id}`);
  await waitForHydration(page);
  await page.getByTestId('export-pdf').click();
  const row = page.getByTestId('exports').getByTestId('task');
  await expect(row.getByTestId('task-status')).toHaveText('running');
  await row.getByTestId('task-cancel').click();
  await expect(row.getByTestId('task-status')).toHaveText('cancelled');
  await expect(row.getByTestId('task-download')).toHaveCount(0);
  await expect(row.getByTestId('task-cancel')).toHaveCount(0);
});
