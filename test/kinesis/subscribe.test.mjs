// SubscribeToShard (enhanced fan-out) with @aws-sdk/client-kinesis over its default HTTP/2
// handler (cleartext, prior knowledge): the event stream from TRIM_HORIZON, LATEST,
// AT_SEQUENCE_NUMBER / AFTER_SEQUENCE_NUMBER and AT_TIMESTAMP carries exactly the records
// put, in order; across a shard split the parent's stream ends with ChildShards and the
// children's streams carry the rest; a second subscription of the same consumer and shard
// within 5 s is refused (ResourceInUseException); errors for unknown consumers and shards.
// Run: STREAMLAKE_BIN=build/.../streamlake node --test test/kinesis/subscribe.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordCommand,
  PutRecordsCommand, ListShardsCommand, SplitShardCommand, RegisterStreamConsumerCommand,
  DescribeStreamConsumerCommand, SubscribeToShardCommand, waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { startServer } from './server.mjs';

let server, endpoint, creds, kin;

function client(credentials = creds) {
  return new KinesisClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

before(async () => {
  server = await startServer('sl-js-sub-');
  ({ endpoint, creds } = server);
  kin = client();
});

after(async () => {
  kin?.destroy();
  await server?.stop();
});

let counter = 0;
const uniqueName = (p) => `${p}-${process.pid}-${Date.now() % 1000000}-${counter++}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function createStream(name, shards) {
  await kin.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitUntilStreamExists({ client: kin, minDelay: 1, maxWaitTime: 60 }, { StreamName: name });
  const d = await kin.send(new DescribeStreamSummaryCommand({ StreamName: name }));
  return d.StreamDescriptionSummary.StreamARN;
}

async function registerConsumer(streamArn, name) {
  const c = (await kin.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }))).Consumer;
  for (let i = 0; i < 200; i++) {
    const d = await kin.send(new DescribeStreamConsumerCommand({ ConsumerARN: c.ConsumerARN }));
    if (d.ConsumerDescription.ConsumerStatus === 'ACTIVE') return c.ConsumerARN;
    await sleep(50);
  }
  throw new Error('consumer not ACTIVE');
}

// Subscribes and collects events until `until(state)` is true or the stream ends.
async function subscribe(consumerArn, shardId, position, until = () => false, timeoutMs = 20000) {
  const resp = await kin.send(new SubscribeToShardCommand({
    ConsumerARN: consumerArn, ShardId: shardId, StartingPosition: position,
  }));
  const state = { records: [], events: 0, childShards: null, continuation: null, ended: false };
  const timer = setTimeout(() => { state.timedOut = true; }, timeoutMs);
  timer.unref();
  try {
    for await (const ev of resp.EventStream) {
      if (state.timedOut) break;
      const e = ev.SubscribeToShardEvent;
      assert.ok(e, `unexpected event ${JSON.stringify(Object.keys(ev))}`);
      state.events++;
      for (const r of e.Records) state.records.push({ data: Buffer.from(r.Data).toString(), seq: r.SequenceNumber, at: r.ApproximateArrivalTimestamp });
      state.continuation = e.ContinuationSequenceNumber ?? null;
      assert.equal(typeof e.MillisBehindLatest, 'number');
      if (e.ChildShards && e.ChildShards.length) state.childShards = e.ChildShards;
      if (until(state)) return state;
    }
    state.ended = true;
    return state;
  } finally {
    clearTimeout(timer);
  }
}

async function putAll(name, datas, key = (i) => `k${i}`) {
  const out = [];
  for (let i = 0; i < datas.length; i += 100) {
    const chunk = datas.slice(i, i + 100);
    const r = await kin.send(new PutRecordsCommand({
      StreamName: name, Records: chunk.map((d, j) => ({ Data: Buffer.from(d), PartitionKey: key(i + j) })),
    }));
    assert.equal(r.FailedRecordCount, 0);
    out.push(...r.Records);
  }
  return out;
}

test('TRIM_HORIZON: exactly the records put, in order, then records put while subscribed', async () => {
  const name = uniqueName('sub-th');
  const arn = await createStream(name, 1);
  const consumer = await registerConsumer(arn, 'c1');
  const first = Array.from({ length: 300 }, (_, i) => `a${i}`);
  await putAll(name, first);
  const later = Array.from({ length: 50 }, (_, i) => `b${i}`);
  let putLater = null;
  const st = await subscribe(consumer, 'shardId-000000000000', { Type: 'TRIM_HORIZON' }, (s) => {
    if (s.records.length >= first.length && !putLater) putLater = putAll(name, later);
    return s.records.length >= first.length + later.length;
  });
  await putLater;
  assert.deepEqual(st.records.map((r) => r.data), [...first, ...later]);
  const seqs = st.records.map((r) => BigInt(r.seq));
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], 'sequence numbers increase');
  assert.equal(st.continuation, st.records.at(-1).seq);
  assert.ok(st.records[0].at instanceof Date);
});

test('LATEST: only records put after subscribing; AFTER_SEQUENCE_NUMBER resumes', async () => {
  const name = uniqueName('sub-latest');
  const arn = await createStream(name, 1);
  const consumer = await registerConsumer(arn, 'c1');
  await putAll(name, ['old1', 'old2']);
  const fresh = Array.from({ length: 20 }, (_, i) => `new${i}`);
  let started = false;
  const resp = await kin.send(new SubscribeToShardCommand({
    ConsumerARN: consumer, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'LATEST' },
  }));
  const got = [];
  let lastSeq = null;
  const t0 = Date.now();
  for await (const ev of resp.EventStream) {
    if (!started) { started = true; await putAll(name, fresh); }
    for (const r of ev.SubscribeToShardEvent?.Records ?? []) { got.push(Buffer.from(r.Data).toString()); lastSeq = r.SequenceNumber; }
    if (got.length >= fresh.length || Date.now() - t0 > 20000) break;
  }
  assert.deepEqual(got, fresh);
  // a new subscription of another consumer from AFTER_SEQUENCE_NUMBER of the 10th record
  const c2 = await registerConsumer(arn, 'c2');
  const tenth = await subscribe(c2, 'shardId-000000000000', { Type: 'TRIM_HORIZON' }, (s) => s.records.length >= 12);
  const seq10 = tenth.records[11].seq;  // old1, old2, new0..new9
  await sleep(5100);  // AWS: one subscription per consumer and shard per 5 s
  const rest = await subscribe(c2, 'shardId-000000000000', { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seq10 },
    (s) => s.records.length >= 10);
  assert.deepEqual(rest.records.map((r) => r.data), fresh.slice(10));
  await sleep(5100);
  const at = await subscribe(c2, 'shardId-000000000000', { Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: seq10 },
    (s) => s.records.length >= 11);
  assert.deepEqual(at.records.map((r) => r.data), fresh.slice(9));
});

test('across a split: the parent stream ends with ChildShards, the children carry the rest', async () => {
  const name = uniqueName('sub-split');
  const arn = await createStream(name, 1);
  const consumer = await registerConsumer(arn, 'c1');
  const before1 = Array.from({ length: 100 }, (_, i) => `p${i}`);
  await putAll(name, before1);
  let split = null;
  const parent = await subscribe(consumer, 'shardId-000000000000', { Type: 'TRIM_HORIZON' }, (s) => {
    if (s.records.length >= before1.length && !split) {
      split = kin.send(new SplitShardCommand({
        StreamName: name, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (1n << 127n).toString(),
      }));
    }
    return false;  // until the stream ends
  });
  await split;
  assert.ok(parent.ended, 'the parent subscription ended');
  assert.deepEqual(parent.records.map((r) => r.data), before1);
  assert.deepEqual(parent.childShards.map((c) => c.ShardId).sort(), ['shardId-000000000001', 'shardId-000000000002']);
  for (const c of parent.childShards) assert.deepEqual(c.ParentShards, ['shardId-000000000000']);
  assert.equal(parent.continuation, null);
  // records after the split go to the children; each child's stream has exactly its own
  for (let i = 0; i < 100; i++) {
    for (let t = 0; t < 100; t++) {
      try { await kin.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from(`c${i}`), PartitionKey: `k${i}` })); break; } catch (e) {
        if (e.name !== 'ResourceNotFoundException' && e.name !== 'ResourceInUseException') throw e;
        await sleep(50);
      }
    }
  }
  const shards = (await kin.send(new ListShardsCommand({ StreamName: name }))).Shards;
  const want = new Map();
  const { createHash } = await import('node:crypto');
  for (let i = 0; i < 100; i++) {
    const h = BigInt('0x' + createHash('md5').update(`k${i}`).digest('hex'));
    const sh = shards.find((s) => !s.SequenceNumberRange.EndingSequenceNumber &&
      BigInt(s.HashKeyRange.StartingHashKey) <= h && h <= BigInt(s.HashKeyRange.EndingHashKey));
    if (!want.has(sh.ShardId)) want.set(sh.ShardId, []);
    want.get(sh.ShardId).push(`c${i}`);
  }
  let total = 0;
  for (const child of parent.childShards) {
    const expected = want.get(child.ShardId) ?? [];
    const st = await subscribe(consumer, child.ShardId, { Type: 'TRIM_HORIZON' }, (s) => s.records.length >= expected.length, 10000);
    assert.deepEqual(st.records.map((r) => r.data), expected);
    total += st.records.length;
  }
  assert.equal(total, 100);
});

test('a second subscription within 5 s is refused; errors for unknown consumer and shard', async () => {
  const name = uniqueName('sub-busy');
  const arn = await createStream(name, 2);
  const consumer = await registerConsumer(arn, 'c1');
  const first = await kin.send(new SubscribeToShardCommand({
    ConsumerARN: consumer, ShardId: 'shardId-000000000001', StartingPosition: { Type: 'LATEST' },
  }));
  await assert.rejects(kin.send(new SubscribeToShardCommand({
    ConsumerARN: consumer, ShardId: 'shardId-000000000001', StartingPosition: { Type: 'LATEST' },
  })), (e) => e.name === 'ResourceInUseException');
  // another shard of the same consumer is fine
  const other = await kin.send(new SubscribeToShardCommand({
    ConsumerARN: consumer, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'TRIM_HORIZON' },
  }));
  await assert.rejects(kin.send(new SubscribeToShardCommand({
    ConsumerARN: consumer, ShardId: 'shardId-000000000009', StartingPosition: { Type: 'LATEST' },
  })), (e) => e.name === 'ResourceNotFoundException');
  await assert.rejects(kin.send(new SubscribeToShardCommand({
    ConsumerARN: `${arn}/consumer/nobody:1700000000`, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'LATEST' },
  })), (e) => e.name === 'ResourceNotFoundException');
  await assert.rejects(kin.send(new SubscribeToShardCommand({
    ConsumerARN: consumer, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'AT_SEQUENCE_NUMBER' },
  })), (e) => e.name === 'InvalidArgumentException');
  // after 5 s a new subscription takes over; the old one ends with ResourceInUseException
  await sleep(5100);
  const events = [];
  const drain = (async () => {
    try { for await (const ev of first.EventStream) events.push(ev); } catch (e) { events.push({ error: e.name }); }
  })();
  const second = await kin.send(new SubscribeToShardCommand({
    ConsumerARN: consumer, ShardId: 'shardId-000000000001', StartingPosition: { Type: 'LATEST' },
  }));
  await Promise.race([drain, new Promise((r) => setTimeout(r, 10000).unref())]);
  assert.ok(events.some((e) => e.error === 'ResourceInUseException'), JSON.stringify(events));
  for (const r of [second, other]) r.EventStream.return?.();
});

test('over TLS: h2 by ALPN carries the event stream', async () => {
  const tlsServer = await startServer('sl-js-sub-tls-', { tls: true });
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  // Trust exactly the server's self-signed certificate (the SDK's HTTP/2 handler takes
  // no CA option; tls.connect builds its context with tls.createSecureContext).
  const ca = readFileSync(join(tlsServer.dataDir, 'tls', 'cert.pem'));
  const tls = (await import('node:tls')).default;
  const origCreate = tls.createSecureContext;
  tls.createSecureContext = (opts = {}) => origCreate({ ...opts, ca });
  const k = new KinesisClient({ endpoint: tlsServer.endpoint, region: 'us-east-1', credentials: tlsServer.creds, maxAttempts: 1 });
  try {
    const name = uniqueName('sub-tls');
    await k.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    await waitUntilStreamExists({ client: k, minDelay: 1, maxWaitTime: 60 }, { StreamName: name });
    const arn = (await k.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary.StreamARN;
    const c = (await k.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'tls' }))).Consumer;
    while ((await k.send(new DescribeStreamConsumerCommand({ ConsumerARN: c.ConsumerARN }))).ConsumerDescription.ConsumerStatus !== 'ACTIVE') await sleep(50);
    await k.send(new PutRecordsCommand({ StreamName: name, Records: ['t1', 't2'].map((d) => ({ Data: Buffer.from(d), PartitionKey: d })) }));
    const r = await k.send(new SubscribeToShardCommand({ ConsumerARN: c.ConsumerARN, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'TRIM_HORIZON' } }));
    const got = [];
    for await (const ev of r.EventStream) {
      for (const rec of ev.SubscribeToShardEvent?.Records ?? []) got.push(Buffer.from(rec.Data).toString());
      if (got.length >= 2) break;
    }
    assert.deepEqual(got, ['t1', 't2']);
  } finally {
    tls.createSecureContext = origCreate;
    k.destroy();
    await tlsServer.stop();
  }
});
