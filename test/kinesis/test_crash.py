"""Crash test: producers write with PutRecords and PutRecord over several concurrent
connections while the server is SIGKILLed at random moments; after each restart on the same
data dir every acknowledged record must be readable exactly once, on its shard, at its
sequence number, with its data; per shard the sequence numbers increase strictly, in the
order the writes were acknowledged, and keep increasing across restarts.

Replay a run with SL_CRASH_SEED=<seed> (the seed is printed and in every failure message);
SL_CRASH_ROUNDS changes the number of kills (default 6).
"""
import hashlib
import os
import random
import sys
import threading
import time

import pytest

import harness

SEED = int(os.environ.get("SL_CRASH_SEED") or random.SystemRandom().randrange(2**31))
ROUNDS = int(os.environ.get("SL_CRASH_ROUNDS", "6"))
STREAM = "crash"
SHARDS = 4
WORKERS = ["batch", "batch", "single", "single", "batch"]

pytestmark = pytest.mark.streamlake_only


def payload(rid, length):
    """Data of record `rid`: its id, then bytes derived from it, `length` bytes in all."""
    head = rid.encode() + b"|"
    body = b""
    block = hashlib.sha256(head).digest()
    while len(head) + len(body) < length:
        body += block
        block = hashlib.sha256(block).digest()
    return (head + body)[:max(length, len(head))]


def record_id(data):
    rid = data.split(b"|", 1)[0].decode()
    assert payload(rid, len(data)) == data, f"corrupt data for {rid!r} (seed {SEED})"
    return rid


