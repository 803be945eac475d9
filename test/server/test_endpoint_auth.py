"""Authentication and authorization on every endpoint of `streamlake serve`.

For the Kinesis API, the HTTP SQL API and the PostgreSQL wire protocol: no credentials,
wrong credentials, and a role trying more than it may are refused, and nothing changes.
Users come from a config file: admin, writer, reader.
"""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import botocore.exceptions
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kinesis"))
import harness  # noqa: E402

USERS = {
    "admin": ("AKADMIN0000000000001", "admin-secret-0001", "admin"),
    "writer": ("AKWRITER000000000001", "writer-secret-0001", "writer"),
    "reader": ("AKREADER000000000001", "reader-secret-0001", "reader"),
}


@pytest.fixture(scope="module")
def server():
    import tempfile
    d = tempfile.mkdtemp(prefix="sl-auth-test-")
    cfg = os.path.join(d, "streamlake.toml")
    with open(cfg, "w") as f:
        f.write("[kinesis]\ncreate_delay_ms = 0\n")
        for name, (ak, secret, role) in USERS.items():
            f.write(f'[[users]]\nname = "{name}"\naccess_key = "{ak}"\nsecret = "{secret}"\nrole = "{role}"\n')
    os.makedirs(os.path.join(d, "data"))
    # With users in the config no credentials file is generated; the harness's client
    # builder reads one, so give it the admin's.
    with open(os.path.join(d, "data", "credentials"), "w") as f:
        f.write(f"[default]\naws_access_key_id = {USERS['admin'][0]}\naws_secret_access_key = {USERS['admin'][1]}\n")
    s = harness.Server(data_dir=os.path.join(d, "data"), extra_args=["--config", cfg])
    s.start()
    s.pg_port = next(int(l.rsplit(":", 1)[1]) for l in s.stdout_lines if l.startswith("streamlake: listening pg="))
    yield s
    s.stop()
    s.cleanup()
    import shutil
    shutil.rmtree(d, ignore_errors=True)


def create_active(client, name):
    client.create_stream(StreamName=name, ShardCount=1)
    deadline = time.monotonic() + 30
    while client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, f"stream {name} did not become ACTIVE"
        time.sleep(0.02)


def kin(server, user, secret=None):
    ak, sk, _ = USERS[user]
    return server.client(access_key=ak, secret_key=secret or sk)


def sql(server, text, user=None, password=None, auth=None):
    req = urllib.request.Request(server.endpoint + "/v1/sql", data=text.encode(), method="POST",
                                 headers={"Content-Type": "text/plain"})
    if auth is not None:
        req.add_header("Authorization", auth)
    elif user is not None:
        token = base64.b64encode(f"{user}:{password or USERS[user][1]}".encode()).decode()
        req.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def psql(server, user, password, command):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="10")
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(server.pg_port), "-U", user, "-d", "streamlake",
                           "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t", "-c", command],
                          env=env, capture_output=True, text=True, timeout=60)


# ------------------------------------------------------------------ Kinesis API

def error_code(fn):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn()
    return e.value.response["Error"]["Code"]


