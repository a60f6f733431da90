// A writer's whole path: create a story, build a three-level tree in the editor, play it in
// the reader, and find it again by a Chinese search term.
import { test, expect, Page } from '@playwright/test';
import { rawHtml, recordApi, waitForHydration } from './helpers';

async function editSelected(page: Page, fields: { title: string; content?: string; label?: string }) {
  const form = page.getByTestId('node-form');
  await form.locator('input[name="node-title"]').fill(fields.title);
  if (fields.label !== undefined) await form.locator('input[name="node-choice-label"]').fill(fields.label);
  if (fields.content !== undefined) await form.locator('textarea[name="node-content"]').fill(fields.content);
  await page.getByTestId('save-node').click();
  await expect(page.getByTestId('tree-node').filter({ hasText: fields.title })).toBeVisible();
}

test('create, edit, read and search a story', async ({ page }) => {
  const title = `龙门客栈 Dragon Inn ${Date.now()}`;
  await page.goto('/stories');
  await waitForHydration(page);
  await page.locator('input[name="title"]').fill(title);
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/\/stories\/[0-9a-f-]{36}\/edit$/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(title);

  // Level 1: a chapter.
  await page.getByTestId('add-top').click();
  await expect(page.getByTestId('node-form')).toBeVisible();
  await editSelected(page, { title: '第一章 启程', content: '龙门客栈的灯火在雨夜里摇晃。\nThe lanterns sway in the rain.' });
  // Level 2: a scene under it.
  await page.getByTestId('add-child').click();
  await expect(page.locator('input[name="node-title"]')).toHaveValue('New scene');
  await editSelected(page, { title: '客栈大堂', content: '掌柜抬起头，看了你一眼。' });
  // Level 3: a choice under the scene.
  await page.getByTestId('add-child').click();
  await expect(page.locator('input[name="node-title"]')).toHaveValue('New choice');
  await editSelected(page, { title: '上楼', label: '走上楼梯 Go upstairs', content: '楼上传来琴声。' });

  const rows = page.getByTestId('tree-node');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toHaveAttribute('data-depth', '0');
  await expect(rows.nth(1)).toHaveAttribute('data-depth', '1');
  await expect(rows.nth(2)).toHaveAttribute('data-depth', '2');

  // Play it.
  await page.getByRole('link', { name: 'Read it' }).click();
  await expect(page.getByTestId('node-title')).toHaveText('第一章 启程');
  await expect(page.getByTestId('node-content')).toContainText('灯火在雨夜');
  await page.getByTestId('choices').getByRole('link', { name: '客栈大堂' }).click();
  await expect(page.getByTestId('node-title')).toHaveText('客栈大堂');
  await page.getByTestId('choices').getByRole('link', { name: '走上楼梯 Go upstairs' }).click();
  await expect(page.getByTestId('node-content')).toHaveText('楼上传来琴声。');
  await expect(page.getByText('The end of this path.')).toBeVisible();
  // Every node has its own URL, rendered on the server too.
  const nodeUrl = new URL(page.url()).pathname;
  expect(nodeUrl).toMatch(/\/nodes\/[0-9a-f-]{36}$/);
  const { status, html } = await rawHtml(page, nodeUrl);
  expect(status).toBe(200);
  expect(html).toContain('楼上传来琴声。');
  await page.getByTestId('back').click();
  await expect(page.getByTestId('node-title')).toHaveText('客栈大堂');

  // Find it by words of its node text (Chinese, through the trigram index).
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Stories' }).click();
  await page.getByRole('searchbox', { name: 'Search stories' }).fill('灯火在雨夜');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/q=/);
  const cards = page.getByTestId('story-card');
  await expect(cards).toHaveCount(1);
  await expect(cards.first()).toContainText(title);
});

test('an unknown story is a 404 page', async ({ page }) => {
  const { status, html } = await rawHtml(page, '/stories/0190c2a4-8f1e-7c3b-9a2d-4e5f60718293');
  expect(status).toBe(404);
  expect(html).toContain('no story with id');
});