class Ledger:
    """What the producers know: acknowledged records (id → shard, seq, ack order per worker),
    records whose fate is unknown (request failed in flight), records refused per entry."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}
        self.maybe = set()
        self.refused = set()
        self.ack_order = {}  # worker → [(shard, seq)] in acknowledgement order

    def ack(self, worker, rid, shard, seq):
        with self.lock:
            assert rid not in self.acked
            self.acked[rid] = (shard, int(seq))
            self.ack_order.setdefault(worker, []).append((shard, int(seq)))


def producer(client, worker_no, kind, round_no, rng, ledger, stop, first_ack):
    n = 0
    worker = f"{worker_no}"
    while not stop.is_set():
        if kind == "batch":
            count = rng.randint(1, 200)
        else:
            count = 1
        recs = []
        for _ in range(count):
            rid = f"r{round_no}w{worker_no}n{n}"
            n += 1
            recs.append((rid, payload(rid, rng.randint(1, 400)), f"pk-{rng.randrange(10**9)}"))
        try:
            if kind == "batch":
                resp = client.put_records(StreamName=STREAM, Records=[
                    {"Data": d, "PartitionKey": pk} for _, d, pk in recs])
                assert len(resp["Records"]) == len(recs)
                for (rid, _, _), r in zip(recs, resp["Records"]):
                    if "ErrorCode" in r:
                        with ledger.lock:
                            ledger.refused.add(rid)
                    else:
                        ledger.ack(worker, rid, r["ShardId"], r["SequenceNumber"])
            else:
                rid, d, pk = recs[0]
                r = client.put_record(StreamName=STREAM, Data=d, PartitionKey=pk)
                ledger.ack(worker, rid, r["ShardId"], r["SequenceNumber"])
            first_ack.set()
        except AssertionError:
            raise
        except Exception:
            # killed mid-request (connection reset, refused, timeout): unknown fate
            with ledger.lock:
                ledger.maybe.update(rid for rid, _, _ in recs)
            return


def read_everything(client):
    shards = harness.list_all_shards(client, STREAM)
    out = {}
    for s in shards:
        recs, _ = harness.read_shard(client, STREAM, s["ShardId"])
        out[s["ShardId"]] = recs
    return out


def verify(client, ledger, label):
    where = f"[{label}, SL_CRASH_SEED={SEED}]"
    found = {}
    per_shard_max = {}
    for shard, recs in read_everything(client).items():
        seqs = [int(r["SequenceNumber"]) for r in recs]
        assert all(a < b for a, b in zip(seqs, seqs[1:])), f"{where} sequence numbers not increasing on {shard}"
        if seqs:
            per_shard_max[shard] = seqs[-1]
        for r in recs:
            rid = record_id(r["Data"])
            assert rid not in found, f"{where} record {rid} read twice ({found[rid]} and {shard})"
            found[rid] = (shard, int(r["SequenceNumber"]))
    missing = [rid for rid in ledger.acked if rid not in found]
    assert not missing, f"{where} {len(missing)} acknowledged records lost, e.g. {missing[:5]}"
    wrong = [(rid, ledger.acked[rid], found[rid]) for rid in ledger.acked if found[rid] != ledger.acked[rid]]
    assert not wrong, f"{where} records at another shard/sequence than acknowledged, e.g. {wrong[:5]}"
    unknown = [rid for rid in found if rid not in ledger.acked and rid not in ledger.maybe]
    assert not unknown, f"{where} records that were refused or never sent: {unknown[:5]}"
    for worker, order in ledger.ack_order.items():
        last = {}
        for shard, seq in order:
            assert seq > last.get(shard, -1), f"{where} worker {worker}: acknowledged later, numbered earlier on {shard}"
            last[shard] = seq
    return found, per_shard_max


def test_sigkill_under_load():
    print(f"crash test: SL_CRASH_SEED={SEED} rounds={ROUNDS}", file=sys.stderr, flush=True)
    rng = random.Random(SEED)
    srv = harness.Server()
    ledger = Ledger()
    try:
        srv.start()
        admin = srv.client()
        harness.create_stream(admin, STREAM, shards=SHARDS)
        prev_max = {}
        total_kills = 0
        for round_no in range(ROUNDS):
            stop, first_ack = threading.Event(), threading.Event()
            clients = [srv.client(max_pool_connections=1, read_timeout=15) for _ in WORKERS]
            threads = [threading.Thread(target=producer, args=(clients[i], i, kind, round_no,
                                                               random.Random(rng.random()), ledger, stop,
                                                               first_ack), daemon=True)
                       for i, kind in enumerate(WORKERS)]
            for t in threads:
                t.start()
            assert first_ack.wait(30), f"no write acknowledged in round {round_no} (SL_CRASH_SEED={SEED})"
            time.sleep(rng.uniform(0.05, 1.5))  # the random moment of the crash
            srv.kill()
            total_kills += 1
            stop.set()
            for t in threads:
                t.join(30)
                assert not t.is_alive(), "producer stuck after the server died"
            srv.start()
            if rng.random() < 0.3:  # sometimes crash again straight after recovery
                srv.kill()
                total_kills += 1
                srv.start()
            client = srv.client()
            found, per_shard_max = verify(client, ledger, f"after kill {round_no + 1}")
            for shard, mx in prev_max.items():
                assert per_shard_max.get(shard, -1) >= mx, f"shard {shard} went back (SL_CRASH_SEED={SEED})"
            # sequence numbers keep increasing after a restart: probe every shard
            resp = client.put_records(StreamName=STREAM, Records=[
                {"Data": payload(f"probe{round_no}-{i}", 20), "PartitionKey": f"probe-{i}"} for i in range(32)])
            assert resp["FailedRecordCount"] == 0
            for i, r in enumerate(resp["Records"]):
                assert int(r["SequenceNumber"]) > per_shard_max.get(r["ShardId"], -1), \
                    f"sequence number went back on {r['ShardId']} after restart (SL_CRASH_SEED={SEED})"
                ledger.ack("probe", f"probe{round_no}-{i}", r["ShardId"], r["SequenceNumber"])
            _, prev_max = verify(client, ledger, f"probes after kill {round_no + 1}")
        # finally a clean stop and start: everything still there
        rc = srv.stop()
        assert rc == 0 or harness.is_kinesalite(), f"SIGTERM exit code {rc}; stderr:\n{srv.stderr_tail()}"
        srv.start()
        found, _ = verify(srv.client(), ledger, "after clean restart")
        print(f"crash test: {total_kills} kills, {len(ledger.acked)} acknowledged records, "
              f"{len(ledger.maybe)} in flight at a kill, {len(found)} read back (SL_CRASH_SEED={SEED})",
              file=sys.stderr, flush=True)
        assert len(ledger.acked) > 1000, "too little load to mean anything"
        rc = srv.stop()
        assert rc == 0 or harness.is_kinesalite(), f"SIGTERM exit code {rc}"
    finally:
        srv.cleanup()

