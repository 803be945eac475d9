"""Crash test of the streaming runtime at process level.

Producers (threads, PutRecords and PutRecord over their own connections) write CSV sales
rows with unique ids into a Kinesis stream read by a stream table, while `streamlake serve`
is SIGKILLed at random moments and restarted on the same data dir, several times. Views of
every kind of state the runtime keeps are defined on the table: a filter/projection, a
GROUP BY with emit changes (count, sum, avg, count DISTINCT), tumble windows emitting final
rows and changes, a hop window, a lookup join with an aggregate, a stream-stream self-join
bounded by event time. A few rows are malformed
(they must land in sales_errors, never in a view).

At the end (producers stopped, the runtime caught up and every window closed) it checks:
1. the log holds every acknowledged record once, and in-doubt records (request in flight
   at a kill) at most once (read with GetRecords);
2. the stream table's ad-hoc SELECT returns exactly the rows of those records;
3. sales_errors holds exactly the malformed rows (reason 'column price: ...') and the late
   rows (reason 'late', the whole record as raw);
4. every view's contents = the view's SELECT run as an ad-hoc batch query over the stream
   table without the late rows, as multisets (duplicates count);
5. the filter, GROUP BY, emit-final tumble and self-join views also = the same figures
   computed in Python from the producers' ledger (an oracle independent of the SQL engine);
6. a view created after the first kill (so backfilled from the table's start, with its own
   watermark) holds each row at most once, only good rows, and every row the table found on
   time except rows that could be late at all (more than max_lateness behind an earlier
   record of their shard);
7. after a clean stop and start, every view is unchanged.
In about half the rounds, 4. and 5. also run between a restart and the next round (the
producers paused, the runtime caught up), emit-final views on their closed windows only.

Event times are the producer's wall clock when it sends a record (all rows of one record
share it), so with max_lateness = 2 s rows are on time except under extreme scheduling
delays, and for 1 record in 150 that is sent 30 s in the past on purpose. Late rows are
accounted for exactly through sales_errors (which rows are late depends on round
boundaries, which a crash changes; the errors table is checkpointed atomically with the
views, so the final state is one consistent history): each late record must be listed once
per row, and the views must equal the batch queries over every other row.
idle_timeout = 1 s: once the producers stop, the watermark follows processing time and
closes every window, so every view is compared in full.

Replay: SL_STREAM_CRASH_SEED=<seed> (printed, and in every failure message) fixes the kill
moments, the producers' choices and the data; SL_STREAM_CRASH_ROUNDS (default 5) sets the
number of kills. Thread timing still varies between runs.
"""
import collections
import os
import random
import sys
import threading
import time

import pytest

import harness
import streamtest as st

SEED = int(os.environ.get("SL_STREAM_CRASH_SEED") or random.SystemRandom().randrange(2**31))
ROUNDS = int(os.environ.get("SL_STREAM_CRASH_ROUNDS", "5"))
STREAM = "sales-crash"
SHARDS = 4
WORKERS = ["batch", "batch", "single", "batch", "single"]
PRODUCTS = ["apple", "pear", "plum", "kiwi", "fig", "lime", "date", "yuzu"]
ZIPCODES = [f"z{i:02d}" for i in range(20)]
# The lookup table knows 15 of the 20 zipcodes: the inner join drops the others.
REGIONS = {z: ("north" if i % 3 == 0 else "south" if i % 3 == 1 else "east") for i, z in enumerate(ZIPCODES[:15])}
WHERE = f"SL_STREAM_CRASH_SEED={SEED}"

TABLE = f"""CREATE TABLE sales (id bigint, zipcode text, product text, price double precision, ts timestamp)
  WITH (connector = 'kinesis', stream = '{STREAM}', format = 'csv', event_time = 'ts',
        max_lateness = '2 seconds', idle_timeout = '1 second')"""

