"""Crash test of the lake sinks at process level.

Producers (threads, PutRecords and PutRecord over their own connections) write CSV sales
rows with unique ids into a Kinesis stream read by a stream table, while `streamlake serve`
is SIGKILLed at random moments and restarted on the same data dir, several times. Sinks:
  hist           CSV.gz over the table, partitioned yyyy/MM/dd/HH/mm by event time
  products_json  JSONL.gz over a filter view (price 40-50)
  products_pq    Parquet (zstd) over the same view
A few rows are malformed: they go to sales_errors and must reach no sink.

At the end (producers stopped, the runtime caught up, every sink committed) it checks, per
sink:
1. the log holds every acknowledged record once and in-doubt ones at most once;
2. the lake's latest snapshot (commits replayed here in Python, independently of the
   server) holds exactly the rows of the records in the log that the sink's query keeps,
   each once -- read by our SQL (`SELECT ... FROM <sink>`) and by DuckDB given only the
   files the latest commit references (never a glob: unreferenced files may exist);
3. the rows' values equal the producers' ledger (a sample);
4. after a clean stop and start, no file is left that no commit references (orphans of
   the kills were removed) except files a commit removed within its grace period, and the
   lake reads the same.

Replay: SL_LAKE_CRASH_SEED=<seed> (printed, and in every failure message) fixes the kill
moments and the data; SL_LAKE_CRASH_ROUNDS (default 4) the number of kills. Thread timing
still varies between runs.
"""
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import harness
import streamtest as st

SEED = int(os.environ.get("SL_LAKE_CRASH_SEED") or random.SystemRandom().randrange(2**31))
ROUNDS = int(os.environ.get("SL_LAKE_CRASH_ROUNDS", "4"))
PARQUET = True
STREAM = "sales-lake"
SHARDS = 3
WORKERS = ["batch", "batch", "single", "batch"]
PRODUCTS = ["apple", "pear", "plum", "kiwi", "fig"]
WHERE = f"SL_LAKE_CRASH_SEED={SEED}"
NODE = os.environ.get("SL_NODE") or "node"
HERE = os.path.dirname(os.path.abspath(__file__))

# max_lateness of an hour: no row is late, so a sink over the table holds every good row.
TABLE = f"""CREATE TABLE sales (id bigint, zipcode text, product text, price double precision, ts timestamp)
  WITH (connector = 'kinesis', stream = '{STREAM}', format = 'csv', event_time = 'ts',
        max_lateness = '1 hour', idle_timeout = '1 second')"""
VIEW = "CREATE MATERIALIZED VIEW products AS SELECT id, product, price, ts FROM sales WHERE price BETWEEN 40 AND 50"
# name -> (relation, lake path, format, keeps(row) -> bool)
SINKS = {
    "hist": ("sales", "historical", "csv.gz", lambda r: True),
    "products_json": ("products", "products/json", "jsonl.gz", lambda r: 40 <= r[2] <= 50),
}
if PARQUET:
    SINKS["products_pq"] = ("products", "products/parquet", "parquet", lambda r: 40 <= r[2] <= 50)

pytestmark = pytest.mark.skipif(harness.is_kinesalite(), reason="needs streamlake")


Ledger = st.Ledger


def make_record(ledger, rng):
    """1-3 CSV rows sharing the send time as event time; 1 in 60 records is one malformed
    row; 1 in 40 is 30 minutes in the past (another partition; within max_lateness)."""
    ts_ms = int(time.time() * 1000) - (1_800_000 if rng.random() < 1 / 40 else 0)
    ts = st.fmt_ts_us(ts_ms * 1000)
    if rng.random() < 1 / 60:
        (rid,) = ledger.new_ids(1)
        with ledger.lock:
            ledger.rows[rid] = None
            ledger.records[rid] = [rid]
        return rid, f"{rid},z{rid % 9},{rng.choice(PRODUCTS)},n/a,{ts}".encode()
    ids = ledger.new_ids(rng.randint(1, 3))
    lines = []
    with ledger.lock:
        for rid in ids:
            z, p, price = f"z{rng.randrange(9)}", rng.choice(PRODUCTS), rng.randrange(0, 241) / 4
            ledger.rows[rid] = (z, p, price, ts_ms)
            lines.append(f"{rid},{z},{p},{price},{ts}")
        ledger.records[ids[0]] = ids
    return ids[0], "\n".join(lines).encode()


