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