test('a story of 3,000 nodes: the outline keeps few rows in the DOM, long titles wrap without overlap', async ({ page }) => {
  const created = await page.request.post('/api/stories', { data: { title: `Long outline ${Date.now()}` } });
  const story = await created.json();
  const long = '一个很长的标题 A very long title that has to wrap onto several lines in the outline '.repeat(2);
  const nodes: object[] = [];
  for (let c = 0; c < 100; c++) {
    nodes.push({ ref: `c${c}`, kind: 'chapter', title: c === 1 ? long : `Chapter ${c}` });
    for (let s = 0; s < 29; s++) {
      nodes.push({ parent_ref: `c${c}`, kind: 'scene', title: s === 3 ? `${long}${c}` : `Scene ${c}.${s}` });
    }
  }
  const batch = await page.request.post(`/api/stories/${story.id}/nodes/batch`, { data: { nodes } });
  expect(batch.ok(), await batch.text()).toBe(true);

  // Neither side of the editor loads the whole story: the outline comes in pages of 500
  // rows (the first one with the page), the form as one node's view.
  const trees = recordApi(page, (u) => u.pathname.endsWith('/tree'));
  const outlines = recordApi(page, (u) => u.pathname.endsWith('/outline'));
  await page.goto(`/stories/${story.id}/edit`);
  await waitForHydration(page);
  const outline = page.getByTestId('node-tree').getByTestId('virtual-list');
  const rows = outline.locator('[role="listitem"]');
  await expect(rows.first()).toHaveAttribute('aria-setsize', '3000');
  expect(await rows.count()).toBeLessThanOrEqual(60);

  // Measured rows: a wrapped title makes a taller row.
  const heights = await rows.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
  expect(Math.max(...heights)).toBeGreaterThan(1.8 * Math.min(...heights));
  // Without overlap: in list order, each row starts where the one before it ends (or below).
  const overlaps = await rows.evaluateAll((els) => {
    const boxes = els
      .map((e) => ({ at: Number(e.getAttribute('aria-posinset')), box: e.getBoundingClientRect() }))
      .sort((a, b) => a.at - b.at);
    return boxes.slice(1).filter((r, i) => r.box.top < boxes[i].box.bottom - 0.5).map((r) => r.at);
  });
  expect(overlaps).toEqual([]);

  // End reaches the last node, and the list ends exactly below it: the scrollable height is
  // the sum of the measured rows, not of the estimates.
  await outline.focus();
  await page.keyboard.press('End');
  const last = page.getByTestId('tree-node').filter({ hasText: 'Scene 99.28' });
  await expect(last).toBeVisible();
  const gap = () => outline.evaluate((el) => {
    const body = el.querySelector('.vlist-body')!.getBoundingClientRect();
    const row = el.querySelector('[aria-posinset="3000"]')!.getBoundingClientRect();
    return Math.abs(body.bottom - row.bottom);
  });
  await expect.poll(gap).toBeLessThan(2);
  expect(await rows.count()).toBeLessThanOrEqual(60);
  await last.click();
  await expect(page.locator('input[name="node-title"]')).toHaveValue('Scene 99.28');
  expect(trees).toEqual([]);
  // Only the pages under the view: the last one (End), never the ones passed over.
  expect(outlines.length).toBeGreaterThan(0);
  expect(outlines.length).toBeLessThanOrEqual(2);
  expect(outlines.every((u) => u.includes('offset=2500'))).toBe(true);
});

test('a node with 250 choices: the reader shows 200, says where the rest are, and loads no tree', async ({ page }) => {
  const created = await page.request.post('/api/stories', { data: { title: `Many paths ${Date.now()}` } });
  const story = await created.json();
  const nodes: object[] = [{ ref: 'root', kind: 'scene', title: 'The crossroads', content: 'Paths everywhere.' }];
  for (let i = 0; i < 250; i++) {
    nodes.push({ parent_ref: 'root', kind: 'choice', title: `Path ${i}`, choice_label: `Take path ${i}` });
  }
  const batch = await page.request.post(`/api/stories/${story.id}/nodes/batch`, { data: { nodes } });
  expect(batch.ok(), await batch.text()).toBe(true);

  const trees = recordApi(page, (u) => u.pathname.endsWith('/tree'));
  await page.goto(`/stories/${story.id}`);
  await waitForHydration(page);
  await expect(page.getByTestId('node-title')).toHaveText('The crossroads');
  await expect(page.getByTestId('choices').locator('li')).toHaveCount(200);
  await expect(page.getByTestId('reader')).toContainText('50 more paths are in the editor.');
  await page.getByRole('link', { name: 'Take path 7', exact: true }).click();
  await expect(page.getByTestId('node-title')).toHaveText('Path 7');
  await expect(page.getByTestId('reader')).toContainText('The crossroads');
  await page.getByTestId('back').click();
  await expect(page.getByTestId('node-title')).toHaveText('The crossroads');
  expect(trees).toEqual([]);
});
