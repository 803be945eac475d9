"""The web notebook's HTTP API (docs/notebook.md, "HTTP API") against `streamlake serve`.

Sessions (sign-in, cookie attributes, sign-out, CSRF), who may do what (unauthenticated,
cross-site and reader requests refused, and nothing changes), notebooks (limits, CRUD,
duplicate, rename, export/import, version conflicts, restart), the Zeppelin import of the
AWS solution's note, query cancel, live results over server-sent events while records are
produced with boto3, /v1/status and /metrics. Users come from a config: admin, writer,
reader.
"""
import base64
import http.client
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kinesis"))
import harness  # noqa: E402

HERE = os.path.dirname(__file__)
FIXTURE = os.path.join(HERE, "fixtures", "zeppelin_aws_solution.json")
USERS = {
    "admin": ("AKADMIN0000000000001", "admin-secret-0001", "admin"),
    "writer": ("AKWRITER000000000001", "writer-secret-0001", "writer"),
    "reader": ("AKREADER000000000001", "reader-secret-0001", "reader"),
}


def write_config(d, extra=""):
    cfg = os.path.join(d, "streamlake.toml")
    with open(cfg, "w") as f:
        f.write("[kinesis]\ncreate_delay_ms = 0\n[streaming]\ncheckpoint_interval_ms = 200\n" + extra)
        for name, (ak, secret, role) in USERS.items():
            f.write(f'[[users]]\nname = "{name}"\naccess_key = "{ak}"\nsecret = "{secret}"\nrole = "{role}"\n')
    data = os.path.join(d, "data")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "credentials"), "w") as f:
        f.write(f"[default]\naws_access_key_id = {USERS['admin'][0]}\naws_secret_access_key = {USERS['admin'][1]}\n")
    return cfg, data


@pytest.fixture(scope="module")
def server():
    d = tempfile.mkdtemp(prefix="sl-notebook-test-")
    cfg, data = write_config(d)
    s = harness.Server(data_dir=data, extra_args=["--config", cfg, "--pg-port", "0"])
    s.start()
    yield s
    s.stop()
    s.cleanup()
    shutil.rmtree(d, ignore_errors=True)


