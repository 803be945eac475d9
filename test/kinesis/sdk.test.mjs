// @aws-sdk/client-kinesis (JavaScript v3) against `streamlake serve`, with the client's
// default request handler: NodeHttp2Handler, i.e. every call over cleartext HTTP/2 with prior
// knowledge. Run: STREAMLAKE_BIN=build/.../streamlake node --test test/kinesis/sdk.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  KinesisClient, CreateStreamCommand, DescribeStreamCommand, DescribeStreamSummaryCommand,
  PutRecordCommand, PutRecordsCommand, GetShardIteratorCommand, GetRecordsCommand,
  ListStreamsCommand, ListShardsCommand, SplitShardCommand, MergeShardsCommand, DeleteStreamCommand,
  AddTagsToStreamCommand, ListTagsForStreamCommand, waitUntilStreamExists, waitUntilStreamNotExists,
  paginateListStreams,
} from '@aws-sdk/client-kinesis';
import { startServer } from './server.mjs';

const MAX_HASH = (1n << 128n) - 1n;
let server, endpoint, creds, kin;

function client(credentials = creds) {
  return new KinesisClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

before(async () => {
  server = await startServer('sl-js-sdk-');
  ({ endpoint, creds } = server);
  kin = client();
});

after(async () => {
  kin?.destroy();
  await server?.stop();
});

let counter = 0;
const uniqueName = (p) => `${p}-${process.pid}-${Date.now() % 1000000}-${counter++}`;

async function createStream(name, shards) {
  await kin.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitUntilStreamExists({ client: kin, minDelay: 1, maxWaitTime: 60 }, { StreamName: name });
}

async function readShard(name, shardId, type = 'TRIM_HORIZON', extra = {}) {
  let it = (await kin.send(new GetShardIteratorCommand({
    StreamName: name, ShardId: shardId, ShardIteratorType: type, ...extra,
  }))).ShardIterator;
  const out = [];
  for (let i = 0; i < 1000; i++) {
    const r = await kin.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
    out.push(...r.Records);
    it = r.NextShardIterator;
    if (!it || (r.Records.length === 0 && r.MillisBehindLatest === 0)) return { records: out, last: r };
  }
  throw new Error('shard not drained');
}

async function expectError(promise, name) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, name, `expected ${name}, got ${e.name}: ${e.message}`);
    assert.ok(e.$metadata.httpStatusCode >= 400 && e.$metadata.httpStatusCode < 500, `status ${e.$metadata.httpStatusCode}`);
    return true;
  });
}

const text = (u8) => Buffer.from(u8).toString();
const md5Key = (pk) => BigInt('0x' + createHash('md5').update(pk, 'utf8').digest('hex'));

test('the client talks HTTP/2 (default handler, not swapped)', () => {
  assert.equal(kin.config.requestHandler.constructor.name, 'NodeHttp2Handler');
});