def test_kinesis_refuses_missing_wrong_and_unknown_credentials(server):
    create_active(kin(server, "admin"), "auth1")
    unsigned = server.unsigned_client()
    assert error_code(lambda: unsigned.put_record(StreamName="auth1", PartitionKey="k", Data=b"x")) == \
        "MissingAuthenticationTokenException"
    assert error_code(lambda: kin(server, "admin", secret="wrong").put_record(
        StreamName="auth1", PartitionKey="k", Data=b"x")) == "InvalidSignatureException"
    stranger = server.client(access_key="AKUNKNOWN00000000000", secret_key="nope")
    assert error_code(lambda: stranger.put_record(StreamName="auth1", PartitionKey="k", Data=b"x")) == \
        "UnrecognizedClientException"
    # Nothing was written.
    c = kin(server, "admin")
    it = c.get_shard_iterator(StreamName="auth1", ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert c.get_records(ShardIterator=it)["Records"] == []


def test_kinesis_roles(server):
    admin, writer, reader = kin(server, "admin"), kin(server, "writer"), kin(server, "reader")
    create_active(admin, "auth2")
    assert error_code(lambda: reader.create_stream(StreamName="auth-r", ShardCount=1)) == "AccessDeniedException"
    assert error_code(lambda: writer.create_stream(StreamName="auth-w", ShardCount=1)) == "AccessDeniedException"
    assert error_code(lambda: reader.put_record(StreamName="auth2", PartitionKey="k", Data=b"r")) == \
        "AccessDeniedException"
    assert error_code(lambda: writer.delete_stream(StreamName="auth2")) == "AccessDeniedException"
    writer.put_record(StreamName="auth2", PartitionKey="k", Data=b"w")
    names = admin.list_streams()["StreamNames"]
    assert "auth-r" not in names and "auth-w" not in names and "auth2" in names
    it = reader.get_shard_iterator(StreamName="auth2", ShardId="shardId-000000000000",
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in reader.get_records(ShardIterator=it)["Records"]] == [b"w"]


# ------------------------------------------------------------------ HTTP SQL API

def test_http_sql_refuses_missing_and_wrong_credentials(server):
    st, body = sql(server, "create table h1 (a int)")
    assert st == 401 and body["error"]["code"] == "28000"
    st, body = sql(server, "create table h1 (a int)", user="admin", password="wrong")
    assert st == 401
    st, body = sql(server, "create table h1 (a int)", auth="Basic !!!")
    assert st == 401
    st, body = sql(server, "select count(*) from h1", user="admin")
    assert st == 400 and body["error"]["code"] == "42P01", body  # never created


def test_http_sql_roles(server):
    assert sql(server, "create table h2 (a int)", user="admin")[0] == 200
    st, body = sql(server, "create table h3 (a int)", user="reader")
    assert st == 403 and body["error"]["code"] == "42501"
    st, body = sql(server, "create table h3 (a int)", user="writer")
    assert st == 403
    st, body = sql(server, "insert into h2 values (1)", user="reader")
    assert st == 403
    assert sql(server, "insert into h2 values (2)", user="writer")[0] == 200
    st, body = sql(server, "drop table h2", user="writer")
    assert st == 403
    st, body = sql(server, "select a from h2 order by a", user="reader")
    assert st == 200 and body["rows"] == [[2]]
    # Access keys work as user names too.
    ak, secret, _ = USERS["reader"]
    st, body = sql(server, "select count(*) from h2", user=ak, password=secret)
    assert st == 200 and body["rows"] == [[1]]


# ------------------------------------------------------------------ PostgreSQL

def test_pg_refuses_wrong_password_and_enforces_roles(server):
    r = psql(server, "admin", "wrong", "select 1")
    assert r.returncode != 0 and "password authentication failed" in r.stderr, r.stderr
    r = psql(server, "nobody", "x", "select 1")
    assert r.returncode != 0
    r = psql(server, "admin", USERS["admin"][1], "create table p1 (a int)")
    assert r.returncode == 0, r.stderr
    r = psql(server, "reader", USERS["reader"][1], "create table p2 (a int)")
    assert r.returncode != 0 and "permission denied" in r.stderr.lower(), r.stderr
    r = psql(server, "reader", USERS["reader"][1], "insert into p1 values (1)")
    assert r.returncode != 0
    r = psql(server, "writer", USERS["writer"][1], "insert into p1 values (7)")
    assert r.returncode == 0, r.stderr
    r = psql(server, "reader", USERS["reader"][1], "select a from p1")
    assert r.returncode == 0 and r.stdout.strip() == "7", (r.stdout, r.stderr)
    st, body = sql(server, "select count(*) from p2", user="admin")
    assert st == 400  # p2 was never created
