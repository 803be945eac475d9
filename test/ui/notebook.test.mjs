// The notebook web app in a real browser: Debian's Chromium (headless) driven by
// playwright-core against `streamlake serve` on 127.0.0.1 with ephemeral ports and a temp
// data dir. One server and one browser for the whole scenario; the steps run in order.
//
// Run: STREAMLAKE_BIN=build/release/streamlake node --test test/ui/notebook.test.mjs
// Env: SL_UI_ARTIFACTS  where screenshots go (ctest: <build>/test-artifacts/ui)
//      SL_CHROMIUM      the browser (default /usr/bin/chromium)
// Fails (never skips) when the browser or the server binary is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { KinesisClient, CreateStreamCommand, PutRecordsCommand, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { startServer } from './harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const BIN = process.env.STREAMLAKE_BIN;
const CHROMIUM = process.env.SL_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.SL_UI_ARTIFACTS || join(REPO, 'build', 'test-artifacts', 'ui');
const ZEPPELIN = join(REPO, 'test', 'server', 'fixtures', 'zeppelin_aws_solution.json');

let server, base, creds;
let browser, context, page, kinesis;
const problems = [];   // CSP violations and uncaught page errors: the run fails on any
let notebookId = null;

const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
const paragraphs = () => page.locator('section.paragraph');
const lastParagraph = () => paragraphs().last();

// Adds a SQL paragraph at the end, types the statement and runs it with Shift-Enter.
async function addAndRun(sql, { expectError = false } = {}) {
  await page.click('[data-action=add-sql]');
  const p = lastParagraph();
  await p.locator('.cm-content').click();
  await page.keyboard.insertText(sql);
  await page.keyboard.press('Shift+Enter');
  if (expectError) await p.locator('[data-state=error]').waitFor({ timeout: 30000 });
  else {
    await p.locator('[data-state=done], [data-state=error]').first().waitFor({ timeout: 60000 });
    const err = await p.locator('.error-box').textContent();
    assert.equal(await p.locator('[data-state=error]').count(), 0, `${sql} failed: ${err}`);
  }
  return p;
}

async function waitSaved() {
  await page.locator('.save-state[data-state=saved]').waitFor({ timeout: 10000 });
}

async function api(path) {
  const r = await context.request.get(base + path);
  return { status: r.status(), body: r.status() === 200 ? await r.json() : null };
}