test('create, describe, put single and batch, every iterator type, get', async () => {
  const name = uniqueName('js-rt');
  await createStream(name, 2);
  const d = (await kin.send(new DescribeStreamCommand({ StreamName: name }))).StreamDescription;
  assert.equal(d.StreamStatus, 'ACTIVE');
  assert.equal(d.Shards.length, 2);
  const single = await kin.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from('one'), PartitionKey: 'p' }));
  assert.match(single.SequenceNumber, /^\d+$/);
  const shard = single.ShardId;
  const batch = await kin.send(new PutRecordsCommand({
    StreamName: name,
    Records: Array.from({ length: 300 }, (_, i) => ({ Data: Buffer.from(`b${i}`), PartitionKey: `k${i}` })),
  }));
  assert.equal(batch.FailedRecordCount, 0);
  assert.equal(batch.Records.length, 300);
  for (const [i, r] of batch.Records.entries()) {
    const s = d.Shards.find((x) => BigInt(x.HashKeyRange.StartingHashKey) <= md5Key(`k${i}`)
      && md5Key(`k${i}`) <= BigInt(x.HashKeyRange.EndingHashKey));
    assert.equal(r.ShardId, s.ShardId, `record ${i} routed by MD5(partition key)`);
  }
  const mine = [single.SequenceNumber, ...batch.Records.filter((r) => r.ShardId === shard).map((r) => r.SequenceNumber)];
  const { records, last } = await readShard(name, shard);
  assert.deepEqual(records.map((r) => r.SequenceNumber), mine);
  assert.equal(text(records[0].Data), 'one');
  assert.ok(records[0].ApproximateArrivalTimestamp instanceof Date);
  assert.equal(last.MillisBehindLatest, 0);
  // AT_SEQUENCE_NUMBER / AFTER_SEQUENCE_NUMBER
  assert.deepEqual((await readShard(name, shard, 'AT_SEQUENCE_NUMBER', { StartingSequenceNumber: mine[3] }))
    .records.map((r) => r.SequenceNumber), mine.slice(3));
  assert.deepEqual((await readShard(name, shard, 'AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: mine[3] }))
    .records.map((r) => r.SequenceNumber), mine.slice(4));
  // LATEST, then a new record
  const latest = (await kin.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard, ShardIteratorType: 'LATEST' }))).ShardIterator;
  const empty = await kin.send(new GetRecordsCommand({ ShardIterator: latest }));
  assert.equal(empty.Records.length, 0);
  const late = await kin.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from('late'), PartitionKey: 'p' }));
  const after = await kin.send(new GetRecordsCommand({ ShardIterator: empty.NextShardIterator }));
  assert.deepEqual(after.Records.map((r) => text(r.Data)), ['late']);
  // AT_TIMESTAMP (the JS SDK sends milliseconds): exactly the records that arrived at or after it
  const everything = (await readShard(name, shard)).records;
  const t = after.Records[0].ApproximateArrivalTimestamp.getTime();
  const atTs = await readShard(name, shard, 'AT_TIMESTAMP', { Timestamp: new Date(t) });
  assert.deepEqual(atTs.records.map((r) => r.SequenceNumber),
    everything.filter((r) => r.ApproximateArrivalTimestamp.getTime() >= t).map((r) => r.SequenceNumber));
  assert.equal(atTs.records[atTs.records.length - 1].SequenceNumber, late.SequenceNumber);
  const all = await readShard(name, shard, 'AT_TIMESTAMP', { Timestamp: new Date('2001-01-01T00:00:00Z') });
  assert.equal(all.records.length, mine.length + 1);
});

test('list streams and shards with paging', async () => {
  const prefix = uniqueName('js-ls');
  const names = [0, 1, 2, 3].map((i) => `${prefix}-${i}`);
  for (const n of names) await kin.send(new CreateStreamCommand({ StreamName: n, ShardCount: 1 }));
  for (const n of names) await waitUntilStreamExists({ client: kin, minDelay: 1, maxWaitTime: 60 }, { StreamName: n });
  const seen = [];
  let pages = 0;
  for await (const page of paginateListStreams({ client: kin, pageSize: 1 }, {})) {
    pages++;
    assert.ok(page.StreamNames.length <= 1);
    seen.push(...page.StreamNames);
  }
  assert.ok(pages >= 4, `pages: ${pages}`);
  for (const n of names) assert.ok(seen.includes(n), n);
  const first = await kin.send(new ListStreamsCommand({ Limit: 2 }));
  assert.equal(first.HasMoreStreams, true);
  const second = await kin.send(new ListStreamsCommand({ Limit: 2, NextToken: first.NextToken }));
  assert.deepEqual([...first.StreamNames, ...second.StreamNames], seen.slice(0, 4));

  const name = uniqueName('js-shards');
  await createStream(name, 3);
  const p1 = await kin.send(new ListShardsCommand({ StreamName: name, MaxResults: 2 }));
  assert.equal(p1.Shards.length, 2);
  assert.ok(p1.NextToken);
  const p2 = await kin.send(new ListShardsCommand({ NextToken: p1.NextToken, MaxResults: 2 }));
  assert.deepEqual([...p1.Shards, ...p2.Shards].map((s) => s.ShardId),
    ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
  assert.ok(!p2.NextToken);
});

test('split, merge, tags, delete', async () => {
  const name = uniqueName('js-reshard');
  await createStream(name, 1);
  await kin.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from('before'), PartitionKey: 'p' }));
  await kin.send(new SplitShardCommand({ StreamName: name, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (1n << 127n).toString() }));
  await waitUntilStreamExists({ client: kin, minDelay: 1, maxWaitTime: 60 }, { StreamName: name });
  let shards = (await kin.send(new ListShardsCommand({ StreamName: name }))).Shards;
  assert.equal(shards.length, 3);
  const kids = shards.filter((s) => s.ParentShardId === 'shardId-000000000000')
    .sort((a, b) => (BigInt(a.HashKeyRange.StartingHashKey) < BigInt(b.HashKeyRange.StartingHashKey) ? -1 : 1));
  assert.equal(kids.length, 2);
  assert.equal(kids[1].HashKeyRange.EndingHashKey, MAX_HASH.toString());
  const parent = await readShard(name, 'shardId-000000000000');
  assert.deepEqual(parent.records.map((r) => text(r.Data)), ['before']);
  assert.equal(parent.last.NextShardIterator, undefined, 'a drained closed shard has no next iterator');
  await kin.send(new MergeShardsCommand({ StreamName: name, ShardToMerge: kids[0].ShardId, AdjacentShardToMerge: kids[1].ShardId }));
  await waitUntilStreamExists({ client: kin, minDelay: 1, maxWaitTime: 60 }, { StreamName: name });
  const summary = (await kin.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary;
  assert.equal(summary.OpenShardCount, 1);
  shards = (await kin.send(new ListShardsCommand({ StreamName: name }))).Shards;
  const merged = shards.find((s) => s.AdjacentParentShardId);
  assert.ok(merged, 'merged shard has AdjacentParentShardId');
  const r = await kin.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from('after'), PartitionKey: 'p' }));
  assert.equal(r.ShardId, merged.ShardId);

  await kin.send(new AddTagsToStreamCommand({ StreamName: name, Tags: { a: '1', b: '2' } }));
  const tags = (await kin.send(new ListTagsForStreamCommand({ StreamName: name }))).Tags;
  assert.deepEqual(tags.map((t) => [t.Key, t.Value]), [['a', '1'], ['b', '2']]);

  await kin.send(new DeleteStreamCommand({ StreamName: name }));
  await waitUntilStreamNotExists({ client: kin, minDelay: 1, maxWaitTime: 60 }, { StreamName: name });
  await expectError(kin.send(new DescribeStreamCommand({ StreamName: name })), 'ResourceNotFoundException');
});

