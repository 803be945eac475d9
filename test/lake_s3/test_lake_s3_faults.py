"""A lake sink on S3 under faults, at process level.

s3rver (npm) holds the bucket; src/lake/tests/s3_fault_proxy.py stands between it and
`streamlake serve` (AWS_ENDPOINT_URL_S3 names the proxy). The proxy checks every request's
SigV4 signature, honours If-None-Match as S3 does, and answers 500/503 to a share of
requests, drops connections before and after forwarding them, cuts answers short, stalls
past the client's timeout, fails CompleteMultipartUpload inside a 200, and has outages of
1.5 s. Producers put N CSV records with unique ids into a stream read by a stream table
with a CSV.gz sink at s3://lake/hist rolling every 2 s, so that many files and commits go
up through the faults.

At the end the sink must have caught up and the lake must hold exactly the input, each id
once with its values — read by our SQL (through the faults) and, independently of the
server, by replaying the commit files straight from s3rver in Python.

Replay: SL_LAKE_S3_SEED=<seed> (printed, and in every failure message) fixes the proxy's
choices and the data; thread and timer interleavings still vary.
"""
import csv
import gzip
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config

import harness
import streamtest as st

SEED = int(os.environ.get("SL_LAKE_S3_SEED") or random.SystemRandom().randrange(2**31))
WHERE = f"SL_LAKE_S3_SEED={SEED}"
SOURCE = os.environ.get("SL_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NODE = os.environ.get("SL_NODE") or "node"
N = 6000
BATCH = 200
STREAM = "sales-s3"


def start_child(cmd, marker, deadline_s=30):
    """Starts cmd; returns (process, the first stdout line containing marker)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        line = proc.stdout.readline().decode("utf-8", "replace")
        if not line:
            break
        if marker in line:
            return proc, line.strip()
    proc.kill()
    proc.wait()
    raise AssertionError(f"[{WHERE}] {cmd[:2]} did not print {marker!r}")


def s3_client(port):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER",
                        config=Config(s3={"addressing_style": "path"}))


def lake_rows_from_s3(s3, prefix):
    """Replays the commits straight from s3rver: {id: (product, price)} and the live files."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="lake", Prefix=prefix + "_commits/"):
        keys += [o["Key"] for o in page.get("Contents", [])]
    keys.sort()
    live = {}
    for n, key in enumerate(keys, start=1):
        assert key.endswith(f"{n:020d}.json"), f"[{WHERE}] commit files not numbered 1..N: {key}"
        c = json.loads(s3.get_object(Bucket="lake", Key=key)["Body"].read())
        assert c["commit"] == n, f"[{WHERE}] {key}: {c}"
        for r in c["removed"]:
            assert r in live, f"[{WHERE}] {key} removes {r}, which is not live"
            del live[r]
        for a in c["added"]:
            live[a["path"]] = a
    rows = {}
    for path, entry in live.items():
        data = gzip.decompress(s3.get_object(Bucket="lake", Key=prefix + path)["Body"].read())
        reader = csv.reader(io.StringIO(data.decode()))
        header = next(reader)
        count = 0
        for rec in reader:
            r = dict(zip(header, rec))
            i = int(r["id"])
            assert i not in rows, f"[{WHERE}] id {i} twice in the lake (again in {path})"
            rows[i] = (r["product"], float(r["price"]))
            count += 1
        assert count == entry["rows"], f"[{WHERE}] {path}: {count} rows, its commit says {entry['rows']}"
    return rows, live


def test_lake_sink_on_s3_under_faults():
    print(f"lake on S3 under faults: {WHERE}")
    rng = random.Random(SEED)
    tmp = tempfile.mkdtemp(prefix="sl-lake-s3-")
    procs = []
    srv = None
    passed = False
    try:
        s3rver, line = start_child([NODE, "--openssl-legacy-provider",
                                    os.path.join(SOURCE, "node_modules", "s3rver", "bin", "s3rver.js"),
                                    "-d", os.path.join(tmp, "s3"), "-a", "127.0.0.1", "-p", "0", "-s",
                                    "--configure-bucket", "lake"], "listening on")
        procs.append(s3rver)
        s3_port = int(line.rsplit(":", 1)[1])
        stats = os.path.join(tmp, "proxy.stats")
        proxy, line = start_child([sys.executable, os.path.join(SOURCE, "src", "lake", "tests", "s3_fault_proxy.py"),
                                   "--upstream", str(s3_port), "--secret", "S3RVER", "--conditional",
                                   "--seed", str(SEED), "--fault-rate", "0.25", "--stall-ms", "5000",
                                   "--outage-every-ms", "6000", "--outage-ms", "1500",
                                   "--complete-error-rate", "0.3", "--stats", stats,
                                   "--log", os.path.join(tmp, "proxy.log")], "PORT ")
        procs.append(proxy)
        proxy_port = int(line.split()[1])

        os.environ.update({"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{proxy_port}", "AWS_ACCESS_KEY_ID": "S3RVER",
                           "AWS_SECRET_ACCESS_KEY": "S3RVER", "AWS_REGION": "us-east-1"})
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.makedirs(os.path.join(tmp, "data"))
        srv = harness.Server(data_dir=os.path.join(tmp, "data")).start()
        st.wait_sql_ready(srv)
        client = srv.client()
        harness.create_stream(client, STREAM, shards=2)
        st.sql(srv, f"""CREATE TABLE sales (id bigint, product text, price double precision, ts timestamp)
                        WITH (connector = 'kinesis', stream = '{STREAM}', format = 'csv', event_time = 'ts',
                              max_lateness = '1 hour', start = 'earliest')""")
        st.sql(srv, "CREATE SINK hist FROM sales WITH (path = 's3://lake/hist', format = 'csv.gz', "
                    "partition = 'yyyy/MM/dd/HH/mm', roll = '2 seconds')")

        want = {}
        now_ms = int(time.time() * 1000)
        for start in range(0, N, BATCH):
            entries = []
            for i in range(start, min(N, start + BATCH)):
                product, price = f"p{rng.randrange(50)}", rng.randrange(1, 10000) / 100
                want[i] = (product, price)
                ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime((now_ms + i) / 1000)) + f".{(now_ms + i) % 1000:03d}"
                entries.append({"Data": f"{i},{product},{price},{ts}".encode(), "PartitionKey": str(i)})
            while entries:  # the log is local: only throttling could refuse records
                resp = client.put_records(StreamName=STREAM, Records=entries)
                entries = [e for e, r in zip(entries, resp["Records"]) if "ErrorCode" in r]
            time.sleep(0.25)

        deadline = time.monotonic() + 240
        count = -1
        while time.monotonic() < deadline:
            try:
                count = st.rows(srv, "SELECT count(*) FROM hist")[0][0]
            except st.SqlError as e:  # a read that ran out of retries: try again
                print(f"[{WHERE}] count failed: {e}")
            if count == N:
                break
            time.sleep(1)
        sinks = st.rows(srv, "SHOW SINKS")
        assert count == N, f"[{WHERE}] the sink holds {count} rows of {N}; SHOW SINKS: {sinks}"

        got = {}
        for i, product, price in st.rows(srv, "SELECT id, product, price FROM hist"):
            assert int(i) not in got, f"[{WHERE}] id {i} twice in SELECT FROM hist"
            got[int(i)] = (product, float(price))
        assert got == want, f"[{WHERE}] SELECT FROM hist differs from the input"

        direct, live = lake_rows_from_s3(s3_client(s3_port), "hist/")
        assert direct == want, (f"[{WHERE}] the lake read from s3rver differs: {len(direct)} rows, "
                                f"missing {sorted(set(want) - set(direct))[:5]}, extra {sorted(set(direct) - set(want))[:5]}")

        with open(stats) as f:
            counts = {k: int(v) for k, v in (line.split() for line in f)}
        print(f"[{WHERE}] {len(live)} live files; proxy: {counts}")
        assert counts.get("bad_signature", 0) == 0, f"[{WHERE}] {counts}"
        for fault in ("e500", "e503", "drop_before", "drop_after", "truncate", "outage"):
            assert counts.get(fault, 0) > 0, f"[{WHERE}] no {fault} fault was injected: {counts}"
        passed = True
    finally:
        if srv is not None:
            srv.stop()
        for p in procs:
            p.kill()
            p.wait()
        if passed:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"[{WHERE}] s3rver's directory, the server's data and the proxy's log kept in {tmp}")
