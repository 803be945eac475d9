"""Reshard test of the streaming runtime at process level.

Producers (threads; PutRecords with several records of one key per request, and
PutRecord) write `key,counter` CSV records with partition keys k0..k31; each key belongs
to one producer, which numbers its records 0, 1, 2, ... and never sends a key's next record
before the previous request returned (a refused or in-doubt number is skipped, never sent
again). Meanwhile the main thread splits shards (SplitShard at a random hash key), merges
adjacent ones (MergeShards) and rescales (UpdateShardCount, also to counts that do not
divide the current one), and SIGKILLs the server once in the middle of it. Half the seeds
run without periodic checkpoints, so the restart re-reads the whole log through the lineage.

At the end (producers stopped, the runtime caught up):
1. the log holds every acknowledged record once and in-doubt ones at most once (GetRecords);
2. the projection view `seq` holds exactly those records (multisets: nothing lost, nothing
   doubled), and per key the counters appear in strictly increasing order in the view's
   arrival order;
3. the count-per-key view equals its batch query over the stream table and the figures
   computed from the log's records;
4. no row went to t_errors (event time is arrival time with max_lateness 1 hour: no row can
   be late within the test).

Arrival order: a view's contents are a RowStore (src/stream/checkpoint.cc) that appends
rows in the order the view emits them and keeps that order through retractions
(compaction copies live rows in order) and checkpoints; its snapshot is the chunk list in
that order. `SELECT k, n FROM seq` plans as SCAN -> PROJECT with no sink: the executor
pulls the last pipeline on the calling thread (exec/operators.cc Executor::next), and only
pipelines that feed a sink run morsel-parallel (run_to_sink), so the scan returns chunks in
stored order. We still read it over pgwire after `SET threads = 1`, so the order does not
depend on that planner detail.

Replay: SL_STREAM_RESHARD_SEED=<seed> (printed, in every failure message);
SL_STREAM_RESHARD_ROUNDS (default 8) = number of reshard operations.
"""
import collections
import os
import random
import re
import sys
import threading
import time

import psycopg2
import pytest

import harness
import streamtest as st

SEED = int(os.environ.get("SL_STREAM_RESHARD_SEED") or random.SystemRandom().randrange(2**31))
ROUNDS = int(os.environ.get("SL_STREAM_RESHARD_ROUNDS", "8"))
STREAM = "keyed"
KEYS = [f"k{i}" for i in range(32)]
WORKERS = ["batch", "batch", "batch", "single"]
WHERE = f"SL_STREAM_RESHARD_SEED={SEED}"
MAX_HASH = 2**128 - 1

pytestmark = pytest.mark.skipif(harness.is_kinesalite(), reason="needs streamlake")


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.counter = {k: 0 for k in KEYS}
        self.acked = set()
        self.maybe = set()
        self.refused = set()
        self.killing = False  # set just before a kill: requests failing then are in doubt
        self.unexpected = []  # requests that failed while no kill was under way, or got a wrong answer


def producer(client, worker_no, kind, rng, ledger, stop, first_ack):
    mine = [k for i, k in enumerate(KEYS) if i % len(WORKERS) == worker_no]
    while not stop.is_set():
        recs = []
        for _ in range(rng.randint(1, 30) if kind == "batch" else 1):
            k = rng.choice(mine)
            recs.append((k, ledger.counter[k]))
            ledger.counter[k] += 1  # only this thread touches its keys
        try:
            if kind == "batch":
                resp = client.put_records(StreamName=STREAM, Records=[
                    {"Data": f"{k},{n}".encode(), "PartitionKey": k} for k, n in recs])
                assert len(resp["Records"]) == len(recs)
                with ledger.lock:
                    for rec, r in zip(recs, resp["Records"]):
                        (ledger.refused if "ErrorCode" in r else ledger.acked).add(rec)
            else:
                (k, n), = recs
                client.put_record(StreamName=STREAM, Data=f"{k},{n}".encode(), PartitionKey=k)
                with ledger.lock:
                    ledger.acked.add((k, n))
            first_ack.set()
        except AssertionError as e:  # a wrong answer: fail the test (a thread cannot raise into it)
            with ledger.lock:
                ledger.unexpected.append(f"{e!r}")
            return
        except Exception as e:
            with ledger.lock:
                ledger.maybe.update(recs)
                if not ledger.killing:
                    ledger.unexpected.append(repr(e))
            return


