"""End-to-end latency of the AWS solution's speed layer: PutRecords acknowledged by the
Kinesis API → the row visible in the `products` materialized view (price BETWEEN 40 AND 50).

Producers (separate processes, boto3 — an unmodified AWS SDK) send `--rate` records/s in
PutRecords batches every 10 ms against `streamlake serve` (durable: fsync before the
acknowledgement) and note each record's acknowledgement time. An observer process polls
the view over the HTTP SQL API (keep-alive) every `--poll-ms` and notes when each record
first appears. Latency = first seen − acknowledged (both CLOCK_MONOTONIC, system-wide);
the observer's resolution (poll period + query time) is printed beside the percentiles.

    /usr/bin/python3 bench/latency/latency.py --bin build/release/streamlake \
        [--rate 10000] [--duration 30] [--producers 2] [--shards 2] [--poll-ms 2]

Prints p50/p90/p99/max and the ratio of p99 to the 100 ms target. Exits 1 when records
were acknowledged but never appeared (a correctness failure, not a speed one).
"""
import argparse
import base64
import http.client
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "kinesis"))
import harness  # noqa: E402

TICK_S = 0.010
GIVE_UP_S = 10.0  # a matching record not seen this long after it was due is reported missing


def matches(rid):
    """Whether record `rid` lands in `products` (one record in five)."""
    return rid % 5 == 0