def producer(client, kind, rng, ledger, stop, first_ack):
    st.producer(client, STREAM, kind, rng, ledger, stop, first_ack, make_record)


def check_log(srv, ledger):
    """Record keys in the stream (GetRecords): acked once each, in-doubt at most once."""
    client = srv.client(read_timeout=60)
    present = collections.Counter()
    for s in harness.list_all_shards(client, STREAM):
        recs, _ = harness.read_shard(client, STREAM, s["ShardId"])
        for r in recs:
            present[int(r["Data"].split(b",", 1)[0])] += 1
    doubled = [k for k, n in present.items() if n > 1]
    assert not doubled, f"[{WHERE}] records twice in the log: {doubled[:5]}"
    lost = ledger.acked - set(present)
    assert not lost, f"[{WHERE}] {len(lost)} acknowledged records lost, e.g. {sorted(lost)[:5]}"
    unknown = set(present) - ledger.acked - ledger.maybe
    assert not unknown, f"[{WHERE}] records in the log never acknowledged nor in doubt: {sorted(unknown)[:5]}"
    return set(present), sum(present.values())


def lake_snapshot(table_dir):
    """Replays _commits/*.json (our own reader of the format, independent of the server):
    (live files: path -> entry, removed paths, last commit number). Snapshot files
    (every 100 commits) must agree with the replay up to them."""
    live, removed = {}, set()
    names = sorted(os.listdir(os.path.join(table_dir, "_commits")))
    commits = [n for n in names if n.endswith(".json") and not n.endswith(".snapshot.json")]
    snapshots = {int(n[:20]): n for n in names if n.endswith(".snapshot.json")}
    for n, name in enumerate(commits, start=1):
        path = os.path.join(table_dir, "_commits", name)
        assert name == f"{n:020d}.json", f"[{WHERE}] commit files not numbered 1..N: {path}"
        with open(path) as f:
            c = json.load(f)
        assert c["format"] == "streamlake-lake" and c["version"] == 1 and c["commit"] == n, f"[{WHERE}] {path}: {c}"
        for r in c["removed"]:
            assert r in live, f"[{WHERE}] {path} removes {r}, which is not live"
            del live[r]
            removed.add(r)
        for a in c["added"]:
            live[a["path"]] = a
            removed.discard(a["path"])
        if n in snapshots:
            with open(os.path.join(table_dir, "_commits", snapshots[n])) as f:
                snap = json.load(f)
            assert sorted(x["path"] for x in snap["files"]) == sorted(live), f"[{WHERE}] snapshot {n} != replay"
    return live, removed, len(commits)


def duckdb_rows(files, fmt, select):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(files, f)
        name = f.name
    try:
        out = subprocess.run([NODE, os.path.join(HERE, "duckdb_read.mjs"), fmt, name, select],
                             capture_output=True, text=True, timeout=120, cwd=HERE)
    finally:
        os.unlink(name)
    assert out.returncode == 0, f"[{WHERE}] DuckDB failed on {fmt}: {out.stderr[-2000:]}"
    return json.loads(out.stdout)


