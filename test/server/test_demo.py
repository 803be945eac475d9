"""`make demo`, end to end: the binary at the path the Makefile and the README run
(BUILD_DIR/streamlake) starts the AWS solution's pipeline — stream `sales`, stream table
`records`, views `products` (price BETWEEN 40 AND 50) and `sales_per_minute` — and its
producer. After a few seconds the demo is stopped (SIGTERM), the same data dir is served
again without the producer, and once the runtime has read every record each view must equal
its query run in batch over the stream table's records.
"""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "kinesis"))
import harness  # noqa: E402
import procs  # noqa: E402

BIN = os.environ.get("SL_DEMO_BIN", "")


def start(args, data):
    ready = "producing 100 records/s" if args[0] == "demo" else "listening http="
    proc, lines = procs.start([BIN] + args + ["--data", data, "--port", "0"], ready, timeout=60)
    return proc, procs.listening_port(lines), lines


def basic_auth(data):
    """The Authorization header of the demo's generated key pair."""
    cp = open(os.path.join(data, "credentials")).read()
    ak = re.search(r"aws_access_key_id\s*=\s*(\S+)", cp).group(1)
    sk = re.search(r"aws_secret_access_key\s*=\s*(\S+)", cp).group(1)
    return {"Authorization": "Basic " + base64.b64encode(f"{ak}:{sk}".encode()).decode()}


def sql(port, data, text):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/sql", data=text.encode(), method="POST",
                                 headers=basic_auth(data))
    with urllib.request.urlopen(req, timeout=60) as r:
        doc = json.loads(r.read())
    return [tuple(row) for row in doc["rows"]]


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check_sign_in_link_and_notebook(port, lines):
    """The printed one-time link signs a browser in once; the demo notebook exists."""
    link = next((m.group(0) for l in lines for m in [re.search(r"http://\S+/v1/session/link\?token=[0-9a-f]+", l)] if m),
                None)
    assert link, f"no sign-in link printed: {lines}"
    link = re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", link)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(link, timeout=10)
        raise AssertionError("the sign-in link did not redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 303, e.code
        assert e.headers["Location"] == "/"
        cookie = e.headers["Set-Cookie"]
        assert cookie.startswith("sl_session=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    session = cookie.split(";")[0]
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/notebooks", headers={"Cookie": session})
    with urllib.request.urlopen(req, timeout=10) as r:
        names = [nb["name"] for nb in json.loads(r.read())["notebooks"]]
    assert "AWS solution — real-time sales" in names, names
    # Used once: a second visit is refused.
    try:
        opener.open(link, timeout=10)
        raise AssertionError("the sign-in link worked twice")
    except urllib.error.HTTPError as e:
        assert e.code == 401, e.code


def duckdb(*statements):
    out = subprocess.run(["node", os.path.join(ROOT, "scripts", "duckdb"), "-csv", *statements], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [line.split(",") for line in out.stdout.strip().splitlines()[1:]]


def check_lake(port, data, total):
    """The lake sinks hold every record once (after the restart too), in the partition of
    its minute, and DuckDB reads the same rows from the files."""
    deadline = time.monotonic() + 60
    while True:  # the sinks commit with the next checkpoint
        hist = sql(port, data, "SELECT count(*) FROM historical")[0][0]
        arch = sql(port, data, "SELECT count(*) FROM products_archive")[0][0]
        prods = sql(port, data, "SELECT count(*) FROM products")[0][0]
        if hist == total and arch == prods:
            break
        assert time.monotonic() < deadline, f"lake: historical {hist} of {total}, products_archive {arch} of {prods}"
        time.sleep(0.5)
    want = sorted(sql(port, data, "SELECT zipcode, product, price, ts FROM records"))
    assert sorted(sql(port, data, "SELECT zipcode, product, price, ts FROM historical")) == want
    hist_glob = os.path.join(data, "lake", "historical", "[0-9]*", "**", "*.csv.gz")
    arch_glob = os.path.join(data, "lake", "products_archive", "[0-9]*", "**", "*.parquet")
    rows = duckdb(f"SELECT count(*), count(DISTINCT (zipcode, product, price, ts)) FROM read_csv('{hist_glob}')")
    assert int(rows[0][0]) == total, f"DuckDB reads {rows[0][0]} CSV rows, the log has {total}"
    # Every row is in the partition directory of its minute.
    misplaced = duckdb(f"SELECT count(*) FROM read_csv('{hist_glob}', filename = true) "
                       f"WHERE strftime(ts, '%Y/%m/%d/%H/%M') <> regexp_extract(filename, '(\\d{{4}}/\\d{{2}}/\\d{{2}}/\\d{{2}}/\\d{{2}})/[^/]*$', 1)")
    assert int(misplaced[0][0]) == 0, f"{misplaced[0][0]} rows outside their minute's partition"
    rows = duckdb(f"SELECT count(*), min(price), max(price) FROM read_parquet('{arch_glob}')")
    assert int(rows[0][0]) == arch and int(rows[0][1]) >= 40 and int(rows[0][2]) <= 50, rows
    status = get_json(port, data, "/v1/status")
    sinks = {k["name"]: k for k in status["sinks"]}
    assert sinks["historical"]["rows"] == total and sinks["historical"]["files"] >= 1, sinks
    assert sinks["products_archive"]["format"] == "parquet", sinks


def get_json(port, data, path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=basic_auth(data))
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_demo_pipeline_end_to_end():
    assert BIN and os.path.exists(BIN), f"no binary at {BIN!r}: `make demo` runs BUILD_DIR/streamlake"
    data = tempfile.mkdtemp(prefix="sl-demo-test-")
    try:
        proc, port, lines = start(["demo"], data)
        try:
            deadline = time.monotonic() + 60
            while True:
                n = sql(port, data, "SELECT count(*) FROM products")[0][0]
                if n >= 20:
                    break
                assert time.monotonic() < deadline, f"products stayed at {n} rows; output: {lines}"
                time.sleep(0.2)
            names = {r[0] for r in sql(port, data, "SHOW VIEWS")}
            assert {"products", "sales_per_minute"} <= names
            check_sign_in_link_and_notebook(port, lines)
        finally:
            stop(proc)
        # Served again, without the producer: the runtime catches up with every record.
        proc, port, lines = start(["serve"], data)
        try:
            deadline = time.monotonic() + 60
            while True:
                total = sql(port, data, "SELECT count(*) FROM records")[0][0]
                views = {r[0]: r for r in sql(port, data, "SHOW VIEWS")}
                read = views["products"][6]  # rows_in
                if read == total:
                    break
                assert time.monotonic() < deadline, f"products read {read} of {total} rows"
                time.sleep(0.2)
            assert total >= 100
            got = sorted(sql(port, data, "SELECT zipcode, product, price, ts FROM products"))
            want = sorted(sql(port, data, "SELECT zipcode, product, price, ts FROM records WHERE price BETWEEN 40 AND 50"))
            assert got == want and len(got) >= 20
            got = sorted(sql(port, data, "SELECT window_start, product, sales FROM sales_per_minute"))
            want = sorted(sql(port, data, "SELECT date_trunc('minute', ts), product, count(*) FROM records GROUP BY 1, 2"))
            assert got == want
            assert sql(port, data, "SELECT count(*) FROM records_errors")[0][0] == 0
            check_lake(port, data, total)
        finally:
            stop(proc)
    finally:
        shutil.rmtree(data, ignore_errors=True)