def open_shards(client):
    shards = [s for s in harness.list_all_shards(client, STREAM)
              if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
    return sorted(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))


def reshard(client, rng):
    """One random SplitShard, MergeShards or UpdateShardCount; returns what it did."""
    shards = open_shards(client)
    n = len(shards)
    choice = rng.choice(["split", "merge", "update"])
    if choice == "split" and n < 8 or n <= 2:
        s = rng.choice(shards)
        lo, hi = int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])
        at = rng.randint(lo + 1, hi)
        client.split_shard(StreamName=STREAM, ShardToSplit=s["ShardId"], NewStartingHashKey=str(at))
        return f"split {s['ShardId']} at {at}"
    if choice == "merge" or n >= 8 and choice == "split":
        i = rng.randrange(n - 1)
        client.merge_shards(StreamName=STREAM, ShardToMerge=shards[i]["ShardId"],
                            AdjacentShardToMerge=shards[i + 1]["ShardId"])
        return f"merge {shards[i]['ShardId']} + {shards[i + 1]['ShardId']}"
    target = rng.choice([t for t in range((n + 1) // 2, min(2 * n, 8) + 1) if t != n])
    client.update_shard_count(StreamName=STREAM, TargetShardCount=target, ScalingType="UNIFORM_SCALING")
    return f"update {n} -> {target}"


def start_producers(srv, rng, ledger):
    stop, first_ack = threading.Event(), threading.Event()
    threads = [threading.Thread(target=producer, daemon=True,
                                args=(srv.client(max_pool_connections=1, read_timeout=15), i, kind,
                                      random.Random(rng.random()), ledger, stop, first_ack))
               for i, kind in enumerate(WORKERS)]
    for t in threads:
        t.start()
    assert first_ack.wait(30), f"[{WHERE}] nothing acknowledged"
    return stop, threads


def stop_producers(stop, threads):
    stop.set()
    for t in threads:
        t.join(30)
        assert not t.is_alive(), f"[{WHERE}] producer stuck"


def pg_port(srv):
    for line in reversed(srv.stdout_lines):
        m = re.match(r"^streamlake: listening pg=[0-9.]+:(\d+)", line)
        if m:
            return int(m.group(1))
    raise AssertionError(f"no pg listening line in {srv.stdout_lines}")


def view_in_arrival_order(srv):
    ak, sk = srv.credentials()
    conn = psycopg2.connect(host="127.0.0.1", port=pg_port(srv), user=ak, password=sk, dbname="streamlake")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SET threads = 1")
            cur.execute("SELECT k, n FROM seq")
            return [(k, int(n)) for k, n in cur.fetchall()]
    finally:
        conn.close()


def test_reshard_while_producing():
    print(f"stream reshard test: {WHERE} rounds={ROUNDS}", file=sys.stderr, flush=True)
    rng = random.Random(SEED)
    srv = harness.Server()
    done = []
    if rng.random() < 0.5:
        # Checkpoints only at DDL and clean stops: the kill makes the runtime re-read the
        # whole log from the start through every reshard so far, in rounds of at most 10,000
        # records per shard. Otherwise (every second) it resumes mid-lineage.
        with open(os.path.join(srv.data_dir, "streamlake.toml"), "w") as f:
            f.write("[streaming]\ncheckpoint_interval_ms = 3600000\n")
        srv.extra_args = ["--config", os.path.join(srv.data_dir, "streamlake.toml")]
        done.append("no periodic checkpoints")
    ledger = Ledger()
    try:
        srv.start()
        admin = srv.client()
        harness.create_stream(admin, STREAM, shards=3)
        st.sql(srv, f"CREATE TABLE t (k text, n bigint) WITH (connector = 'kinesis', stream = '{STREAM}', "
                    "format = 'csv', max_lateness = '1 hour')")
        st.sql(srv, "CREATE MATERIALIZED VIEW seq AS SELECT k, n FROM t")
        st.sql(srv, "CREATE MATERIALIZED VIEW per_key AS SELECT k, count(*) AS c, max(n) AS hi, sum(n) AS s "
                    "FROM t GROUP BY k")
        stop, threads = start_producers(srv, rng, ledger)
        kill_at = ROUNDS // 2
        for op in range(ROUNDS):
            time.sleep(rng.uniform(0.2, 1.0))
            done.append(reshard(admin, rng))
            if op == kill_at:
                # crash in the middle of resharding: right after the request, or once active
                time.sleep(rng.uniform(0.0, 0.8))
                ledger.killing = True
                srv.kill()
                stop_producers(stop, threads)
                ledger.killing = False
                done.append("kill")
                srv.start()
                st.wait_sql_ready(srv)
                admin = srv.client()
                harness.wait_active(admin, STREAM)
                stop, threads = start_producers(srv, rng, ledger)
            else:
                harness.wait_active(admin, STREAM)
        time.sleep(rng.uniform(0.2, 1.0))
        stop_producers(stop, threads)
        where = f"[{WHERE}; {done}]"
        assert not ledger.unexpected, f"{where} requests failed while no kill was under way: {ledger.unexpected[:3]}"

        # 1. the log
        client = srv.client(read_timeout=60)
        present = collections.Counter()
        shard_ids = []
        for s in harness.list_all_shards(client, STREAM):
            shard_ids.append(s["ShardId"])
            recs, _ = harness.read_shard(client, STREAM, s["ShardId"])
            for r in recs:
                k, n = r["Data"].decode().split(",")
                present[(k, int(n))] += 1
        doubled = [r for r, c in present.items() if c > 1]
        assert not doubled, f"{where} records twice in the log: {doubled[:5]}"
        lost = ledger.acked - set(present)
        assert not lost, f"{where} {len(lost)} acknowledged records lost, e.g. {sorted(lost)[:5]}"
        unknown = set(present) - ledger.acked - ledger.maybe
        assert not unknown, f"{where} records never acknowledged nor in doubt: {sorted(unknown)[:5]}"
        total = sum(present.values())

        end = time.monotonic() + 120
        while True:
            (t,) = st.show(srv, "STREAMS")
            if t["records_in"] == total:
                break
            assert time.monotonic() < end, f"{where} runtime not caught up: {total} records in the log; {t}"
            time.sleep(0.2)
        assert t["status"] == "running", f"{where} {t}"
        for sid in shard_ids:
            assert sid in t["shards"], f"{where} shard {sid} not read: {t['shards']}"

        # 2. the projection view: every record once, per key in order
        seq = view_in_arrival_order(srv)
        got = collections.Counter(seq)
        assert got == present, f"{where} view seq vs log: {st.diff_message(got, present)}"
        last = {}
        for k, n in seq:
            assert n > last.get(k, -1), f"{where} key {k}: {n} arrived after {last[k]}"
            last[k] = n

        # 3. the count-per-key view
        per = collections.defaultdict(list)
        for k, n in present:
            per[k].append(n)
        want = st.multiset([[k, len(v), max(v), sum(v)] for k, v in per.items()])
        got = st.multiset(st.rows(srv, "SELECT * FROM per_key"))
        assert got == want, f"{where} per_key vs log: {st.diff_message(got, want)}"
        batch = st.multiset(st.rows(srv, "SELECT k, count(*), max(n), sum(n) FROM t GROUP BY k"))
        assert got == batch, f"{where} per_key vs batch: {st.diff_message(got, batch)}"

        # 4. nothing late, nothing malformed
        assert st.rows(srv, "SELECT count(*) FROM t_errors") == [[0]], f"{where} rows in t_errors"
        print(f"stream reshard test: {done}; {len(ledger.acked)} acknowledged, {len(ledger.maybe)} in doubt "
              f"({len(set(present) & ledger.maybe)} made it), {len(ledger.refused)} refused, "
              f"{len(shard_ids)} shards; {WHERE}", file=sys.stderr, flush=True)
        assert len(ledger.acked) > 500, f"{where} too little load to mean anything"
        rc = srv.stop()
        assert rc == 0, f"{where} SIGTERM exit code {rc}"
    except BaseException:
        print(f"stream reshard test FAILED: {WHERE}; {done}; data dir kept at {srv.data_dir}",
              file=sys.stderr, flush=True)
        srv.keep_dir = True
        raise
    finally:
        srv.cleanup()