def wait_committed(srv, present, ledger, deadline_s=120):
    """Until every sink's lake holds as many rows as the records in the log give it and
    nothing is pending (waiting for the server is fine; its speed is not asserted)."""
    want = {name: sum(1 for k in present for i in ledger.records[k]
                      if ledger.rows[i] is not None and keep(ledger.rows[i]))
            for name, (_, _, _, keep) in SINKS.items()}
    end = time.monotonic() + deadline_s
    while True:
        sinks = {s["name"]: s for s in st.show(srv, "SINKS")}
        assert set(sinks) == set(SINKS), f"[{WHERE}] SHOW SINKS: {sinks}"
        for s in sinks.values():
            assert s["status"] == "running", f"[{WHERE}] sink {s['name']}: {s['status']}"
        if all(sinks[n]["rows"] >= w and sinks[n]["pending_rows"] == 0 for n, w in want.items()):
            return want
        assert time.monotonic() < end, f"[{WHERE}] sinks not committed after {deadline_s}s: want {want}; {sinks}"
        time.sleep(0.3)


def check_sinks(srv, ledger, present, label):
    where = f"[{label}, {WHERE}]"
    lake = os.path.join(srv.data_dir, "lake")
    for name, (_, path, fmt, keep) in SINKS.items():
        want = collections.Counter(i for k in present for i in ledger.records[k]
                                   if ledger.rows[i] is not None and keep(ledger.rows[i]))
        # our SQL
        got = collections.Counter(r[0] for r in st.rows(srv, f"SELECT id FROM {name}"))
        assert got == want, f"{where} sink {name} via SQL: {st.diff_message(got, want)}"
        # the commit log replayed here, files read by DuckDB
        table_dir = os.path.join(lake, path)
        live, removed, n = lake_snapshot(table_dir)
        files = [os.path.join(table_dir, p) for p in sorted(live)]
        for f in files:
            assert os.path.exists(f), f"{where} sink {name}: the latest commit references a missing file {f}"
        rows = duckdb_rows(files, fmt, "id, product, price, ts")
        got = collections.Counter(int(r[0]) for r in rows)
        assert got == want, f"{where} sink {name} via DuckDB: {st.diff_message(got, want)}"
        assert sum(e["rows"] for e in live.values()) == sum(want.values()), f"{where} sink {name}: row counts in commits"
        for r in rows[::37]:
            z, p, price, ts_ms = ledger.rows[int(r[0])]
            assert (r[1], float(r[2])) == (p, price), f"{where} sink {name}: row {r} vs ledger {ledger.rows[int(r[0])]}"
            assert st.parse_ts(str(r[3])) // 1000 == ts_ms, f"{where} sink {name}: ts of {r} vs {ts_ms}"
        # partitions by event time
        for p, e in live.items():
            lo, hi = e.get("min_time_us"), e.get("max_time_us")
            assert lo is not None and st.fmt_ts_us(lo)[:16].replace("-", "/").replace(" ", "/").replace(":", "/") \
                == e["partition"], f"{where} sink {name}: file {p} in partition {e['partition']} holds {st.fmt_ts_us(lo)}"
            assert st.fmt_ts_us(hi)[:16].replace("-", "/").replace(" ", "/").replace(":", "/") == e["partition"]
    return True


def check_no_orphans(srv, label):
    """Every data file in the partition tree is referenced by the latest commit; files a
    commit removed wait in _trash/ for their grace period (never in the tree, so a glob
    over it counts each row once). Temporaries of writes a kill interrupted (*.sltmp, never
    readable under a key) are swept by the store after an hour."""
    lake = os.path.join(srv.data_dir, "lake")
    for name, (_, path, _, _) in SINKS.items():
        table_dir = os.path.join(lake, path)
        live, removed, _ = lake_snapshot(table_dir)
        on_disk = set()
        for root, _, fs in os.walk(table_dir):
            for f in fs:
                rel = os.path.relpath(os.path.join(root, f), table_dir)
                if rel.startswith("_trash/"):
                    assert rel[7:] in removed, f"[{label}, {WHERE}] sink {name}: {rel} was never removed by a commit"
                elif not rel.startswith("_commits/") and not rel.endswith(".sltmp"):
                    on_disk.add(rel)
        stray = on_disk - set(live)
        assert not stray, f"[{label}, {WHERE}] sink {name}: files no commit references: {sorted(stray)[:5]}"