# name -> (WITH options, view SELECT, equivalent batch SELECT over `src`, a relation of the
# stream table's on-time rows). Window functions exist only in views: the batch queries
# compute window bounds by hand (tumble: floor to the size from the epoch; hop 1 s / 3 s:
# each row in the windows starting 0, 1 and 2 seconds before its second).
TUMBLE2 = "to_timestamp(floor(extract(epoch from ts) / 2) * 2)"
VIEWS = {
    "products": ("", "SELECT id, product, price FROM sales WHERE price BETWEEN 40 AND 50",
                 "SELECT id, product, price FROM {src} AS src WHERE price BETWEEN 40 AND 50"),
    "per_product": ("WITH (emit = 'changes') ",
                    "SELECT product, count(*) AS n, sum(price) AS total, avg(price) AS mean, "
                    "count(DISTINCT zipcode) AS zips FROM sales GROUP BY product",
                    "SELECT product, count(*), sum(price), avg(price), count(DISTINCT zipcode) "
                    "FROM {src} AS src GROUP BY product"),
    "tumble_final": ("",
                     "SELECT window_start, window_end, product, count(*) AS n, sum(price) AS total "
                     "FROM tumble(sales, ts, interval '2 seconds') GROUP BY 1, 2, 3",
                     f"SELECT {TUMBLE2}, {TUMBLE2} + interval '2 seconds', product, count(*), sum(price) "
                     "FROM {src} AS src GROUP BY 1, 2, 3"),
    "tumble_changes": ("WITH (emit = 'changes') ",
                       "SELECT window_start, zipcode, count(*) AS n, max(price) AS top "
                       "FROM tumble(sales, ts, interval '2 seconds') GROUP BY window_start, zipcode",
                       f"SELECT {TUMBLE2}, zipcode, count(*), max(price) FROM {{src}} AS src GROUP BY 1, 2"),
    "hop_final": ("",
                  "SELECT window_start, window_end, count(*) AS n, min(price) AS low "
                  "FROM hop(sales, ts, interval '1 second', interval '3 seconds') GROUP BY 1, 2",
                  "SELECT to_timestamp(floor(extract(epoch from ts)) - g.o), "
                  "to_timestamp(floor(extract(epoch from ts)) - g.o + 3), count(*), min(price) "
                  "FROM {src} AS src, generate_series(0, 2) AS g(o) GROUP BY 1, 2"),
    "regions": ("WITH (emit = 'changes') ",
                "SELECT z.region, count(*) AS n, sum(s.price) AS total FROM sales s "
                "JOIN zips z ON s.zipcode = z.zipcode GROUP BY z.region",
                "SELECT z.region, count(*), sum(s.price) FROM {src} s JOIN zips z ON s.zipcode = z.zipcode "
                "GROUP BY z.region"),
    # a stream-stream self-join with time bounds on the event time: join state is evicted
    # by the watermark and checkpointed with the views
    "next_id": ("",
                "SELECT a.id, b.id AS next_id, a.price + b.price AS total FROM sales a JOIN sales b "
                "ON b.id = a.id + 1 AND b.ts BETWEEN a.ts - interval '1 second' AND a.ts + interval '1 second'",
                "SELECT a.id, b.id, a.price + b.price FROM {src} a JOIN {src} b "
                "ON b.id = a.id + 1 AND b.ts BETWEEN a.ts - interval '1 second' AND a.ts + interval '1 second'"),
}
MAX_LATENESS_MS = 2000
HOP_SIZE_US = 3_000_000  # the longest window: every window has closed once the watermark passes max ts + this

pytestmark = pytest.mark.skipif(harness.is_kinesalite(), reason="needs streamlake")


Ledger = st.Ledger


