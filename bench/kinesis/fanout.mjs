// Enhanced fan-out benchmark: one producer at RATE records/s (PutRecords of 500 × ~100 B,
// each record carrying its send time) into a SHARDS-shard stream, SUBSCRIBERS registered
// consumers each subscribed to every shard (SubscribeToShard over HTTP/2, the SDK's
// default handler), and beside them one polling consumer per shard (GetRecords 5 calls/s).
// Prints, per reader kind: records/s delivered per reader and put→delivery latency p50/p99
// (delivery time minus the record's scheduled send time: no coordinated omission).
//
//   STREAMLAKE_BIN=build/release/streamlake node bench/kinesis/fanout.mjs
// Env: RATE (50000), SHARDS (4), SUBSCRIBERS (1), DURATION (10 s), ENDPOINT (start a
// server when unset; then --no-fsync is NOT used: durable acknowledgement).
import {
  KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand,
  RegisterStreamConsumerCommand, DescribeStreamConsumerCommand, SubscribeToShardCommand,
  GetShardIteratorCommand, GetRecordsCommand, waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { startServer } from '../../test/kinesis/server.mjs';

const RATE = Number(process.env.RATE ?? 50000);
const SHARDS = Number(process.env.SHARDS ?? 4);
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1);
const DURATION = Number(process.env.DURATION ?? 10) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let done = false;

const server = await startServer('sl-bench-fanout-');
const mk = () => new KinesisClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: server.creds, maxAttempts: 3 });
const kin = mk();
const name = `fanout-${process.pid}`;
await kin.send(new CreateStreamCommand({ StreamName: name, ShardCount: SHARDS }));
await waitUntilStreamExists({ client: kin, minDelay: 1, maxWaitTime: 60 }, { StreamName: name });
const arn = (await kin.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary.StreamARN;
const shardIds = Array.from({ length: SHARDS }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);

class Stats {
  constructor() { this.lat = []; this.n = 0; }
  add(sentMs, now) { this.n++; if (this.lat.length < 2e6) this.lat.push(now - sentMs); }
  pct(p) { if (!this.lat.length) return NaN; const s = Float64Array.from(this.lat).sort(); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; }
}
const sentOf = (data) => Number(Buffer.from(data).subarray(0, 13).toString());

// EFO subscribers: one client (HTTP/2 session) per subscriber, a subscription per shard,
// renewed from the continuation when one ends.
const efo = [];
for (let s = 0; s < SUBSCRIBERS; s++) {
  const c = (await kin.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: `c${s}` }))).Consumer;
  while ((await kin.send(new DescribeStreamConsumerCommand({ ConsumerARN: c.ConsumerARN }))).ConsumerDescription.ConsumerStatus !== 'ACTIVE') await sleep(50);
  const stats = new Stats();
  const client = mk();
  efo.push({ stats, client });
  for (const shard of shardIds) {
    (async () => {
      let pos = { Type: 'LATEST' };
      while (!done) {
        const r = await client.send(new SubscribeToShardCommand({ ConsumerARN: c.ConsumerARN, ShardId: shard, StartingPosition: pos }));
        for await (const ev of r.EventStream) {
          const e = ev.SubscribeToShardEvent;
          if (!e) continue;
          const now = Date.now();
          for (const rec of e.Records) stats.add(sentOf(rec.Data), now);
          if (e.ContinuationSequenceNumber) pos = { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: e.ContinuationSequenceNumber };
          if (done) break;
        }
        await sleep(5100);  // AWS's one subscription per consumer and shard per 5 s
      }
    })().catch((e) => { if (!done) console.error('subscriber', e.name, e.message); });
  }
}
// Polling consumers: GetRecords every 200 ms per shard.
const poll = new Stats();
const pollClient = mk();
for (const shard of shardIds) {
  (async () => {
    let it = (await pollClient.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard, ShardIteratorType: 'LATEST' }))).ShardIterator;
    while (!done) {
      const t0 = Date.now();
      const r = await pollClient.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      const now = Date.now();
      for (const rec of r.Records) poll.add(sentOf(rec.Data), now);
      it = r.NextShardIterator;
      await sleep(Math.max(0, 200 - (Date.now() - t0)));
    }
  })().catch((e) => { if (!done) console.error('poller', e.name, e.message); });
}
await sleep(1000);

// Producer: batches of 500 on a fixed schedule; each record's data starts with its
// scheduled send time (ms) so latency counts queueing in the producer too.
let produced = 0, failed = 0;
const prodClients = Array.from({ length: 4 }, mk);
const t0 = Date.now();
const batchMs = 500 / RATE * 1000;
let inflight = 0, k = 0;
const pad = 'x'.repeat(80);
while (Date.now() - t0 < DURATION) {
  const due = t0 + k * batchMs;
  const wait = due - Date.now();
  if (wait > 0) await sleep(wait);
  const sent = String(Math.round(due)).padStart(13, '0');
  const recs = Array.from({ length: 500 }, (_, i) => ({ Data: Buffer.from(`${sent}|${k}|${i}|${pad}`), PartitionKey: `k${(k * 500 + i) % 10007}` }));
  inflight++;
  prodClients[k % prodClients.length].send(new PutRecordsCommand({ StreamName: name, Records: recs }))
    .then((r) => { produced += 500 - r.FailedRecordCount; failed += r.FailedRecordCount; })
    .catch(() => { failed += 500; })
    .finally(() => { inflight--; });
  k++;
}
const elapsed = (Date.now() - t0) / 1000;
while (inflight > 0) await sleep(10);
await sleep(2000);  // let readers catch up
done = true;

const fmt = (x) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '-');
console.log(`fan-out: ${SHARDS} shards, offered ${RATE} records/s for ${elapsed.toFixed(1)} s; acknowledged ${(produced / elapsed).toFixed(0)}/s, failed ${failed}`);
console.log('| reader | records | records/s per reader | p50 | p99 |');
console.log('|---|---|---|---|---|');
efo.forEach((e, i) => console.log(`| EFO subscriber ${i + 1} | ${e.stats.n} | ${(e.stats.n / elapsed).toFixed(0)} | ${fmt(e.stats.pct(0.5))} | ${fmt(e.stats.pct(0.99))} |`));
console.log(`| GetRecords polling (5/s per shard) | ${poll.n} | ${(poll.n / elapsed).toFixed(0)} | ${fmt(poll.pct(0.5))} | ${fmt(poll.pct(0.99))} |`);
for (const c of [kin, pollClient, ...prodClients, ...efo.map((e) => e.client)]) c.destroy();
await server.stop();
process.exit(0);