def test_sigkill_while_sinking():
    print(f"lake crash test: {WHERE} rounds={ROUNDS} parquet={PARQUET}", file=sys.stderr, flush=True)
    rng = random.Random(SEED)
    srv = harness.Server()
    ledger = Ledger()
    kills = 0
    try:
        srv.start()
        harness.create_stream(srv.client(), STREAM, shards=SHARDS)
        st.sql(srv, TABLE)
        st.sql(srv, VIEW)
        for name, (rel, path, fmt, _) in SINKS.items():
            opts = f"connector = 'lake', path = '{path}', format = '{fmt}'"
            if fmt == "parquet":
                opts += ", compression = 'zstd'"
            st.sql(srv, f"CREATE SINK {name} FROM {rel} WITH ({opts}, partition = 'yyyy/MM/dd/HH/mm', time_column = 'ts')")
        for round_no in range(ROUNDS):
            stop, first_ack = threading.Event(), threading.Event()
            threads = [threading.Thread(target=producer, daemon=True,
                                        args=(srv.client(max_pool_connections=1, read_timeout=15), kind,
                                              random.Random(rng.random()), ledger, stop, first_ack))
                       for kind in WORKERS]
            for t in threads:
                t.start()
            assert first_ack.wait(30), f"[{WHERE}] nothing acknowledged in round {round_no}"
            time.sleep(rng.uniform(0.5, 3.5))  # the random moment of the crash
            ledger.killing = True
            srv.kill()
            kills += 1
            stop.set()
            for t in threads:
                t.join(30)
                assert not t.is_alive(), f"[{WHERE}] producer stuck after the kill"
            ledger.killing = False
            srv.start()
            if rng.random() < 0.4:
                # crash again while the runtime recovers and replays
                st.wait_sql_ready(srv)
                time.sleep(rng.uniform(0.0, 1.2))
                ledger.killing = True
                srv.kill()
                kills += 1
                ledger.killing = False
                srv.start()
            st.wait_sql_ready(srv)

        assert not ledger.unexpected, f"[{WHERE}] requests failed while no kill was under way: {ledger.unexpected[:3]}"
        present, total = check_log(srv, ledger)
        want = wait_committed(srv, present, ledger)
        check_sinks(srv, ledger, present, "after the kills")
        # errors are not sunk: the malformed rows are in sales_errors only
        bad = [k for k in present if ledger.rows[k] is None]
        assert st.rows(srv, "SELECT count(*) FROM sales_errors")[0][0] == len(bad), f"[{WHERE}] sales_errors"

        rc = srv.stop()
        assert rc == 0, f"[{WHERE}] SIGTERM exit code {rc}; stderr:\n{srv.stderr_tail()}"
        srv.start()
        st.wait_sql_ready(srv)
        check_no_orphans(srv, "after a clean restart")
        check_sinks(srv, ledger, present, "after a clean restart")
        print(f"lake crash test: {kills} kills, {len(ledger.acked)} records acknowledged, {len(ledger.maybe)} in doubt "
              f"({len(present & ledger.maybe)} made it), {sum(len(ledger.records[k]) for k in present)} rows, "
              f"{len(bad)} malformed; rows per sink {want}; {WHERE}", file=sys.stderr, flush=True)
        assert len(ledger.acked) > 300, f"[{WHERE}] too little load to mean anything"
        rc = srv.stop()
        assert rc == 0, f"[{WHERE}] SIGTERM exit code {rc}"
    except BaseException:
        print(f"lake crash test FAILED: {WHERE}; data dir kept at {srv.data_dir}", file=sys.stderr, flush=True)
        srv.keep_dir = True
        raise
    finally:
        srv.cleanup()