def make_record(ledger, rng):
    """(key, bytes) of one record: 1-3 CSV rows sharing the send time as event time; 1 in 80
    records is one malformed row (price 'n/a'); 1 in 150 is 30 s behind (late, unless the
    watermark has not got there yet)."""
    ts_ms = int(time.time() * 1000) - (30_000 if rng.random() < 1 / 150 else 0)
    ts = st.fmt_ts_us(ts_ms * 1000)
    if rng.random() < 1 / 80:
        (rid,) = ledger.new_ids(1)
        line = f"{rid},{rng.choice(ZIPCODES)},{rng.choice(PRODUCTS)},n/a,{ts}"
        with ledger.lock:
            ledger.rows[rid] = None
            ledger.records[rid] = [rid]
        return rid, line.encode()
    ids = ledger.new_ids(rng.randint(1, 3))
    lines = []
    with ledger.lock:
        for rid in ids:
            z, p, price = rng.choice(ZIPCODES), rng.choice(PRODUCTS), rng.randrange(0, 401) / 4  # exact in binary
            ledger.rows[rid] = (z, p, price, ts_ms)
            lines.append(f"{rid},{z},{p},{price},{ts}")
        ledger.records[ids[0]] = ids
    return ids[0], "\n".join(lines).encode()


def producer(client, kind, rng, ledger, stop, first_ack):
    st.producer(client, STREAM, kind, rng, ledger, stop, first_ack, make_record)


def log_records(srv, ledger=None):
    """Record keys found in the stream by GetRecords (each record's first CSV id), their
    number, and (with the ledger) the records that could ever be late: those whose event
    time is more than max_lateness behind an earlier record of their shard (a watermark is
    never ahead of any shard's maximum event time minus max_lateness)."""
    client = srv.client(read_timeout=60)
    keys = collections.Counter()
    total = 0
    disordered = set()
    for s in harness.list_all_shards(client, STREAM):
        recs, _ = harness.read_shard(client, STREAM, s["ShardId"])
        high = None
        for r in recs:
            key = int(r["Data"].split(b",", 1)[0])
            keys[key] += 1
            total += 1
            row = ledger.rows.get(key) if ledger else None
            if row is not None:
                if high is not None and row[3] < high - MAX_LATENESS_MS:
                    disordered.add(key)
                high = row[3] if high is None else max(high, row[3])
    return (keys, total, disordered) if ledger else (keys, total)


def wait_caught_up(srv, total_records, min_watermark_us, deadline_s=120):
    """Polls until the table has read every record in the log and every view's watermark
    reached min_watermark_us (waiting for the server is fine; its speed is not asserted)."""
    end = time.monotonic() + deadline_s
    while True:
        streams = st.show(srv, "STREAMS")
        views = st.show(srv, "VIEWS")
        (sales,) = [s for s in streams if s["name"] == "sales"]
        ok = sales["records_in"] == total_records and sales["status"] == "running"
        for v in views:
            if v["kind"] != "materialized view":
                continue
            assert v["status"] == "running", f"[{WHERE}] view {v['name']} {v['status']}"
            ok = ok and v["watermark"] is not None and st.parse_ts(v["watermark"]) >= min_watermark_us
        if ok:
            return streams, views
        assert time.monotonic() < end, (f"[{WHERE}] runtime not caught up after {deadline_s}s: "
                                        f"{total_records} records in the log; {streams}; {views}")
        time.sleep(0.2)


def errors_table(srv):
    """(malformed ids Counter, late raw records Counter of key -> error rows)."""
    bad, late = collections.Counter(), collections.Counter()
    for reason, raw, sub_row in st.rows(srv, "SELECT reason, raw, sub_row FROM sales_errors"):
        data = bytes.fromhex(raw[2:]) if raw.startswith("\\x") else raw.encode()
        key = int(data.split(b",", 1)[0])
        if reason == "late":
            assert sub_row is None, f"[{WHERE}] late row with sub_row {sub_row}"
            late[key] += 1
        else:
            assert reason.startswith("column price:"), f"[{WHERE}] unexpected error {reason!r} for {data!r}"
            bad[key] += 1
    return bad, late


FINAL_VIEWS = ("tumble_final", "hop_final")  # emit final; window_end is their second column


