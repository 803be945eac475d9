// `make demo` in a real browser: `streamlake demo` (the binary the Makefile runs) on free
// ports in a temp directory; Chromium opens the one-time sign-in link it prints, finds the
// demo notebook, runs it, and watches the live per-minute chart move while the demo's
// producer runs. Also writes the README's screenshot (docs/images/notebook.png is copied
// from SL_UI_ARTIFACTS/readme-notebook.png by `make readme-screenshot`).
//
// Run: STREAMLAKE_BIN=build/release/streamlake node --test test/ui/demo.test.mjs
// Fails (never skips) when the browser or the binary is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const BIN = process.env.STREAMLAKE_BIN;
const CHROMIUM = process.env.SL_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.SL_UI_ARTIFACTS || join(REPO, 'build', 'test-artifacts', 'ui');
const NOTEBOOK = 'AWS solution — real-time sales';

let proc, dir, lines = [], link = null, base = null;
let browser, page;
const problems = [];

before(async () => {
  assert.ok(BIN && existsSync(BIN), 'STREAMLAKE_BIN must name the streamlake binary');
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (scripts/bootstrap)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'sl-demo-ui-'));
  proc = spawn(BIN, ['demo', '--data', join(dir, 'data'), '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.on('data', (d) => lines.push(String(d)));
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the demo printed no sign-in link in 60 s:\n${lines.join('\n')}`)), 60000);
    proc.on('exit', (c) => rej(new Error(`the demo exited (${c}):\n${lines.join('\n')}`)));
    createInterface({ input: proc.stdout }).on('line', (l) => {
      lines.push(l);
      const m = l.match(/(http:\/\/127\.0\.0\.1:\d+)(\/v1\/session\/link\?token=[0-9a-f]+)/);
      if (m) { base = m[1]; link = m[1] + m[2]; }
      if (link && /producing \d+ records\/s/.test(l)) { clearTimeout(timer); res(); }
    });
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`); });
});

after(async () => {
  await browser?.close();
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.on('exit', r));
    proc.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20000))]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the sign-in link opens the demo notebook; its live chart gains points with the producer', { timeout: 240000 }, async () => {
  await page.goto(link);
  // Signed in and redirected to the app: the demo's notebook is listed.
  const entry = page.locator('ul.notebook-list li', { hasText: NOTEBOOK });
  await entry.waitFor({ timeout: 30000 });
  await entry.locator('a.nb-link').click();
  await page.locator('section.paragraph').first().waitFor({ timeout: 30000 });
  await page.click('[data-action=run-all]');
  const paragraphs = page.locator('section.paragraph[data-type=sql]');
  assert.equal(await paragraphs.count(), 5, 'SHOW TABLES, records, pie, bar and the live chart');
  for (let i = 0; i < 4; i++)
    await paragraphs.nth(i).locator('[data-state=done]').waitFor({ timeout: 60000 });
  // Run all keeps the followed paragraph following (it re-subscribes).
  assert.equal(await page.locator('section.paragraph [data-state=error]').count(), 0, 'every paragraph ran');
  const tables = await paragraphs.nth(0).textContent();
  for (const name of ['records', 'products', 'sales_per_minute', 'historical', 'products_archive'])
    assert.ok(tables.includes(name), `SHOW TABLES lists ${name}`);
  // The pie of products per product and the bar chart draw.
  for (const i of [2, 3]) {
    const chart = paragraphs.nth(i).locator('.chart');
    await chart.locator('canvas').waitFor({ timeout: 30000 });
    assert.ok(Number(await chart.getAttribute('data-points')) >= 1, `chart ${i} has points`);
  }
  // The last paragraph follows sales_per_minute: it updates while records arrive.
  const live = paragraphs.nth(4);
  await live.locator('[data-action=live][aria-pressed=true]').waitFor({ timeout: 30000 });  // saved as live
  await live.scrollIntoViewIfNeeded();
  const status = live.locator('.live-status');
  await status.waitFor({ timeout: 30000 });
  const epochOf = async () => Number(((await status.textContent()).match(/epoch (\d+)/) || [])[1] || 0);
  const e0 = await epochOf();
  await page.waitForFunction(([el, e]) => Number((el.textContent.match(/epoch (\d+)/) || [])[1] || 0) > e + 2,
    [await status.elementHandle(), e0], { timeout: 30000 });
  const chart = live.locator('.chart');
  await chart.locator('canvas').waitFor({ timeout: 30000 });
  const p0 = Number(await chart.getAttribute('data-points'));
  assert.ok(p0 >= 1, 'the live chart has points');
  // A point per minute: the next minute's window adds one while the producer runs.
  await page.waitForFunction(([el, n]) => Number(el.dataset.points || 0) > n, [await chart.elementHandle(), p0],
    { timeout: 75000 });
  await page.screenshot({ path: join(ARTIFACTS, 'demo-live-chart.png') });
  // The README's picture: the products pie and the bar chart of the solution's notebook.
  await paragraphs.nth(2).evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.mouse.wheel(0, -60);
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(ARTIFACTS, 'readme-notebook.png') });
  assert.deepEqual(problems, []);
});