def record(rid, t0_ms):
    price = 40 + rid % 11 if matches(rid) else 51 + rid % 49
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((t0_ms + rid // 10) / 1000.0))
    return f"{rid},{10000 + rid % 90000},product{rid % 100},{price},{ts}".encode()


def producer(idx, nprod, endpoint, creds, rate, duration, t_start, out_path, t0_ms):
    import boto3
    import botocore.config
    client = boto3.session.Session(aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                                   region_name=harness.REGION).client(
        "kinesis", endpoint_url=endpoint,
        config=botocore.config.Config(retries={"total_max_attempts": 1}, max_pool_connections=1))
    per_tick = rate * TICK_S / nprod
    acks = []
    next_id = idx
    ticks = 0
    owed = 0.0
    failed = 0
    while True:
        due = t_start + ticks * TICK_S
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        if time.monotonic() - t_start >= duration:
            break
        ticks += 1
        owed += per_tick
        n = int(owed)
        owed -= n
        if n == 0:
            continue
        ids = []
        for _ in range(n):
            ids.append(next_id)
            next_id += nprod
        entries = [{"Data": record(i, t0_ms), "PartitionKey": f"k{i % 64}"} for i in ids]
        try:
            r = client.put_records(StreamName="sales", Records=entries)
        except Exception:
            failed += n
            continue
        t_ack = time.monotonic()
        for i, e in zip(ids, r["Records"]):
            if "SequenceNumber" in e and matches(i):
                acks.append((i, t_ack))
            elif "SequenceNumber" not in e:
                failed += 1
    with open(out_path, "w") as f:
        json.dump({"acks": acks, "failed": failed, "sent_until": next_id}, f)


def observer(endpoint_port, auth, poll_s, duration, t_start, rate, out_path):
    conn = http.client.HTTPConnection("127.0.0.1", endpoint_port, timeout=30)
    seen = {}
    lo = 0  # every matching id below lo is seen or given up
    polls = 0
    query_time = 0.0
    end = t_start + duration + GIVE_UP_S
    while time.monotonic() < end:
        t_q = time.monotonic()
        body = f"SELECT id FROM products WHERE id >= {lo}"
        conn.request("POST", "/v1/sql", body=body,
                     headers={"Authorization": auth, "Content-Type": "text/plain"})
        resp = conn.getresponse()
        data = resp.read()
        t_seen = time.monotonic()
        polls += 1
        query_time += t_seen - t_q
        if resp.status != 200:
            raise SystemExit(f"observer: SQL failed {resp.status}: {data[:300]!r}")
        doc = json.loads(data)
        for row in doc["rows"]:
            rid = int(row[0])
            if rid not in seen:
                seen[rid] = t_seen
        # Advance lo past ids seen, not matching, or overdue (reported as missing later).
        now = time.monotonic()
        while matches(lo) is False or lo in seen or now - (t_start + lo / rate) > GIVE_UP_S:
            lo += 1
        if t_start + lo / rate > t_start + duration:
            break  # everything sent has been seen or given up on
        rest = poll_s - (time.monotonic() - t_q)
        if rest > 0:
            time.sleep(rest)
    with open(out_path, "w") as f:
        json.dump({"seen": list(seen.items()), "polls": polls, "query_s": query_time}, f)


def percentile(xs, p):
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("STREAMLAKE_BIN", "build/release/streamlake"))
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--producers", type=int, default=2)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--poll-ms", type=float, default=2)
    ap.add_argument("--warmup", type=float, default=2, help="seconds excluded from the percentiles")
    args = ap.parse_args()
    os.environ["STREAMLAKE_BIN"] = os.path.abspath(args.bin)

    work = tempfile.mkdtemp(prefix="sl-latency-", dir=os.environ.get("DATA_ROOT"))
    cfg = os.path.join(work, "streamlake.toml")
    with open(cfg, "w") as f:
        f.write("[kinesis]\ncreate_delay_ms = 0\n")
    os.makedirs(os.path.join(work, "data"))
    server = harness.Server(data_dir=os.path.join(work, "data"), extra_args=["--config", cfg])
    server.start()
    try:
        creds = server.credentials()
        auth = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        k = server.client()
        harness.create_stream(k, "sales", args.shards)
        t0_ms = int(time.time() * 1000)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for stmt in [
            "CREATE TABLE records (id bigint, zipcode int, product text, price int, ts timestamp) "
            "WITH (connector = 'kinesis', stream = 'sales', format = 'csv', event_time = 'ts', "
            "max_lateness = '5 seconds', start = 'earliest')",
            "CREATE MATERIALIZED VIEW products AS SELECT id, zipcode, product, price, ts FROM records "
            "WHERE price BETWEEN 40 AND 50",
        ]:
            conn.request("POST", "/v1/sql", body=stmt, headers={"Authorization": auth})
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                raise SystemExit(f"setup failed: {r.status} {body[:300]!r}")
        conn.close()

        t_start = time.monotonic() + 0.5
        outs = [os.path.join(work, f"prod{i}.json") for i in range(args.producers)]
        obs_out = os.path.join(work, "observer.json")
        ctx = mp.get_context("fork")
        procs = [ctx.Process(target=producer, args=(i, args.producers, server.endpoint, creds, args.rate,
                                                     args.duration, t_start, outs[i], t0_ms))
                 for i in range(args.producers)]
        obs = ctx.Process(target=observer, args=(server.port, auth, args.poll_ms / 1000.0, args.duration,
                                                 t_start, args.rate, obs_out))
        obs.start()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        obs.join()
        if obs.exitcode != 0 or any(p.exitcode != 0 for p in procs):
            raise SystemExit("a producer or the observer failed")

        acks = {}
        failed = 0
        sent = 0
        for o in outs:
            d = json.load(open(o))
            failed += d["failed"]
            for rid, t in d["acks"]:
                acks[rid] = t
        od = json.load(open(obs_out))
        seen = {int(rid): t for rid, t in od["seen"]}
        sent = max((json.load(open(o))["sent_until"] for o in outs), default=0)
        lat = []
        missing = 0
        for rid, t_ack in acks.items():
            if rid not in seen:
                missing += 1
                continue
            if t_ack - t_start < args.warmup:
                continue
            lat.append((seen[rid] - t_ack) * 1000.0)
        lat.sort()
        polls = od["polls"]
        qms = od["query_s"] / max(polls, 1) * 1000.0
        achieved = sent / args.duration
        p50, p90, p99, mx = (percentile(lat, 50), percentile(lat, 90), percentile(lat, 99),
                             lat[-1] if lat else float("nan"))
        print(f"offered {args.rate} records/s for {args.duration:.0f} s ({args.producers} boto3 producers, "
              f"{args.shards} shards, fsync on); sent ≈ {achieved:,.0f} records/s; "
              f"failed {failed}; products rows measured {len(lat)} (warm-up {args.warmup:.0f} s excluded)")
        print(f"observer: {polls} polls, mean query {qms:.2f} ms, period {args.poll_ms:.1f} ms "
              f"(resolution ≈ {args.poll_ms + qms:.1f} ms)")
        print(f"PutRecords ack → visible in products: p50 {p50:.1f} ms  p90 {p90:.1f} ms  "
              f"p99 {p99:.1f} ms  max {mx:.1f} ms")
        print(f"p99 / target (100 ms) = {p99 / 100.0:.2f}  ({'met' if p99 <= 100 else 'NOT met'})")
        if missing:
            print(f"ERROR: {missing} acknowledged records never appeared in products", file=sys.stderr)
            return 1
        return 0
    finally:
        server.stop()
        server.cleanup()
        import shutil
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