def closed_only(rows, closed, where, name, is_view):
    """Rows of windows that ended at or before closed[0]; a view may not show a window
    ending after closed[1] (the watermark when its contents had been read)."""
    out = collections.Counter()
    for r, n in rows.items():
        end = r[1][1]  # ("ts", microseconds)
        if is_view:
            assert end <= closed[1], f"{where} view {name} shows window ending {st.fmt_ts_us(end)} beyond its watermark"
        if end <= closed[0]:
            out[r] += n
    return out


def final_view_watermarks(srv):
    wms = [st.parse_ts(v["watermark"]) if v["watermark"] else -2**63
           for v in st.show(srv, "VIEWS") if v["name"] in FINAL_VIEWS]
    return min(wms), max(wms)


def check_views(srv, ledger, present, late_keys, label, partial=False):
    """Every view = its batch query over the on-time rows; three also = the Python oracle.
    `partial`: the producers only paused, windows may still be open: emit-final views are
    compared on the windows their watermark had closed before they were read."""
    where = f"[{label}, {WHERE}]"
    late_ids = sorted(i for k in late_keys for i in ledger.records[k])
    src = "(SELECT * FROM sales" + (f" WHERE id NOT IN ({', '.join(map(str, late_ids))})" if late_ids else "") + ")"
    contents = {}
    closed = None
    if partial:
        closed = (final_view_watermarks(srv)[0], None)
    for name, (_, _, batch) in VIEWS.items():
        got = st.multiset(st.rows(srv, f"SELECT * FROM {name}"))
        want = st.multiset(st.rows(srv, batch.replace("{src}", src)))
        if partial and name in FINAL_VIEWS:
            closed = (closed[0], final_view_watermarks(srv)[1])
            got = closed_only(got, closed, where, name, True)
            want = closed_only(want, closed, where, name, False)
        assert got == want, f"{where} view {name} differs from its batch query: {st.diff_message(got, want)}"
        assert partial or sum(got.values()) > 0, f"{where} view {name} is empty"
        contents[name] = got
    # The oracle: the ledger's rows of the records present in the log, minus late ones.
    on_time = [ledger.rows[i] for k in present if k not in late_keys for i in ledger.records[k]
               if ledger.rows[i] is not None]
    per = collections.defaultdict(list)
    for z, p, price, ts in on_time:
        per[p].append((z, price))
    want = st.multiset([[p, len(v), sum(x for _, x in v), sum(x for _, x in v) / len(v), len({z for z, _ in v})]
                        for p, v in per.items()])
    assert contents["per_product"] == want, f"{where} per_product vs ledger: {st.diff_message(contents['per_product'], want)}"
    tum = collections.defaultdict(list)
    for z, p, price, ts in on_time:
        start = ts // 2000 * 2000 * 1000
        tum[(start, p)].append(price)
    want = st.multiset([[st.fmt_ts_us(s), st.fmt_ts_us(s + 2_000_000), p, len(v), sum(v)] for (s, p), v in tum.items()])
    if partial:
        want = closed_only(want, closed, where, "tumble_final", False)
    assert contents["tumble_final"] == want, \
        f"{where} tumble_final vs ledger: {st.diff_message(contents['tumble_final'], want)}"
    filt = st.multiset([[i, ledger.rows[i][1], ledger.rows[i][2]] for k in present if k not in late_keys
                        for i in ledger.records[k] if ledger.rows[i] is not None and 40 <= ledger.rows[i][2] <= 50])
    assert contents["products"] == filt, f"{where} products vs ledger: {st.diff_message(contents['products'], filt)}"
    good = {i: ledger.rows[i] for k in present if k not in late_keys for i in ledger.records[k]
            if ledger.rows[i] is not None}
    pairs = st.multiset([[i, i + 1, r[2] + good[i + 1][2]] for i, r in good.items()
                         if i + 1 in good and abs(good[i + 1][3] - r[3]) <= 1000])
    assert contents["next_id"] == pairs, f"{where} next_id vs ledger: {st.diff_message(contents['next_id'], pairs)}"
    return contents


BACKFILLED = "SELECT id, price FROM sales WHERE price < 5"


