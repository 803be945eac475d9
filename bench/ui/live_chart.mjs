// Live chart latency and page memory (issue 19 "Measure"), in headless Chromium.
//
// Latency: a producer sends RATE records/s through PutRecords (durable acknowledgement), in
// batches every 100 ms; every record of batch k carries batch = k. A notebook paragraph
// follows `SELECT batch, n FROM marks ORDER BY batch` (marks = count(*) GROUP BY batch) as a
// line chart, so batch k adds the chart's (k+1)-th point. In the page a MutationObserver on
// the chart's data-points attribute records, at the next animation frame after the chart
// took the new data (i.e. when it is painted), the wall-clock time and the point count.
// Latency of batch k = first paint time with ≥ k+1 points − the PutRecords acknowledgement
// time of batch k (same machine clock).
//
// Memory: then a second paragraph follows a bounded view (60 rows, every row changing) as a
// bar chart for MINUTES while the producer keeps going; every 30 s the page's JS heap is
// measured after a forced GC (CDP HeapProfiler.collectGarbage + Runtime.getHeapUsage).
//
//   STREAMLAKE_BIN=build/release/streamlake node bench/ui/live_chart.mjs [--rate 1000]
//       [--seconds 60] [--minutes 10] [--live-interval 100]
import { chromium } from 'playwright-core';
import { KinesisClient, CreateStreamCommand, PutRecordsCommand, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { parseArgs } from 'node:util';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../test/ui/harness.mjs';

const { values: opt } = parseArgs({ options: {
  rate: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '60' },
  minutes: { type: 'string', default: '10' }, chromium: { type: 'string', default: '/usr/bin/chromium' },
  'live-interval': { type: 'string' },  // [ui] live_interval_ms (server default 250)
} });
const RATE = Number(opt.rate), SECONDS = Number(opt.seconds), MINUTES = Number(opt.minutes);
const TICK_MS = 100;
const PER_TICK = Math.round(RATE * TICK_MS / 1000);