before(async () => {
  assert.ok(BIN && existsSync(BIN), 'STREAMLAKE_BIN must name the streamlake binary');
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (scripts/bootstrap)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer(BIN, ['--no-fsync']);
  ({ base, creds } = server);
  kinesis = new KinesisClient({ endpoint: base, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  // Report every CSP violation to the console too (Chromium also logs most by itself).
  await context.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) =>
    console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`)));
  page = await context.newPage();
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
  kinesis?.destroy();
  const code = await server?.stop();
  if (server) assert.equal(code, 0, `server exit on SIGTERM; stderr: ${server.stderr().slice(-2000)}`);
});

test('the app is served with its content types, caching and CSP', async () => {
  const r = await fetch(base + '/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  const html = await r.text();
  assert.doesNotMatch(html, /<style|style=|<script(?![^>]*\bsrc=)/, 'no inline script or style');
  const js = html.match(/src="(\/assets\/[^"]+\.js)"/)[1];
  const a = await fetch(base + js);
  assert.equal(a.status, 200);
  assert.match(a.headers.get('content-type'), /^text\/javascript/);
  assert.equal(a.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal((await fetch(base + '/favicon.svg')).headers.get('content-type'), 'image/svg+xml');
  // Nothing else answers without a session.
  assert.equal((await fetch(base + '/v1/notebooks')).status, 401);
});

test('a wrong password is refused', async () => {
  await page.goto(base + '/');
  await page.locator('form.signin').waitFor();
  await shot('01-sign-in');
  await page.fill('#signin-user', 'admin');
  await page.fill('#signin-password', 'not-the-secret');
  await page.click('form.signin button[type=submit]');
  await page.getByText('Wrong user or password.').waitFor({ timeout: 10000 });
  assert.equal(await page.locator('form.signin').count(), 1);
});

test('the CSP is enforced and its violations are caught (checks the checker)', async () => {
  const n = problems.length;
  const applied = await page.evaluate(() => {
    const s = document.createElement('style');
    s.textContent = 'body { --csp-probe: 1; }';
    document.head.append(s);
    const ok = getComputedStyle(document.body).getPropertyValue('--csp-probe').trim() === '1';
    s.remove();
    return ok;
  });
  assert.equal(applied, false, 'an inline <style> must be refused');
  const reported = () => problems.slice(n).some((p) => p.includes('Content Security Policy violation: style-src'));
  for (let i = 0; i < 50 && !reported(); i++) await page.waitForTimeout(100);
  assert.ok(reported(), `the violation reached the console: ${problems.slice(n)}`);
  await page.waitForTimeout(500);  // Chromium's own report of the same violation
  problems.splice(n);
});

test('sign in and create a notebook', async () => {
  await page.fill('#signin-password', creds.secretAccessKey);
  await page.click('form.signin button[type=submit]');
  await page.locator('[data-action=new-notebook]').waitFor({ timeout: 10000 });
  await page.click('[data-action=new-notebook]');
  await page.locator('dialog input').fill('Sales dashboard');
  await page.click('dialog button.primary');
  await page.waitForURL(/#\/n\//);
  notebookId = decodeURIComponent(page.url().split('#/n/')[1]);
  await page.locator('h1.title', { hasText: 'Sales dashboard' }).waitFor();
  // The new notebook starts with an empty SQL paragraph: use it.
  assert.equal(await paragraphs().count(), 1);
});

test('run a query, see NULLs and pages, sort the table', async () => {
  const p = paragraphs().first();
  await p.locator('.cm-content').click();
  await page.keyboard.insertText(
    'SELECT x, x % 7 AS m, CASE WHEN x % 5 = 0 THEN NULL ELSE x * 2 END AS d\nFROM generate_series(1, 120) AS t(x)');
  await page.keyboard.press('Shift+Enter');
  await p.locator('[data-state=done]').waitFor({ timeout: 30000 });
  await p.locator('table.grid').waitFor();
  assert.match(await p.locator('.pager .count').textContent(), /1–50 of 120 rows/);
  assert.ok(await p.locator('td .null').count() > 0, 'NULL cells are shown as NULL');
  assert.equal(await p.locator('td .null').first().textContent(), 'NULL');
  await p.locator('th', { hasText: 'm' }).locator('button').click();
  assert.equal(await p.locator('th[aria-sort=ascending]').count(), 1);
  assert.equal(await p.locator('tbody tr').first().locator('td').nth(1).textContent(), '0');
  await p.locator('th', { hasText: 'm' }).locator('button').click();
  assert.equal(await p.locator('th[aria-sort=descending]').count(), 1);
  assert.equal(await p.locator('tbody tr').first().locator('td').nth(1).textContent(), '6');
  await p.getByRole('button', { name: 'Copy CSV' }).click();
  const csv = await page.evaluate(() => navigator.clipboard.readText());
  const csvLines = csv.trimEnd().split('\r\n');
  assert.equal(csvLines.length, 121);
  assert.equal(csvLines[0], 'x,m,d');
  assert.match(csvLines[1], /^\d+,6,(\d+)?$/, 'sorted order, NULL as an empty field');
  await p.locator('button[aria-label="Next page"]').click();
  assert.match(await p.locator('.pager .count').textContent(), /51–100 of 120 rows/);
  await shot('02-notebook-table');
  // An error names its SQLSTATE and marks the position in the editor.
  const bad = await addAndRun('SELECT nosuchcolumn FROM generate_series(1, 3)', { expectError: true });
  assert.equal(await bad.locator('.error-box').getAttribute('data-code'), '42703');
  assert.equal(await bad.locator('.cm-sql-error').textContent(), 'nosuchcolumn');
  await bad.locator('[data-action=delete]').click();
});

test('switch the result to a bar chart and a line chart', async () => {
  const p = paragraphs().first();
  await p.locator('[data-mode=bar]').click();
  const chart = p.locator('.chart');
  await chart.locator('canvas').waitFor();
  assert.ok(Number(await chart.getAttribute('data-points')) >= 100, 'bar chart draws the rows');
  await p.locator('select[data-role=x]').selectOption('x');
  await p.locator('[data-role=y] summary').click();
  await p.locator('[data-role=y] input[value=d]').check();
  await p.locator('[data-role=y] input[value=m]').uncheck();
  await p.locator('[data-role=y] summary').click();
  assert.equal(await p.locator('[data-role=y] summary').textContent(), 'd');
  await page.waitForTimeout(300);
  await shot('03-bar-chart');
  await p.locator('[data-mode=line]').click();
  await chart.locator('canvas').waitFor();
  assert.equal(await p.locator('[data-mode=line]').getAttribute('aria-selected'), 'true');
  await waitSaved();
  const nb = (await api(`/v1/notebooks/${notebookId}`)).body;
  assert.equal(nb.paragraphs[0].view.mode, 'line');
  assert.equal(nb.paragraphs[0].view.x, 'x');
  assert.deepEqual(nb.paragraphs[0].view.y, ['d']);
  await shot('04-line-chart');
});

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const tsText = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '').slice(0, 19);
let minute = 0;
// One PutRecords of `n` sales in the next simulated minute (the per-minute view gains a row).
async function produceMinute(n = 20, extra = []) {
  const t = T0 + minute * 60000;
  minute++;
  const lines = Array.from({ length: n }, (_, i) => `${98100 + (i % 9)},product${i % 5},${40 + (i % 20)},${tsText(t + i * 1000)}`);
  const r = await kinesis.send(new PutRecordsCommand({
    StreamName: 'sales',
    Records: [...lines, ...extra].map((l, i) => ({ Data: Buffer.from(l), PartitionKey: `k${i}` })),
  }));
  assert.equal(r.FailedRecordCount, 0);
}

test('create a stream table and views in SQL paragraphs, follow a live chart while records arrive', async () => {
  await kinesis.send(new CreateStreamCommand({ StreamName: 'sales', ShardCount: 2 }));
  await waitUntilStreamExists({ client: kinesis, minDelay: 1, maxWaitTime: 60 }, { StreamName: 'sales' });
  await addAndRun("CREATE TABLE records (zipcode int, product text, price int, ts timestamp)\n" +
    "  WITH (connector = 'kinesis', stream = 'sales', format = 'csv', event_time = 'ts', start = 'earliest')");
  await addAndRun('CREATE MATERIALIZED VIEW products AS\n  SELECT zipcode, product, price, ts FROM records WHERE price BETWEEN 40 AND 50');
  await addAndRun("CREATE MATERIALIZED VIEW sales_per_minute AS\n  SELECT window_start, count(*) AS sales, sum(price) AS revenue\n" +
    "  FROM tumble(records, ts, interval '1 minute') GROUP BY window_start");
  // Keyboard: Ctrl-Shift-↓/↑ in an editor moves its paragraph.
  const ids = () => paragraphs().evaluateAll((els) => els.map((e) => e.dataset.id));
  const before = await ids();
  await paragraphs().nth(1).locator('.cm-content').click();
  await page.keyboard.press('Control+Shift+ArrowDown');
  assert.deepEqual(await ids(), [before[0], before[2], before[1], before[3]]);
  await page.keyboard.press('Control+Shift+ArrowUp');
  assert.deepEqual(await ids(), before);
  // + in a paragraph's header adds one right below it.
  await paragraphs().nth(0).locator('[data-action=add-below]').click();
  const withNew = await ids();
  assert.equal(withNew.length, 5);
  assert.deepEqual([withNew[0], ...withNew.slice(2)], before);
  await paragraphs().nth(1).locator('[data-action=delete]').click();
  assert.deepEqual(await ids(), before);
  const live = await addAndRun('SELECT window_start, sales, revenue FROM sales_per_minute ORDER BY window_start');
  await live.locator('[data-mode=line]').click();
  await live.locator('[data-action=live]').click();
  assert.equal(await live.locator('[data-action=live]').getAttribute('aria-pressed'), 'true');
  await live.locator('.live-status').waitFor();
  const chart = live.locator('.chart');
  await live.scrollIntoViewIfNeeded();
  // Watch for layout shifts while the chart updates.
  await page.evaluate(() => {
    window.__shift = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shift += e.value; })
      .observe({ type: 'layout-shift', buffered: false });
  });
  const box0 = await live.boundingBox();
  const seen = [];
  for (let i = 0; i < 8; i++) {
    // One bad row (price 'abc') goes to records_errors; the health page links to it.
    await produceMinute(12 + ((i * 7) % 17), i === 0 ? ['98101,product1,abc,2026-01-05 09:00:30'] : []);
    await page.waitForFunction(([el, n]) => Number(el.dataset.points || 0) > n,
      [await chart.elementHandle(), seen.length ? seen[seen.length - 1] : 0], { timeout: 15000 }).catch(() => {});
    seen.push(Number(await chart.getAttribute('data-points') || 0));
  }
  assert.ok(seen[seen.length - 1] >= 6, `the live chart gained points: ${seen.join(' → ')}`);
  assert.ok(seen[seen.length - 1] > seen[0], `points grew: ${seen.join(' → ')}`);
  assert.match(await live.locator('.live-status .lag').textContent(), /lag .* · updated/);
  const box1 = await live.boundingBox();
  assert.equal(Math.round(box1.height), Math.round(box0.height), 'the live paragraph keeps its height');
  const shift = await page.evaluate(() => window.__shift);
  assert.ok(shift < 0.01, `no layout shift while live (CLS ${shift})`);
  await waitSaved();
  const nb = (await api(`/v1/notebooks/${notebookId}`)).body;
  const saved = nb.paragraphs.find((x) => x.text.includes('FROM sales_per_minute'));
  assert.equal(saved.live, true);
  assert.equal(saved.view.mode, 'line');
  await shot('05-live-chart');
});

test('a long query shows its progress and is cancelled on the server', async () => {
  const p = await (async () => {
    await page.click('[data-action=add-sql]');
    const q = lastParagraph();
    await q.locator('.cm-content').click();
    await page.keyboard.insertText('SELECT count(*) FROM generate_series(1, 200000) a(x), generate_series(1, 200000) b(y) WHERE x + y = 7');
    await page.keyboard.press('Shift+Enter');
    return q;
  })();
  const elapsed = p.locator('.status .elapsed');
  await elapsed.waitFor();
  const t1 = await elapsed.textContent();
  await page.waitForTimeout(700);
  const t2 = await elapsed.textContent();
  assert.notEqual(t1, t2, 'elapsed time ticks');
  await p.locator('[data-action=cancel]').click();
  await p.locator('[data-state=cancelled]').waitFor({ timeout: 15000 });
  assert.equal(await p.locator('.error-box').getAttribute('data-code'), '57014');
  await p.locator('[data-action=delete]').click();
  await waitSaved();
});

test('a result over 100,000 rows is cut there and its query stopped', async () => {
  const p = await addAndRun('SELECT x, x * 2 AS y FROM generate_series(1, 250000) AS t(x)');
  assert.match(await p.locator('[data-state=done]').textContent(), /first 100,000 rows/);
  assert.match(await p.locator('.pager .count').textContent(), /of 100,000 rows \(truncated\)/);
  await p.locator('[data-action=delete]').click();
  await waitSaved();
});

test('health page: streams, pipelines, errors link', async () => {
  await page.click('nav a[href="#/health"]');
  await page.locator('.health td', { hasText: 'sales' }).first().waitFor({ timeout: 10000 });
  await page.locator('.health td', { hasText: 'sales_per_minute' }).first().waitFor();
  const link = page.locator('button[data-errors-table="records_errors"]');
  await link.waitFor();
  await page.waitForFunction(() => Number(document.querySelector('button[data-errors-table="records_errors"]')?.textContent) >= 1, null, { timeout: 15000 });
  await page.waitForTimeout(2500);  // a refresh later the charts have points
  await shot('06-health');
  await link.click();
  const panel = page.locator('.error-panel .paragraph');
  await panel.locator('[data-state=done]').waitFor({ timeout: 30000 });
  assert.ok(await panel.locator('tbody tr').count() >= 1);
  assert.match(await panel.locator('tbody').textContent(), /abc/);
});

test('import the Zeppelin note and run it', async () => {
  assert.ok(existsSync(ZEPPELIN), `${ZEPPELIN} missing`);
  await page.click('nav a[href="#/"]');
  await page.locator('[data-action=import]').waitFor();
  await page.setInputFiles('input[type=file]', ZEPPELIN);
  await page.waitForURL((u) => u.hash.startsWith('#/n/') && !u.hash.includes(notebookId), { timeout: 10000 });
  await page.locator('h1.title', { hasText: 'Streaming Data Analytics' }).waitFor();
  const types = await paragraphs().evaluateAll((els) => els.map((e) => e.dataset.type));
  assert.deepEqual(types, ['sql', 'sql', 'sql', 'sql', 'markdown', 'text']);
  assert.match(await paragraphs().nth(4).locator('.markdown h2').textContent(), /Streaming analytics/);
  assert.match(await paragraphs().nth(5).locator('.badge').textContent(), /%spark/);
  await page.click('[data-action=run-all]');
  for (let i = 0; i < 4; i++) {
    const p = paragraphs().nth(i);
    await p.locator('[data-state=done], [data-state=error]').first().waitFor({ timeout: 60000 });
    assert.equal(await p.locator('[data-state=error]').count(), 0, `paragraph ${i}: ${await p.locator('.error-box').textContent()}`);
  }
  assert.match(await paragraphs().nth(0).locator('tbody').textContent(), /records/);
  // Zeppelin's saved chart types came along: a pie and a grouped bar chart.
  assert.equal(await paragraphs().nth(2).locator('[data-mode=pie]').getAttribute('aria-selected'), 'true');
  assert.ok(Number(await paragraphs().nth(2).locator('.chart').getAttribute('data-points')) >= 1);
  assert.equal(await paragraphs().nth(3).locator('[data-mode=bar]').getAttribute('aria-selected'), 'true');
  assert.equal(await paragraphs().nth(3).locator('select[data-role=series]').inputValue(), 'product');
  await paragraphs().nth(2).scrollIntoViewIfNeeded();
  await shot('09-zeppelin-import');
});

test('reload and find everything saved', async () => {
  await page.goto(`${base}/#/n/${encodeURIComponent(notebookId)}`);
  await page.reload();
  await page.locator('h1.title', { hasText: 'Sales dashboard' }).waitFor({ timeout: 10000 });
  const texts = await paragraphs().evaluateAll((els) => els.map((e) => e.querySelector('.editor')?.shadowRoot?.querySelector('.cm-content')?.textContent ?? ''));
  assert.equal(texts.length, 5, texts.join('\n'));
  assert.match(texts[0], /generate_series\(1, 120\)/);
  assert.match(texts[1], /CREATE TABLE records/);
  assert.match(texts[4], /FROM sales_per_minute/);
  // The live paragraph follows again after the reload, as a line chart.
  const live = paragraphs().nth(4);
  assert.equal(await live.locator('[data-action=live]').getAttribute('aria-pressed'), 'true');
  await live.locator('.chart canvas').waitFor({ timeout: 15000 });
  assert.equal(await live.locator('[data-mode=line]').getAttribute('aria-selected'), 'true');
  assert.ok(Number(await live.locator('.chart').getAttribute('data-points')) >= 6);
  await paragraphs().first().locator('[data-action=run]').click();
  await paragraphs().first().locator('[data-mode=line][aria-selected=true]').waitFor();
  await page.click('nav a[href="#/"]');
  await page.locator('.notebook-list li').nth(1).waitFor();
  assert.equal(await page.locator('.notebook-list li').count(), 2);
});

test('notebook list: export, import our export, duplicate, rename, delete', async () => {
  await page.click('nav a[href="#/"]');
  const row = page.locator('.notebook-list li', { hasText: 'Sales dashboard' });
  await row.waitFor();
  const href = await row.locator('a[download]').getAttribute('href');
  const exp = await context.request.get(base + href);
  assert.equal(exp.status(), 200);
  assert.match(exp.headers()['content-disposition'] ?? '', /attachment/);
  const doc = await exp.json();
  assert.equal(doc.paragraphs.length, 5);
  // Import the export back: a second notebook with the same paragraphs.
  await page.setInputFiles('input[type=file]', { name: 'sales.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...doc, name: 'Sales imported' })) });
  await page.locator('h1.title', { hasText: 'Sales imported' }).waitFor({ timeout: 10000 });
  assert.equal(await paragraphs().count(), 5);
  // Markdown is rendered; raw HTML in it is shown as text, never run.
  await page.click('[data-action=add-markdown]');
  await page.keyboard.insertText('## Notes\n<img src="x" onerror="window.__pwned=1"><script>window.__pwned=2</script>\n**bold**');
  await page.keyboard.press('Shift+Enter');
  const md = lastParagraph().locator('.markdown');
  await md.locator('h2', { hasText: 'Notes' }).waitFor();
  assert.equal(await md.locator('strong').textContent(), 'bold');
  assert.equal(await md.locator('script, img, [onerror]').count(), 0);
  assert.match(await md.textContent(), /<img src="x" onerror=/);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await waitSaved();
  // Someone else saves meanwhile: the next save is refused (409) and the page offers a reload.
  const importedId = decodeURIComponent(page.url().split('#/n/')[1]);
  const current = (await api(`/v1/notebooks/${importedId}`)).body;
  const session = await (await context.request.get(base + '/v1/session')).json();
  const put = await context.request.put(`${base}/v1/notebooks/${importedId}`, {
    headers: { 'x-csrf-token': session.csrf_token }, data: { ...current, name: 'Sales imported' } });
  assert.equal(put.status(), 200);
  await paragraphs().first().locator('.cm-content').click();
  await page.keyboard.press('End');
  await page.keyboard.insertText(' -- edited');
  await page.locator('.banner.warning').getByRole('button', { name: 'Reload' }).waitFor({ timeout: 10000 });
  assert.equal(await page.locator('.save-state').getAttribute('data-state'), 'conflict');
  await page.locator('.banner.warning').getByRole('button', { name: 'Reload' }).click();
  await page.locator('h1.title', { hasText: 'Sales imported' }).waitFor({ timeout: 10000 });
  assert.equal(await paragraphs().count(), 6);
  await page.click('nav a[href="#/"]');
  await page.locator('.notebook-list li', { hasText: 'Sales imported' }).locator('[data-action=duplicate]').click();
  const copy = page.locator('.notebook-list li', { hasText: 'Sales imported (copy)' });
  await copy.waitFor({ timeout: 10000 });
  await copy.locator('[data-action=rename]').click();
  await page.locator('dialog input').fill('Scratch');
  await page.click('dialog button.primary');
  const scratch = page.locator('.notebook-list li', { hasText: 'Scratch' });
  await scratch.waitFor({ timeout: 10000 });
  await shot('10-notebook-list');
  for (const name of ['Scratch', 'Sales imported']) {
    await page.locator('.notebook-list li', { hasText: name }).first().locator('[data-action=delete]').click();
    await page.click('dialog button.danger');
    await page.locator('.notebook-list li', { hasText: name }).waitFor({ state: 'detached', timeout: 10000 });
  }
  assert.equal(await page.locator('.notebook-list li').count(), 2);
});

test('dark theme and a narrow window', async () => {
  await page.goto(`${base}/#/n/${encodeURIComponent(notebookId)}`);
  await paragraphs().nth(4).locator('.chart canvas').waitFor({ timeout: 15000 });
  await page.click('[data-action=theme]');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await paragraphs().nth(4).scrollIntoViewIfNeeded();
  await page.waitForTimeout(500);
  await shot('07-dark-theme');
  await page.setViewportSize({ width: 400, height: 800 });
  await page.waitForTimeout(500);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling at 400 px (overflow ${overflow})`);
  await shot('08-narrow');
  await page.click('[data-action=theme]');
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('sign out, then be refused', async () => {
  await page.click('[data-action=sign-out]');
  await page.locator('form.signin').waitFor({ timeout: 10000 });
  const status = await page.evaluate(async () => (await fetch('/v1/notebooks')).status);
  assert.equal(status, 401);
  await page.goto(`${base}/#/n/${encodeURIComponent(notebookId)}`);
  await page.locator('form.signin').waitFor({ timeout: 10000 });
  assert.equal(await paragraphs().count(), 0);
});

test('no CSP violations or page errors', () => {
  assert.deepEqual(problems, []);
});