def check_backfilled(srv, ledger, present, late_keys, disordered, label):
    """The view created after round 0 was backfilled from the table's start with its own
    watermark, which may judge lateness differently from the table's for the rows read
    before it existed: it must hold every row the table found on time, except rows that
    could be late at all (disordered), and beyond those only rows the table found late;
    each once."""
    where = f"[{label}, {WHERE}]"
    got = collections.Counter(r[0] for r in st.rows(srv, "SELECT id FROM backfilled"))
    doubled = [i for i, n in got.items() if n > 1]
    assert not doubled, f"{where} backfilled view holds rows twice: {doubled[:5]}"
    want = {i for k in present for i in ledger.records[k] if ledger.rows[i] is not None and ledger.rows[i][2] < 5}
    on_time = want - {i for k in late_keys for i in ledger.records[k]}
    extra = set(got) - want  # so beyond on_time it holds only rows the table found late
    assert not extra, f"{where} backfilled view holds rows of no good record: {sorted(extra)[:5]}"
    first_of = {i: k for k in present for i in ledger.records[k]}
    missing = [i for i in on_time - set(got) if first_of[i] not in disordered]
    assert not missing, f"{where} backfilled view misses rows that cannot be late: {sorted(missing)[:5]}"
    return got


def check_log(srv, ledger, where):
    """GetRecords: every acknowledged record once, in-doubt ones at most once, nothing else.
    Returns (record keys present, number of records)."""
    present, total = log_records(srv)
    doubled = [k for k, n in present.items() if n > 1]
    assert not doubled, f"[{where}] records twice in the log: {doubled[:5]}"
    lost = ledger.acked - set(present)
    assert not lost, f"[{where}] {len(lost)} acknowledged records lost, e.g. {sorted(lost)[:5]}"
    unknown = set(present) - ledger.acked - ledger.maybe
    assert not unknown, f"[{where}] records in the log never acknowledged nor in doubt: {sorted(unknown)[:5]}"
    return present, total