let configDir = null;
const serverArgs = [];
if (opt['live-interval']) {
  configDir = mkdtempSync(join(tmpdir(), 'sl-ui-bench-'));
  writeFileSync(join(configDir, 'streamlake.toml'), `[ui]\nlive_interval_ms = ${Number(opt['live-interval'])}\n`);
  serverArgs.push('--config', join(configDir, 'streamlake.toml'));
}
const server = await startServer(process.env.STREAMLAKE_BIN, serverArgs);
console.log(`[ui] live_interval_ms: ${opt['live-interval'] ?? '250 (default)'}`);
const { base, creds } = server;
const auth = 'Basic ' + Buffer.from(`admin:${creds.secretAccessKey}`).toString('base64');
async function sql(text) {
  const r = await fetch(base + '/v1/sql', { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ sql: text }) });
  const doc = await r.json();
  if (doc.error) throw new Error(`${text}: ${doc.error.message}`);
  return doc;
}
const kinesis = new KinesisClient({ endpoint: base, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
let browser;
try {
  await kinesis.send(new CreateStreamCommand({ StreamName: 'bench', ShardCount: 2 }));
  await waitUntilStreamExists({ client: kinesis, minDelay: 1, maxWaitTime: 60 }, { StreamName: 'bench' });
  await sql("CREATE TABLE marks_src (batch int, v int) WITH (connector = 'kinesis', stream = 'bench', format = 'csv')");
  await sql('CREATE MATERIALIZED VIEW marks AS SELECT batch, count(*) AS n FROM marks_src GROUP BY batch');
  await sql('CREATE MATERIALIZED VIEW recent AS SELECT batch % 60 AS slot, count(*) AS n, max(batch) AS last FROM marks_src GROUP BY 1');

  browser = await chromium.launch({ executablePath: opt.chromium, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const session = await (await context.request.post(base + '/v1/session', { data: { user: 'admin', password: creds.secretAccessKey } })).json();
  const mk = async (name, text, view) => (await (await context.request.post(base + '/v1/notebooks', {
    headers: { 'x-csrf-token': session.csrf_token },
    data: { name, paragraphs: [{ id: crypto.randomUUID(), type: 'sql', text, view, live: true, unsupported: null }] },
  })).json()).id;
  const latencyNb = await mk('bench latency', 'SELECT batch, n FROM marks ORDER BY batch', { mode: 'line', x: 'batch', y: ['n'], series: null, stacked: false });
  const memoryNb = await mk('bench memory', 'SELECT slot, n, last FROM recent ORDER BY slot', { mode: 'bar', x: 'slot', y: ['n'], series: null, stacked: false });
  // Also time each live result's arrival (SSE event) in the page, to split the latency into
  // server (ack → event) and page (event → paint).
  await context.addInitScript(() => {
    window.__events = [];
    const add = EventSource.prototype.addEventListener;
    EventSource.prototype.addEventListener = function (type, fn, o) {
      if (type !== 'result') return add.call(this, type, fn, o);
      return add.call(this, type, (ev) => {
        window.__events.push([Date.now(), JSON.parse(ev.data).row_count]);
        fn(ev);
      }, o);
    };
  });
  const page = await context.newPage();
  await page.goto(`${base}/#/n/${latencyNb}`);
  await page.locator('.chart').waitFor({ timeout: 30000 });
  await page.evaluate(() => {
    const el = document.querySelector('.chart');
    window.__paints = [];
    new MutationObserver(() => {
      const n = Number(el.dataset.points);
      requestAnimationFrame(() => window.__paints.push([Date.now(), n]));
    }).observe(el, { attributes: true, attributeFilter: ['data-points'] });
  });

  // Producer: batch k at start + k·100 ms (no coordinated omission: a late batch's latency
  // still counts from its acknowledgement, and the schedule does not slip).
  const acks = [];
  let batch = 0, stopProducing = false, failed = 0;
  const producer = (async () => {
    const start = Date.now();
    const inflight = new Set();
    while (!stopProducing) {
      const k = batch++;
      const due = start + k * TICK_MS;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const p = kinesis.send(new PutRecordsCommand({
        StreamName: 'bench',
        Records: Array.from({ length: PER_TICK }, (_, i) => ({ Data: Buffer.from(`${k},${i}`), PartitionKey: `p${i}` })),
      })).then((r) => { acks[k] = Date.now(); failed += r.FailedRecordCount; }).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
  })();

  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const latencyBatches = batch;
  await new Promise((r) => setTimeout(r, 3000));
  const paints = await page.evaluate(() => window.__paints);
  const events = await page.evaluate(() => window.__events);
  // For each batch: the first sample (time, count) whose count shows it.
  const latencies = (samples) => {
    const out = [];
    let j = 0;
    for (let k = 0; k < latencyBatches; k++) {
      if (acks[k] === undefined) continue;
      while (j < samples.length && samples[j][1] < k + 1) j++;
      if (j === samples.length) break;
      out.push(samples[j][0] - acks[k]);
    }
    return out.sort((a, b) => a - b);
  };
  const summary = (lat) => {
    const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
    return `p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, p99 ${pct(0.99)} ms, max ${lat[lat.length - 1]} ms (${lat.length} batches)`;
  };
  console.log(`latency: ${latencyBatches} batches (${latencyBatches * PER_TICK} records at ${RATE}/s, ${failed} failed), ` +
    `${events.length} live results, ${paints.length} paints`);
  console.log(`latency ack → point painted: ${summary(latencies(paints))}`);
  console.log(`latency ack → live result received by the page: ${summary(latencies(events))}`);

  // Memory: the bounded view, for MINUTES.
  await page.goto(`${base}/#/n/${memoryNb}`);
  await page.locator('.chart').waitFor({ timeout: 30000 });
  const cdp = await context.newCDPSession(page);
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  const samples = [];
  const t0 = Date.now();
  const updates0 = Number(await page.locator('section.paragraph').getAttribute('data-epoch'));
  for (;;) {
    samples.push([(Date.now() - t0) / 60000, await heap()]);
    if (Date.now() - t0 >= MINUTES * 60000) break;
    await new Promise((r) => setTimeout(r, 30000));
  }
  const epochs = Number(await page.locator('section.paragraph').getAttribute('data-epoch')) - updates0;
  stopProducing = true;
  await producer;
  const mb = (b) => (b / 1048576).toFixed(2);
  console.log(`memory: ${MINUTES} min following a 60-row bar chart, ${epochs} epochs pushed; JS heap after GC (MiB): ` +
    samples.map(([m, b]) => `${m.toFixed(1)}m ${mb(b)}`).join(', '));
  const first = samples[1]?.[1] ?? samples[0][1], last = samples[samples.length - 1][1];
  console.log(`memory: from ${mb(first)} MiB at 0.5 min to ${mb(last)} MiB at ${MINUTES} min (max ${mb(Math.max(...samples.map((s) => s[1])))} MiB)`);
} finally {
  await browser?.close();
  kinesis.destroy();
  await server.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
}