test('error cases', async () => {
  await expectError(kin.send(new DescribeStreamCommand({ StreamName: 'js-no-such-stream' })), 'ResourceNotFoundException');
  await expectError(kin.send(new PutRecordCommand({ StreamName: 'js-no-such-stream', Data: Buffer.from('x'), PartitionKey: 'k' })),
    'ResourceNotFoundException');
  const name = uniqueName('js-err');
  await createStream(name, 1);
  await expectError(kin.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 })), 'ResourceInUseException');
  await expectError(kin.send(new CreateStreamCommand({ StreamName: 'bad name', ShardCount: 1 })), 'ValidationException');
  await expectError(kin.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from('x'), PartitionKey: 'k'.repeat(257) })),
    'ValidationException');
  await expectError(kin.send(new PutRecordsCommand({ StreamName: name, Records: Array.from({ length: 501 }, () => ({ Data: Buffer.from('x'), PartitionKey: 'k' })) })),
    'ValidationException');
  await expectError(kin.send(new GetShardIteratorCommand({ StreamName: name, ShardId: 'shardId-000000000000', ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' })),
    'InvalidArgumentException');
  await expectError(kin.send(new GetRecordsCommand({ ShardIterator: 'x'.repeat(40) })), 'InvalidArgumentException');

  // authentication over HTTP/2: wrong secret, unknown key; nothing written
  const wrong = client({ accessKeyId: creds.accessKeyId, secretAccessKey: 'w'.repeat(40) });
  await expectError(wrong.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from('forged'), PartitionKey: 'k' })),
    'InvalidSignatureException');
  wrong.destroy();
  const unknown = client({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'w'.repeat(40) });
  await expectError(unknown.send(new PutRecordsCommand({ StreamName: name, Records: [{ Data: Buffer.from('forged'), PartitionKey: 'k' }] })),
    'UnrecognizedClientException');
  unknown.destroy();
  const { records } = await readShard(name, 'shardId-000000000000');
  assert.deepEqual(records, []);
});

test('concurrent requests multiplexed on one HTTP/2 connection', async () => {
  const name = uniqueName('js-mux');
  await createStream(name, 4);
  const puts = await Promise.all(Array.from({ length: 50 }, (_, i) => kin.send(new PutRecordsCommand({
    StreamName: name, Records: Array.from({ length: 20 }, (_, j) => ({ Data: Buffer.from(`${i}-${j}`), PartitionKey: `k${i}-${j}` })),
  }))));
  assert.ok(puts.every((p) => p.FailedRecordCount === 0));
  let n = 0;
  for (const s of ['0', '1', '2', '3']) {
    const { records } = await readShard(name, `shardId-00000000000${s}`);
    const seqs = records.map((r) => BigInt(r.SequenceNumber));
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i - 1] < seqs[i]);
    n += records.length;
  }
  assert.equal(n, 1000);
});
