"""Helpers shared by the streaming process-level tests: SQL over the HTTP API
(`POST /v1/sql`, Basic auth with the data dir's access key), waiting for the runtime to
catch up, and multiset comparison of result rows.

Standard library only (plus test/kinesis/harness.py, put on sys.path by conftest.py).
"""
import base64
import collections
import datetime
import http.client
import json
import threading
import time


class SqlError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


def sql(srv, text, timeout=120):
    """Runs one statement; returns (column names, rows as lists). Raises SqlError."""
    ak, sk = srv.credentials()
    auth = base64.b64encode(f"{ak}:{sk}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    try:
        conn.request("POST", "/v1/sql", body=json.dumps({"sql": text}).encode(),
                     headers={"Content-Type": "application/json", "Authorization": "Basic " + auth})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    doc = json.loads(body)
    if "error" in doc:
        raise SqlError(doc["error"]["code"], doc["error"]["message"] + f"  [statement: {text}]")
    return [c["name"] for c in doc["columns"]], doc["rows"]


def rows(srv, text, timeout=120):
    return sql(srv, text, timeout)[1]


def wait_sql_ready(srv, deadline_s=60):
    """After a start: the HTTP SQL API answers (the runtime opened its checkpoint)."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            return rows(srv, "SHOW STREAMS", timeout=10)
        except (OSError, http.client.HTTPException):
            assert time.monotonic() < end, f"SQL API not answering {deadline_s}s after start"
            time.sleep(0.1)


def parse_ts(text):
    """'2026-11-24 15:50:01.123' (optionally with a +00 offset) -> microseconds since the epoch."""
    t = text.replace("T", " ")
    for suffix in ("+00:00", "+00", "Z"):
        if t.endswith(suffix):
            t = t[: -len(suffix)]
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in t else "%Y-%m-%d %H:%M:%S"
    d = datetime.datetime.strptime(t, fmt).replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1_000_000 + d.microsecond


def fmt_ts_us(us):
    d = datetime.datetime.fromtimestamp(us // 1_000_000, tz=datetime.timezone.utc)
    return d.strftime("%Y-%m-%d %H:%M:%S") + f".{us % 1_000_000 // 1000:03d}"


def norm(v):
    """A value made comparable across result sets: numbers rounded to 9 significant digits
    (sums and averages of doubles), timestamps (any rendering) to microseconds."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return float(f"{float(v):.9g}")
    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] in " T" and v[13] == ":":
        try:
            return ("ts", parse_ts(v))
        except ValueError:
            return v
    return v


def multiset(result_rows):
    return collections.Counter(tuple(norm(v) for v in r) for r in result_rows)


def diff_message(got, want, limit=8):
    """What differs between two Counters of rows (extra = in got only, missing = in want only)."""
    extra = got - want
    missing = want - got
    out = []
    if extra:
        out.append(f"{sum(extra.values())} rows only in the view, e.g. {list(extra.items())[:limit]}")
    if missing:
        out.append(f"{sum(missing.values())} rows only in the expectation, e.g. {list(missing.items())[:limit]}")
    return "; ".join(out)


def show(srv, what):
    cols, rs = sql(srv, f"SHOW {what}")
    return [dict(zip(cols, r)) for r in rs]


class Ledger:
    """What the producers know. Rows: id -> (zipcode, product, price, ts_ms) for good rows,
    id -> None for malformed ones. Records: key (first id) -> [ids]. A record is acked,
    in doubt (its request was in flight at a kill) or refused (an entry error)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = {}
        self.records = {}
        self.acked = set()
        self.maybe = set()
        self.refused = set()
        self.next_id = 1
        self.killing = False  # set just before a kill: requests failing then are in doubt
        self.unexpected = []  # requests that failed while no kill was under way, or got a wrong answer

    def new_ids(self, n):
        with self.lock:
            first = self.next_id
            self.next_id += n
            return list(range(first, first + n))


def producer(client, stream, kind, rng, ledger, stop, first_ack, make_record):
    """A producer thread: PutRecords batches of 1-40 (kind "batch") or single PutRecords of
    make_record(ledger, rng) -> (key, bytes) until `stop`; fills the ledger's acked / in
    doubt / refused sets (a request failing while ledger.killing is in doubt, otherwise
    unexpected)."""
    while not stop.is_set():
        count = rng.randint(1, 40) if kind == "batch" else 1
        recs = [make_record(ledger, rng) for _ in range(count)]
        try:
            if kind == "batch":
                resp = client.put_records(StreamName=stream, Records=[
                    {"Data": d, "PartitionKey": f"pk-{rng.randrange(10**6)}"} for _, d in recs])
                assert len(resp["Records"]) == len(recs)
                with ledger.lock:
                    for (key, _), r in zip(recs, resp["Records"]):
                        (ledger.refused if "ErrorCode" in r else ledger.acked).add(key)
            else:
                key, d = recs[0]
                client.put_record(StreamName=stream, Data=d, PartitionKey=f"pk-{rng.randrange(10**6)}")
                with ledger.lock:
                    ledger.acked.add(key)
            first_ack.set()
        except AssertionError as e:  # a wrong answer: fail the test (a thread cannot raise into it)
            with ledger.lock:
                ledger.unexpected.append(f"{e!r}")
            return
        except Exception as e:
            # killed mid-request (reset, refused, timeout): fate unknown
            with ledger.lock:
                ledger.maybe.update(key for key, _ in recs)
                if not ledger.killing:
                    ledger.unexpected.append(repr(e))
            return