def call(server, method, path, body=None, headers=None, raw=None):
    """(status, headers, parsed JSON body or text or None)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(server.endpoint + path, data=data, method=method, headers=headers or {})
    if data is not None and "Content-Type" not in (headers or {}):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, hdrs, payload = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, payload = e.code, e.headers, e.read()
    text = payload.decode()
    ctype = hdrs.get("Content-Type", "")
    if ctype.startswith("application/json") and text:
        return status, hdrs, json.loads(text)
    return status, hdrs, text or None


def basic(user):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{USERS[user][1]}".encode()).decode()}


class Web:
    """A signed-in browser: the session cookie and the CSRF token."""

    def __init__(self, server, user):
        self.server = server
        status, hdrs, body = call(server, "POST", "/v1/session", {"user": user, "password": USERS[user][1]})
        assert status == 200, body
        self.set_cookie = hdrs["Set-Cookie"]
        self.cookie = self.set_cookie.split(";")[0]
        self.csrf = body["csrf_token"]
        self.session = body

    def headers(self, csrf=True, extra=None):
        h = {"Cookie": self.cookie}
        if csrf:
            h["X-CSRF-Token"] = self.csrf
        h.update(extra or {})
        return h

    def get(self, path):
        return call(self.server, "GET", path, headers=self.headers(csrf=False))

    def send(self, method, path, body=None, raw=None, csrf=True, extra=None):
        return call(self.server, method, path, body=body, raw=raw, headers=self.headers(csrf, extra))


def notebook_ids(web):
    status, _, body = web.get("/v1/notebooks")
    assert status == 200
    return {n["id"]: n for n in body["notebooks"]}


def sql_basic(server, user, text):
    return call(server, "POST", "/v1/sql", raw=text.encode(), headers={**basic(user), "Content-Type": "text/plain"})


# ---------------------------------------------------------------- sessions


def test_sign_in_sets_a_strict_http_only_cookie(server):
    web = Web(server, "admin")
    attrs = [a.strip() for a in web.set_cookie.split(";")]
    name, token = attrs[0].split("=", 1)
    assert name == "sl_session"
    assert len(token) == 64 and all(c in "0123456789abcdef" for c in token), "256 random bits, hex"
    assert "HttpOnly" in attrs and "SameSite=Strict" in attrs and "Path=/" in attrs
    assert "Secure" not in attrs, "no TLS here: a Secure cookie would not come back"
    assert web.session["user"] == "admin" and web.session["role"] == "admin"
    assert len(web.session["csrf_token"]) >= 32 and web.session["csrf_token"] != token
    assert web.session["expires_at_ms"] > time.time() * 1000 + 11 * 3600 * 1000, "12 h idle expiry"
    status, hdrs, body = web.get("/v1/session")
    assert status == 200 and body["user"] == "admin" and body["csrf_token"] == web.csrf
    assert "Set-Cookie" not in hdrs
    # Sign in by access key too.
    status, _, body = call(server, "POST", "/v1/session", {"user": USERS["reader"][0], "password": USERS["reader"][1]})
    assert status == 200 and body["user"] == "reader" and body["role"] == "reader"


def test_wrong_password_is_refused_after_a_delay(server):
    for user, password in [("admin", "wrong"), ("nobody", "x"), ("admin", "")]:
        t0 = time.monotonic()
        status, hdrs, body = call(server, "POST", "/v1/session", {"user": user, "password": password})
        elapsed = time.monotonic() - t0
        assert status == 401 and body["error"]["code"] == "28P01", body
        assert "Set-Cookie" not in hdrs
        assert elapsed >= 0.2, f"refusal came after {elapsed:.3f}s: no constant delay"
    status, _, body = call(server, "POST", "/v1/session", raw=b"{not json")
    assert status == 400 and "body" in body["error"]["message"]


def test_sign_out_destroys_the_session(server):
    web = Web(server, "writer")
    status, hdrs, _ = web.send("DELETE", "/v1/session")
    assert status == 204
    assert "Max-Age=0" in hdrs["Set-Cookie"] and hdrs["Set-Cookie"].startswith("sl_session=;")
    for path in ["/v1/session", "/v1/notebooks", "/v1/catalog"]:
        status, _, body = web.get(path)
        assert status == 401, (path, body)


API_ROUTES = [
    ("GET", "/v1/session"), ("DELETE", "/v1/session"), ("POST", "/v1/sql"), ("POST", "/v1/sql/cancel"),
    ("GET", "/v1/catalog"), ("GET", "/v1/notebooks"), ("POST", "/v1/notebooks"),
    ("GET", "/v1/notebooks/{id}"), ("PUT", "/v1/notebooks/{id}"), ("DELETE", "/v1/notebooks/{id}"),
    ("GET", "/v1/notebooks/{id}/export"), ("POST", "/v1/notebooks/{id}/duplicate"),
    ("POST", "/v1/notebooks/import"), ("GET", "/v1/live"), ("POST", "/v1/live/abc/subscribe"),
    ("DELETE", "/v1/live/abc/subscribe/p1"), ("GET", "/v1/status"), ("GET", "/metrics"),
]


def test_every_api_route_refuses_the_unauthenticated(server):
    admin = Web(server, "admin")
    status, _, nb = admin.send("POST", "/v1/notebooks", {"name": "secret plans"})
    assert status == 201
    before = notebook_ids(admin)
    bogus = {"Cookie": "sl_session=" + "ab" * 32, "X-CSRF-Token": admin.csrf}
    for method, path in API_ROUTES:
        path = path.replace("{id}", nb["id"])
        body = {"name": "x", "version": 1, "sql": "SELECT 1", "query_id": "q", "id": "p"}
        for headers in [{}, bogus, {"Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode()}]:
            status, _, resp = call(server, method, path, body=body if method in ("POST", "PUT") else None,
                                   headers=headers)
            assert status == 401, (method, path, headers, status, resp)
            assert isinstance(resp, dict) and resp["error"]["code"] == "28000", (method, path, resp)
    assert notebook_ids(admin) == before
    status, _, body = admin.get(f"/v1/notebooks/{nb['id']}")
    assert status == 200 and body["version"] == 1 and body["name"] == "secret plans"
    # /health stays public and says nothing.
    status, _, text = call(server, "GET", "/health")
    assert status == 200 and text == "ok\n"


def test_cross_site_requests_are_refused_and_change_nothing(server):
    web = Web(server, "admin")
    status, _, nb = web.send("POST", "/v1/notebooks", {"name": "csrf target"})
    assert status == 201
    before = notebook_ids(web)
    origin = f"http://127.0.0.1:{server.port}"
    attempts = [
        ("POST", "/v1/notebooks", {"name": "evil"}),
        ("PUT", f"/v1/notebooks/{nb['id']}", {"name": "evil", "version": 1}),
        ("DELETE", f"/v1/notebooks/{nb['id']}", None),
        ("POST", f"/v1/notebooks/{nb['id']}/duplicate", None),
        ("POST", "/v1/sql", {"sql": "CREATE TABLE evil (a int)"}),
        ("DELETE", "/v1/session", None),
    ]
    for method, path, body in attempts:
        for csrf, extra in [(False, {}), (False, {"X-CSRF-Token": "0" * 64}), (True, {"Origin": "https://evil.example"}),
                            (True, {"Origin": "null"})]:
            status, _, resp = web.send(method, path, body=body, csrf=csrf, extra=extra)
            assert status == 403 and resp["error"]["code"] == "csrf", (method, path, extra, resp)
    # The same requests from our own page pass (checked on a harmless one).
    status, _, _ = web.send("POST", "/v1/sql", {"sql": "SELECT 1"}, extra={"Origin": origin})
    assert status == 200
    assert notebook_ids(web) == before
    status, _, body = sql_basic(server, "admin", "SELECT count(*) FROM evil")
    assert status == 400 and body["error"]["code"] == "42P01", "the cross-site CREATE TABLE ran"
    # A cross-site sign-in is refused as well.
    status, _, body = call(server, "POST", "/v1/session", {"user": "admin", "password": USERS["admin"][1]},
                           headers={"Origin": "https://evil.example"})
    assert status == 403
    # The session still works: the refusals did not sign it out.
    status, _, _ = web.get("/v1/session")
    assert status == 200


def test_basic_auth_needs_no_csrf_token(server):
    status, _, body = call(server, "POST", "/v1/notebooks", {"name": "from curl"}, headers=basic("writer"))
    assert status == 201 and body["owner"] == "writer"


# ---------------------------------------------------------------- roles


def test_reader_cannot_change_another_users_notebook_or_run_ddl(server):
    admin, reader = Web(server, "admin"), Web(server, "reader")
    status, _, nb = admin.send("POST", "/v1/notebooks", {"name": "admin's", "paragraphs": [
        {"type": "sql", "text": "SELECT 1"}]})
    assert status == 201
    status, _, got = reader.get(f"/v1/notebooks/{nb['id']}")
    assert status == 200 and got == nb, "every user reads every notebook"
    status, _, body = reader.send("PUT", f"/v1/notebooks/{nb['id']}", {**nb, "name": "mine now"})
    assert status == 403 and body["error"]["code"] == "42501", body
    status, _, body = reader.send("DELETE", f"/v1/notebooks/{nb['id']}")
    assert status == 403
    status, _, got = admin.get(f"/v1/notebooks/{nb['id']}")
    assert got == nb, "a refused request changed the notebook"
    # Their own notebooks they may change; a duplicate of admin's becomes theirs.
    status, _, dup = reader.send("POST", f"/v1/notebooks/{nb['id']}/duplicate")
    assert status == 201 and dup["owner"] == "reader" and dup["name"] == "admin's (copy)"
    status, _, dup2 = reader.send("PUT", f"/v1/notebooks/{dup['id']}", {**dup, "name": "reader's"})
    assert status == 200 and dup2["name"] == "reader's"
    # An admin may change anyone's.
    status, _, dup3 = admin.send("PUT", f"/v1/notebooks/{dup['id']}", {**dup2, "name": "fixed by admin"})
    assert status == 200 and dup3["owner"] == "reader" and dup3["version"] == 3
    # SQL with the cookie: queries yes, DDL and INSERT no.
    status, _, body = reader.send("POST", "/v1/sql", {"sql": "SELECT 40 + 2 AS x"})
    assert status == 200 and body["rows"] == [[42]]
    status, _, body = sql_basic(server, "admin", "CREATE TABLE reader_target (a int)")
    assert status == 200, body
    for stmt in ["CREATE TABLE reader_t (a int)", "DROP TABLE reader_target", "INSERT INTO reader_target VALUES (1)"]:
        status, _, body = reader.send("POST", "/v1/sql", {"sql": stmt})
        assert status == 403 and body["error"]["code"] == "42501", (stmt, body)
    status, _, body = sql_basic(server, "admin", "SELECT * FROM reader_t")
    assert status == 400 and body["error"]["code"] == "42P01"
    status, _, body = sql_basic(server, "admin", "SELECT count(*) FROM reader_target")
    assert status == 200 and body["rows"] == [[0]]


# ---------------------------------------------------------------- validation


def test_oversized_and_malformed_notebooks_are_refused_and_change_nothing(server):
    web = Web(server, "writer")
    status, _, nb = web.send("POST", "/v1/notebooks", {"name": "keep me", "paragraphs": [
        {"type": "sql", "text": "SELECT 1"}]})
    assert status == 201
    before = notebook_ids(web)
    para = {"type": "sql", "text": "SELECT 1"}
    cases = [
        (413, None, b'{"name":"big","paragraphs":[{"type":"sql","text":"' + b"x" * (1 << 20) + b'"}]}', "1 MiB"),
        (400, None, b'{"name": "broken", ', "body"),
        (400, None, b'[1, 2]', "body"),
        (400, {"name": 7}, None, "name"),
        (400, {"paragraphs": []}, None, "name"),
        (400, {"name": ""}, None, "name"),
        (400, {"name": "n" * 201}, None, "name"),
        (400, {"name": "ok", "paragraphs": {"a": 1}}, None, "paragraphs"),
        (400, {"name": "ok", "paragraphs": [para] * 501}, None, "paragraphs"),
        (400, {"name": "ok", "paragraphs": [{"type": "sql", "text": 5}]}, None, "paragraphs[0].text"),
        (400, {"name": "ok", "paragraphs": [para, {"type": "python", "text": "x"}]}, None, "paragraphs[1].type"),
        (400, {"name": "ok", "paragraphs": [{"type": "sql", "text": "x" * (64 * 1024 + 1)}]}, None, "paragraphs[0].text"),
        (400, {"name": "ok", "paragraphs": [{**para, "view": {"mode": "donut"}}]}, None, "paragraphs[0].view.mode"),
        (400, {"name": "ok", "paragraphs": [{**para, "view": {"y": "price"}}]}, None, "paragraphs[0].view.y"),
        (400, {"name": "ok", "paragraphs": [{**para, "live": "yes"}]}, None, "paragraphs[0].live"),
        (400, {"name": "ok", "paragraphs": [{**para, "id": "not-a-uuid"}]}, None, "paragraphs[0].id"),
    ]
    for expect, body, raw, field in cases:
        for method, path in [("POST", "/v1/notebooks"), ("PUT", f"/v1/notebooks/{nb['id']}")]:
            b = body
            if method == "PUT" and b is not None:
                b = {**b, "version": nb["version"]}
            status, _, resp = web.send(method, path, body=b, raw=raw)
            assert status == expect, (method, field, status, resp)
            assert field in resp["error"]["message"], (field, resp)
    status, _, resp = web.send("PUT", f"/v1/notebooks/{nb['id']}", {"name": "no version"})
    assert status == 400 and "version" in resp["error"]["message"]
    status, _, resp = web.send("PUT", f"/v1/notebooks/{nb['id']}", {"name": "v", "version": "1"})
    assert status == 400 and "version" in resp["error"]["message"]
    status, _, resp = web.send("PUT", f"/v1/notebooks/{nb['id']}", {"name": "emptied?", "version": nb["version"]})
    assert status == 400 and "paragraphs" in resp["error"]["message"], "a PUT without paragraphs"
    status, _, resp = web.send("PUT", f"/v1/notebooks/{nb['id']}", {**nb, "id": str(uuid.uuid4())})
    assert status == 400 and "id" in resp["error"]["message"]
    assert notebook_ids(web) == before
    status, _, got = web.get(f"/v1/notebooks/{nb['id']}")
    assert got == nb
    status, _, resp = web.get(f"/v1/notebooks/{uuid.uuid4()}")
    assert status == 404


# ---------------------------------------------------------------- notebooks


def test_crud_duplicate_rename_export_import(server):
    web = Web(server, "writer")
    paragraphs = [
        {"type": "sql", "text": "SELECT product, sum(price) AS total FROM products GROUP BY product",
         "view": {"mode": "bar", "x": "product", "y": ["total"], "series": None, "stacked": True}, "live": True},
        {"type": "markdown", "text": "# Sales\n*per product*"},
    ]
    status, hdrs, nb = web.send("POST", "/v1/notebooks", {"name": "Sales ✓", "paragraphs": paragraphs})
    assert status == 201
    uuid.UUID(nb["id"])
    assert nb["owner"] == "writer" and nb["version"] == 1 and nb["name"] == "Sales ✓"
    assert nb["created_ms"] == nb["updated_ms"] and nb["created_ms"] > 0
    assert [p["type"] for p in nb["paragraphs"]] == ["sql", "markdown"]
    assert nb["paragraphs"][0]["view"] == paragraphs[0]["view"] and nb["paragraphs"][0]["live"] is True
    assert nb["paragraphs"][1]["view"]["mode"] == "table" and nb["paragraphs"][1]["unsupported"] is None
    for p in nb["paragraphs"]:
        uuid.UUID(p["id"])
    listed = notebook_ids(web)[nb["id"]]
    assert listed == {"id": nb["id"], "name": "Sales ✓", "owner": "writer", "updated_ms": nb["updated_ms"],
                      "paragraphs": 2}
    # Rename = PUT with a new name; paragraph ids are kept.
    status, _, renamed = web.send("PUT", f"/v1/notebooks/{nb['id']}", {**nb, "name": "Sales per product"})
    assert status == 200 and renamed["version"] == 2 and renamed["name"] == "Sales per product"
    assert [p["id"] for p in renamed["paragraphs"]] == [p["id"] for p in nb["paragraphs"]]
    assert renamed["created_ms"] == nb["created_ms"] and renamed["updated_ms"] >= nb["updated_ms"]
    # Duplicate.
    status, _, dup = web.send("POST", f"/v1/notebooks/{nb['id']}/duplicate")
    assert status == 201 and dup["name"] == "Sales per product (copy)" and dup["id"] != nb["id"]
    assert [p["text"] for p in dup["paragraphs"]] == [p["text"] for p in renamed["paragraphs"]]
    # Export: the same JSON as an attachment; import makes a new notebook from it.
    status, hdrs, exported = web.get(f"/v1/notebooks/{nb['id']}/export")
    assert status == 200 and exported == renamed
    assert hdrs["Content-Disposition"].startswith("attachment; filename=")
    status, _, imported = web.send("POST", "/v1/notebooks/import", exported)
    assert status == 201 and imported["id"] != nb["id"] and imported["name"] == "Sales per product"
    assert imported["version"] == 1 and imported["owner"] == "writer"
    strip = lambda ps: [{k: v for k, v in p.items() if k != "id"} for p in ps]  # noqa: E731
    assert strip(imported["paragraphs"]) == strip(renamed["paragraphs"])
    # Delete.
    for i in (nb["id"], dup["id"], imported["id"]):
        status, _, _ = web.send("DELETE", f"/v1/notebooks/{i}")
        assert status == 204
        assert web.get(f"/v1/notebooks/{i}")[0] == 404
    status, _, _ = web.send("DELETE", f"/v1/notebooks/{nb['id']}")
    assert status == 404


def test_stale_version_conflicts(server):
    web = Web(server, "admin")
    status, _, nb = web.send("POST", "/v1/notebooks", {"name": "two tabs"})
    status, _, tab1 = web.send("PUT", f"/v1/notebooks/{nb['id']}", {**nb, "name": "tab one"})
    assert status == 200 and tab1["version"] == 2
    status, _, body = web.send("PUT", f"/v1/notebooks/{nb['id']}", {**nb, "name": "tab two"})
    assert status == 409 and body["error"]["code"] == "conflict" and "version" in body["error"]["message"]
    status, _, cur = web.get(f"/v1/notebooks/{nb['id']}")
    assert cur["name"] == "tab one" and cur["version"] == 2


def test_zeppelin_note_imports_with_its_charts(server):
    web = Web(server, "writer")
    with open(FIXTURE, "rb") as f:
        raw = f.read()
    status, _, nb = web.send("POST", "/v1/notebooks/import", raw=raw)
    assert status == 201, nb
    assert nb["name"] == "Streaming Data Analytics" and nb["owner"] == "writer"
    ps = nb["paragraphs"]
    assert [(p["type"], p["unsupported"]) for p in ps] == [
        ("sql", None), ("sql", None), ("sql", None), ("sql", None), ("markdown", None), ("text", "%spark")]
    assert ps[0]["text"] == "show tables"
    assert ps[1]["text"] == "SELECT * FROM records" and ps[1]["view"]["mode"] == "table"
    assert ps[2]["view"] == {"mode": "pie", "x": "product", "y": ["price"], "series": None, "stacked": False}
    assert ps[3]["view"] == {"mode": "bar", "x": "zipcode", "y": ["price"], "series": "product", "stacked": True}
    assert ps[4]["text"].startswith("## Streaming analytics")
    assert "spark.readStream" in ps[5]["text"]
    # It runs: `show tables` is SQL we answer.
    status, _, body = web.send("POST", "/v1/sql", {"sql": ps[0]["text"]})
    assert status == 200 and [c["name"] for c in body["columns"]][:2] == ["name", "kind"]
    # Other Zeppelin versions' shapes: results as an array, graph at config.graph, a
    # trailing paragraph without text, local properties on the directive.
    note = {"name": "", "path": "/team/Old note", "version": "0.8.2", "paragraphs": [
        {"text": "%spark.sql(parallelism=2) SELECT 1 AS a", "config": {"results": [
            {"graph": {"mode": "lineChart", "keys": [{"name": "a"}], "values": [{"name": "a", "aggr": "sum"}]}}]}},
        {"text": "SELECT 2", "config": {"graph": {"mode": "stackedAreaChart", "keys": [], "values": []}}},
        {"text": "%pyspark\nprint(1)"},
        {"config": {}},
    ]}
    status, _, nb2 = web.send("POST", "/v1/notebooks/import", note)
    assert status == 201, nb2
    assert nb2["name"] == "Old note"
    assert [(p["type"], p["text"]) for p in nb2["paragraphs"]] == [
        ("sql", "SELECT 1 AS a"), ("sql", "SELECT 2"), ("text", "print(1)")]
    assert nb2["paragraphs"][0]["view"]["mode"] == "line" and nb2["paragraphs"][0]["view"]["x"] == "a"
    assert nb2["paragraphs"][1]["view"]["mode"] == "area" and nb2["paragraphs"][1]["view"]["stacked"] is True
    assert nb2["paragraphs"][2]["unsupported"] == "%pyspark"
    status, _, body = web.send("POST", "/v1/notebooks/import", {"paragraphs": [{"text": 3}], "version": "0.9.0"})
    assert status == 400 and "paragraphs[0].text" in body["error"]["message"]


# ---------------------------------------------------------------- SQL: cancel, catalog

LONG_QUERY = "SELECT count(*) FROM generate_series(1, 200000) a, generate_series(1, 200000) b"


def run_async(fn):
    out = {}

    def target():
        try:
            out["result"] = fn()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            out["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, out


def test_cancel_stops_a_long_query_with_57014(server):
    writer, reader, admin = Web(server, "writer"), Web(server, "reader"), Web(server, "admin")
    for canceller in (writer, admin):
        qid = str(uuid.uuid4())
        t0 = time.monotonic()
        t, out = run_async(lambda: writer.send("POST", "/v1/sql", {"sql": LONG_QUERY, "query_id": qid}))
        deadline = time.monotonic() + 10
        while "streamlake_sql_named_queries_running 1" not in call(server, "GET", "/metrics", headers=basic("admin"))[2]:
            assert time.monotonic() < deadline and t.is_alive(), f"the query did not start: {out}"
            time.sleep(0.05)
        time.sleep(0.3)
        assert t.is_alive(), f"the long query ended early: {out}"
        status, _, body = reader.send("POST", "/v1/sql/cancel", {"query_id": qid})
        assert status == 403 and body["error"]["code"] == "42501", "a reader cancelled another user's query"
        time.sleep(0.3)
        assert t.is_alive(), "the refused cancel stopped the query"
        status, _, _ = canceller.send("POST", "/v1/sql/cancel", {"query_id": qid})
        assert status == 204
        t.join(10)
        assert not t.is_alive(), "the query did not stop within 10 s of the cancel"
        status, _, body = out["result"]
        assert body["error"]["code"] == "57014", body
        assert time.monotonic() - t0 < 10
    # Unknown ids: nothing to do; a malformed body is refused.
    status, _, _ = writer.send("POST", "/v1/sql/cancel", {"query_id": "never-ran"})
    assert status == 204
    status, _, _ = writer.send("POST", "/v1/sql/cancel", {"id": 1})
    assert status == 400


# ---------------------------------------------------------------- live, status, metrics


class EventStream:
    """GET /v1/live read on a thread; events land in a queue as (event, data)."""

    def __init__(self, server, web):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        self.conn.request("GET", "/v1/live", headers=web.headers(csrf=False))
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.read()
        assert self.resp.getheader("Content-Type") == "text/event-stream"
        self.events = queue.Queue()
        self.comments = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event, data = None, []
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith(":"):
                    self.comments.append(line)
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "":
                    if event:
                        self.events.put((event, json.loads("\n".join(data))))
                    event, data = None, []
        except (OSError, AttributeError, ValueError):  # closed under the reader
            pass
        self.events.put(("closed", None))

    def next(self, timeout=15):
        return self.events.get(timeout=timeout)

    def close(self):
        self.conn.close()


@pytest.fixture(scope="module")
def pipeline(server):
    """A Kinesis stream 'sales', stream table 'records' and view 'products' (price 40..50)."""
    client = server.client()
    client.create_stream(StreamName="sales", ShardCount=2)
    deadline = time.monotonic() + 30
    while client.describe_stream_summary(StreamName="sales")["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    for stmt in [
        "CREATE TABLE records (zipcode int, product text, price int) "
        "WITH (connector = 'kinesis', stream = 'sales', format = 'json', start = 'earliest')",
        "CREATE MATERIALIZED VIEW products AS SELECT zipcode, product, price FROM records "
        "WHERE price BETWEEN 40 AND 50",
    ]:
        status, _, body = sql_basic(server, "admin", stmt)
        assert status == 200, body
    return client


def produce(client, n, start=0):
    records = [{"Data": json.dumps({"zipcode": 98100 + i % 7, "product": f"p{i % 5}", "price": 40 + i % 11}).encode(),
                "PartitionKey": f"k{i}"} for i in range(start, start + n)]
    resp = client.put_records(StreamName="sales", Records=records)
    assert resp["FailedRecordCount"] == 0


def expected_products(total):
    return sum(1 for i in range(total) if 40 <= 40 + i % 11 <= 50)


def test_live_subscription_pushes_growing_results(server, pipeline):
    reader = Web(server, "reader")
    es = EventStream(server, reader)
    try:
        event, hello = es.next()
        assert event == "hello" and len(hello["connection"]) >= 16
        conn = hello["connection"]
        # Only SELECTs may be followed, and only on one's own connection.
        status, _, body = reader.send("POST", f"/v1/live/{conn}/subscribe", {"id": "ddl", "sql": "DROP VIEW products"})
        assert status == 403, body
        status, _, body = reader.send("POST", f"/v1/live/{conn}/subscribe", {"id": "bad", "sql": "SELEC 1"})
        assert status == 400 and body["error"]["code"] == "42601", body
        other = Web(server, "writer")
        status, _, _ = other.send("POST", f"/v1/live/{conn}/subscribe", {"id": "x", "sql": "SELECT 1"})
        assert status == 403
        status, _, _ = reader.send("POST", f"/v1/live/{conn}/subscribe", {"id": "p1"}, csrf=False)
        assert status == 403, "subscribe without the CSRF token"
        status, _, _ = reader.send("POST", f"/v1/live/{conn}/subscribe",
                                   {"id": "p1", "sql": "SELECT count(*) AS n FROM products"})
        assert status == 204
        event, first = es.next()
        assert event == "result" and first["id"] == "p1", (event, first)
        assert [c["name"] for c in first["columns"]] == ["n"] and first["row_count"] == 1
        seen = [first["rows"][0][0]]
        produced = 0
        deadline = time.monotonic() + 60
        epochs = [first["epoch"]]
        while len(set(seen)) < 4:
            assert time.monotonic() < deadline, f"counts seen: {seen}"
            produce(pipeline, 50, produced)
            produced += 50
            try:
                event, data = es.next(timeout=5)
            except queue.Empty:
                continue
            assert event == "result", (event, data)
            assert data["id"] == "p1" and data["lag_ms"] >= 0 and data["lag_ms"] < 30000, data
            seen.append(data["rows"][0][0])
            epochs.append(data["epoch"])
        assert seen == sorted(seen), f"counts went backwards: {seen}"
        assert epochs == sorted(epochs)
        # Catch up: the final count arrives.
        final = expected_products(produced)
        while seen[-1] != final:
            event, data = es.next(timeout=15)
            assert event == "result"
            seen.append(data["rows"][0][0])
        # Unsubscribe: no more results for p1 even as records arrive.
        status, _, _ = reader.send("DELETE", f"/v1/live/{conn}/subscribe/p1")
        assert status == 204
        while not es.events.empty():
            es.events.get()
        produce(pipeline, 20, produced)
        produced += 20
        with pytest.raises(queue.Empty):
            es.next(timeout=1.5)
        # Follow again, then leave the page: the server notices when its pushes fail and
        # drops the connection with its subscriptions.
        status, _, _ = reader.send("POST", f"/v1/live/{conn}/subscribe",
                                   {"id": "p2", "sql": "SELECT count(*) AS n FROM products"})
        assert status == 204
        assert es.next()[0] == "result"
    finally:
        es.close()
    deadline = time.monotonic() + 30
    while True:
        produce(pipeline, 5, produced)
        produced += 5
        status, _, text = call(server, "GET", "/metrics", headers=basic("admin"))
        if "streamlake_live_subscriptions 0" in text and "streamlake_live_connections 0" in text:
            break
        assert time.monotonic() < deadline, "the closed live connection was not dropped"
        time.sleep(0.3)
    status, _, body = reader.send("POST", f"/v1/live/{conn}/subscribe", {"id": "p3", "sql": "SELECT 1"})
    assert status == 404


def test_live_query_failing_at_run_time_pushes_an_error(server, pipeline):
    web = Web(server, "writer")
    es = EventStream(server, web)
    try:
        conn = es.next()[1]["connection"]
        produce(pipeline, 11, 20000)  # at least one row in products
        status, _, body = web.send("POST", f"/v1/live/{conn}/subscribe",
                                   {"id": "e1", "sql": "SELECT max(price / (price - price)) FROM products"})
        assert status == 204, body
        event, data = es.next()
        assert event == "error" and data["id"] == "e1", (event, data)
        assert data["error"]["code"] == "22012" and data["error"]["message"], data
    finally:
        es.close()


def test_live_connection_pings_every_15_seconds(server):
    web = Web(server, "reader")
    es = EventStream(server, web)
    try:
        assert es.next()[0] == "hello"
        t0 = time.monotonic()
        while not es.comments:
            assert time.monotonic() - t0 < 20, "no ': ping' within 20 s"
            time.sleep(0.2)
        assert es.comments[0] == ": ping"
        assert time.monotonic() - t0 > 13, "pinged too early"
    finally:
        es.close()


def test_status_and_metrics(server, pipeline):
    produce(pipeline, 30, 10000)
    admin = Web(server, "reader")
    deadline = time.monotonic() + 30
    while True:
        status, _, st = admin.get("/v1/status")
        assert status == 200
        tables = {p["name"]: p for p in st["pipelines"]}
        if tables.get("records", {}).get("rows_in", 0) >= 30 and len(st["history"]["t"]) >= 2:
            break
        assert time.monotonic() < deadline, st
        time.sleep(0.2)
    sales = {s["name"]: s for s in st["streams"]}["sales"]
    assert sales["shards"] == 2 and sales["status"] == "ACTIVE" and sales["retention_hours"] == 24
    assert sales["records_in"] >= 30 and sales["bytes_in"] > sales["records_in"] * 20
    for key in ("records_per_s", "bytes_per_s", "millis_behind_latest"):
        assert isinstance(sales[key], (int, float))
    rec, prod = tables["records"], tables["products"]
    assert rec["kind"] == "stream table" and rec["errors_table"] == "records_errors" and rec["errors"] == 0
    assert prod["kind"] == "view" and prod["rows_in"] > 0 and prod["rows_out"] > 0 and prod["state_bytes"] >= 0
    for p in (rec, prod):
        for key in ("watermark", "lag_ms", "last_checkpoint_ms", "checkpoint_duration_ms"):
            assert key in p, (key, p)
    h = st["history"]
    assert len(h["t"]) == len(h["records_per_s"]) == len(h["rows_per_s"]) <= 600
    assert h["t"] == sorted(h["t"]) and h["t"][-1] - h["t"][0] <= 601 * 1000
    assert st["sinks"] == []
    # /metrics: authenticated, Prometheus text 0.0.4.
    status, _, body = call(server, "GET", "/metrics")
    assert status == 401
    status, hdrs, text = admin.get("/metrics")
    assert status == 200 and hdrs["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = text.splitlines()
    values = {}
    for line in lines:
        if not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    assert values['streamlake_kinesis_records_in_total{stream="sales"}'] >= 30
    assert values['streamlake_kinesis_bytes_in_total{stream="sales"}'] > 0
    assert values['streamlake_stream_rows_in_total{table="records"}'] >= 30
    assert values['streamlake_view_rows_out_total{view="products"}'] > 0
    assert 'streamlake_view_state_bytes{view="products"}' in values
    assert values["streamlake_checkpoint_duration_seconds"] >= 0
    for family in ("streamlake_kinesis_records_in_total", "streamlake_view_rows_out_total",
                   "streamlake_watermark_seconds", "streamlake_checkpoint_duration_seconds"):
        assert f"# HELP {family} " in text and f"# TYPE {family} " in text
    typed = [l.split()[2] for l in lines if l.startswith("# TYPE ")]
    assert len(typed) == len(set(typed)), "a family declared twice"
    for name in typed:
        kind = next(l.split()[3] for l in lines if l.startswith(f"# TYPE {name} "))
        assert kind in ("counter", "gauge")
        assert name.endswith("_total") == (kind == "counter"), name


def test_public_metrics_when_configured():
    d = tempfile.mkdtemp(prefix="sl-notebook-metrics-")
    cfg, data = write_config(d, "[metrics]\npublic = true\n[ui]\nsession_idle_minutes = 1\n")
    s = harness.Server(data_dir=data, extra_args=["--config", cfg, "--pg-port", "0"])
    s.start()
    try:
        status, _, text = call(s, "GET", "/metrics")
        assert status == 200 and "# TYPE streamlake_kinesis_records_in_total counter" in text
        # Everything else still needs credentials.
        assert call(s, "GET", "/v1/status")[0] == 401
        web = Web(s, "admin")
        left = web.session["expires_at_ms"] - time.time() * 1000
        assert 30 * 1000 < left <= 61 * 1000, "[ui] session_idle_minutes = 1"
    finally:
        s.stop()
        s.cleanup()
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- restart (last: restarts the server)


def test_notebooks_survive_a_restart_and_sessions_do_not(server):
    web = Web(server, "admin")
    status, _, nb = web.send("POST", "/v1/notebooks", {"name": "durable", "paragraphs": [
        {"type": "sql", "text": "SELECT 1", "view": {"mode": "line", "x": "a", "y": ["b"], "series": "c"}}]})
    assert status == 201
    status, _, nb = web.send("PUT", f"/v1/notebooks/{nb['id']}", {**nb, "name": "durable v2"})
    assert status == 200
    before = notebook_ids(web)
    assert server.stop() == 0
    files = os.listdir(os.path.join(server.data_dir, "notebooks"))
    assert f"{nb['id']}.json" in files and not [f for f in files if f.endswith(".tmp")]
    with open(os.path.join(server.data_dir, "notebooks", f"{nb['id']}.json")) as f:
        assert json.load(f)["format_version"] == 1
    # A damaged file (a disk error, a hand edit) is skipped with a warning, not fatal.
    with open(os.path.join(server.data_dir, "notebooks", f"{uuid.uuid4()}.json"), "w") as f:
        f.write('{"format_version": 1, "id": "trunc')
    server.start()
    assert "skipping notebook" in server.stderr_tail()
    status, _, _ = web.get("/v1/notebooks")
    assert status == 401, "a restart signs everyone out"
    web = Web(server, "admin")
    assert notebook_ids(web) == before
    status, _, got = web.get(f"/v1/notebooks/{nb['id']}")
    assert got == nb