def test_sigkill_while_producing():
    print(f"stream crash test: {WHERE} rounds={ROUNDS}", file=sys.stderr, flush=True)
    rng = random.Random(SEED)
    srv = harness.Server()
    ledger = Ledger()
    kills = mid_checks = 0
    try:
        srv.start()
        harness.create_stream(srv.client(), STREAM, shards=SHARDS)
        st.sql(srv, TABLE)
        st.sql(srv, "CREATE TABLE zips (zipcode text, region text)")
        st.sql(srv, "INSERT INTO zips VALUES " + ", ".join(f"('{z}', '{r}')" for z, r in REGIONS.items()))
        for name, (opts, select, _) in VIEWS.items():
            st.sql(srv, f"CREATE MATERIALIZED VIEW {name} {opts}AS {select}")
        for round_no in range(ROUNDS):
            stop, first_ack = threading.Event(), threading.Event()
            threads = [threading.Thread(target=producer, daemon=True,
                                        args=(srv.client(max_pool_connections=1, read_timeout=15), kind,
                                              random.Random(rng.random()), ledger, stop, first_ack))
                       for kind in WORKERS]
            for t in threads:
                t.start()
            assert first_ack.wait(30), f"[{WHERE}] nothing acknowledged in round {round_no}"
            time.sleep(rng.uniform(0.3, 3.0))  # the random moment of the crash
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
                # crash again while the runtime replays the log from its checkpoint
                st.wait_sql_ready(srv)
                time.sleep(rng.uniform(0.0, 0.4))
                ledger.killing = True
                srv.kill()
                kills += 1
                srv.start()
            st.wait_sql_ready(srv)
            if round_no == 0:
                # a view created once the table has read records: backfilled from its start
                st.sql(srv, f"CREATE MATERIALIZED VIEW backfilled AS {BACKFILLED}")
            if rng.random() < 0.5:
                # While the producers pause: once the runtime has re-read everything, the
                # views already equal the batch queries (closed windows only for emit final).
                label = f"after kill round {round_no}"
                present, total = check_log(srv, ledger, f"{label}, {WHERE}")
                wait_caught_up(srv, total, -2**63)
                check_views(srv, ledger, present, set(errors_table(srv)[1]), label, partial=True)
                mid_checks += 1

        # Quiet: nothing more is produced. Compare.
        assert not ledger.unexpected, f"[{WHERE}] requests failed while no kill was under way: {ledger.unexpected[:3]}"
        present, total = check_log(srv, ledger, WHERE)
        _, _, disordered = log_records(srv, ledger)
        max_ts_us = max(ledger.rows[k][3] if ledger.rows[k] else 0 for k in present) * 1000
        wait_caught_up(srv, total, max_ts_us + HOP_SIZE_US + 1)

        # 2. the stream table reads exactly the good rows of the records in the log
        got = collections.Counter(r[0] for r in st.rows(srv, "SELECT id FROM sales"))
        want = collections.Counter(i for k in present for i in ledger.records[k] if ledger.rows[i] is not None)
        assert got == want, f"[{WHERE}] stream table rows: {st.diff_message(got, want)}"
        sample = st.rows(srv, "SELECT id, zipcode, product, price, ts FROM sales WHERE id % 97 = 0")
        for rid, z, p, price, ts in sample:
            assert (z, p, price, st.parse_ts(ts) // 1000) == ledger.rows[rid], f"[{WHERE}] row {rid} decoded wrong"

        # 3. the errors table: malformed rows once each, late rows whole records
        bad, late = errors_table(srv)
        want_bad = collections.Counter(k for k in present if ledger.rows[k] is None)
        assert bad == want_bad, f"[{WHERE}] malformed rows in sales_errors: {st.diff_message(bad, want_bad)}"
        for k, n in late.items():
            assert k in present and n == len(ledger.records[k]), \
                f"[{WHERE}] late record {k}: {n} error rows for {len(ledger.records.get(k, []))} rows"
        streams = st.show(srv, "STREAMS")
        assert streams[0]["late"] == sum(late.values()), f"[{WHERE}] SHOW STREAMS late {streams[0]}"

        # 4., 5.
        before = check_views(srv, ledger, present, set(late), "after the kills")
        before["backfilled"] = check_backfilled(srv, ledger, present, set(late), disordered, "after the kills")

        # 6. a clean stop checkpoints; the views come back unchanged
        rc = srv.stop()
        assert rc == 0, f"[{WHERE}] SIGTERM exit code {rc}; stderr:\n{srv.stderr_tail()}"
        srv.start()
        st.wait_sql_ready(srv)
        for name in VIEWS:
            again = st.multiset(st.rows(srv, f"SELECT * FROM {name}"))
            assert again == before[name], f"[{WHERE}] view {name} changed over a clean restart: " \
                                          f"{st.diff_message(again, before[name])}"
        again = collections.Counter(r[0] for r in st.rows(srv, "SELECT id FROM backfilled"))
        assert again == before["backfilled"], f"[{WHERE}] view backfilled changed over a clean restart"
        print(f"stream crash test: {kills} kills, {mid_checks} checks between rounds, {len(ledger.acked)} records acknowledged, "
              f"{len(ledger.maybe)} in doubt ({len(set(present) & ledger.maybe)} made it), {len(ledger.refused)} refused, "
              f"{sum(len(ledger.records[k]) for k in present)} rows, {sum(late.values())} late, "
              f"{sum(bad.values())} malformed, {len(before['backfilled'])} rows backfilled ({len(disordered)} records could be late); {WHERE}", file=sys.stderr, flush=True)
        assert len(ledger.acked) > 500, f"[{WHERE}] too little load to mean anything"
        rc = srv.stop()
        assert rc == 0, f"[{WHERE}] SIGTERM exit code {rc}"
    except BaseException:
        print(f"stream crash test FAILED: {WHERE}; data dir kept at {srv.data_dir}", file=sys.stderr, flush=True)
        srv.keep_dir = True
        raise
    finally:
        srv.cleanup()
