"""Bad input: garbage bodies, wrong content types, huge bodies, truncated requests, malformed
HTTP, slow clients. Each gets a clear error (Kinesis's JSON shape where the request was
Kinesis JSON) or is cut off; meanwhile a normal client keeps being served, the server never
dies, and data acknowledged before stays readable."""
import base64
import json
import os
import socket
import threading
import time

import pytest

import harness
from harness import error_type, post, signed_headers_v4, unique_name

J = "application/x-amz-json-1.1"
SLOW_CLIENT_CUT_S = float(os.environ.get("SL_SLOW_CLIENT_CUT_S", "75"))
PROMPT_S = 3.0  # "served promptly": generous for a busy 2-core machine; a stalled server takes far longer


@pytest.fixture(scope="module")
def stream(client):
    """A stream with records acknowledged before any bad input; checked again at the end."""
    name = unique_name("bad")
    harness.create_stream(client, name, shards=2)
    resp = client.put_records(StreamName=name, Records=[{"Data": f"good-{i}".encode(), "PartitionKey": f"k{i}"}
                                                        for i in range(100)])
    assert resp["FailedRecordCount"] == 0
    acked = {(r["ShardId"], r["SequenceNumber"]): f"good-{i}".encode() for i, r in enumerate(resp["Records"])}
    yield name
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        recs, _ = harness.read_shard(client, name, shard)
        for r in recs:
            key = (shard, r["SequenceNumber"])
            assert key in acked and acked.pop(key) == r["Data"], f"unexpected record {r}"
    assert not acked, f"acknowledged records lost: {list(acked)[:5]}"


def served(client, stream):
    """A normal client is served promptly."""
    t0 = time.monotonic()
    client.describe_stream_summary(StreamName=stream)
    return time.monotonic() - t0


def json_error(status, headers, body, *codes):
    assert 400 <= status < 500, (status, body[:300])
    assert headers.get("content-type", "").startswith(J), headers
    doc = json.loads(body)
    assert error_type(body) in codes, doc
    msg = doc.get("message", doc.get("Message"))
    assert msg is None or isinstance(msg, str)
    return doc


def raw_exchange(server, data, timeout=15, shutdown_write=False):
    """Send bytes on a fresh connection; return what comes back until close or timeout."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if shutdown_write:
                s.shutdown(socket.SHUT_WR)
        except OSError:  # the server cut us off while we were sending: an answer too
            pass
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and _complete(out):
                    break
        except (ConnectionResetError, socket.timeout):
            pass
        return out


def _complete(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return len(body) >= int(v)
    return True


def status_of(resp):
    if not resp.startswith(b"HTTP/1.1 ") and not resp.startswith(b"HTTP/1.0 "):
        return None
    return int(resp.split()[1])


# ---------------------------------------------------------------- bodies

@pytest.mark.parametrize("body", [
    b"this is not json",
    b"{\"StreamName\": ",
    b"\xff\xfe\x00garbage\x00",
    b"[1, 2, 3]",
    b"\"a string\"",
    b"42",
    b"null",
    b"{" * 10000 + b"}" * 10000,
], ids=lambda b: repr(b[:20]))
def test_garbage_json(server, client, stream, body):
    status, headers, resp = post(server, signed_headers_v4(server, "PutRecord", body), body)
    if body.startswith(b"["):  # an array is a JSON document; Kinesis clones differ on which error
        json_error(status, headers, resp, "SerializationException", "ValidationException")
    else:
        json_error(status, headers, resp, "SerializationException")
    assert served(client, stream) < PROMPT_S


@pytest.mark.parametrize("doc", [
    {"StreamName": 5, "ShardCount": 1},
    {"StreamName": ["a"], "ShardCount": 1},
    {"StreamName": "typed", "ShardCount": "one"},
    {"StreamName": "typed", "ShardCount": {"n": 1}},
])
def test_wrong_field_types(server, client, stream, doc):
    body = json.dumps(doc).encode()
    status, headers, resp = post(server, signed_headers_v4(server, "CreateStream", body), body)
    json_error(status, headers, resp, "SerializationException", "ValidationException")
    assert "typed" not in client.list_streams()["StreamNames"]


def test_bad_base64_and_missing_fields(server, client, stream):
    for doc in ({"StreamName": stream, "Data": "!!!not base64!!!", "PartitionKey": "k"},
                {"StreamName": stream, "PartitionKey": "k"},
                {"StreamName": stream, "Data": "eA=="},
                {"Data": "eA==", "PartitionKey": "k"}):
        body = json.dumps(doc).encode()
        status, headers, resp = post(server, signed_headers_v4(server, "PutRecord", body), body)
        json_error(status, headers, resp, "SerializationException", "ValidationException", "InvalidArgumentException")
    body = json.dumps({"StreamName": stream, "Records": [{"Data": "eA==", "PartitionKey": "k"}, {"Data": "eA=="}]}).encode()
    status, headers, resp = post(server, signed_headers_v4(server, "PutRecords", body), body)
    json_error(status, headers, resp, "SerializationException", "ValidationException", "InvalidArgumentException")


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type(server, client, stream, ctype):
    body = json.dumps({"StreamName": stream, "Data": "eA==", "PartitionKey": "k"}).encode()
    h = signed_headers_v4(server, "PutRecord", body, content_type=ctype)
    if not ctype:
        del h["Content-Type"]
    status, headers, resp = post(server, h, body)
    assert 400 <= status < 500, (ctype, status, resp[:300])
    if headers.get("content-type", "").startswith(J):
        assert error_type(resp), resp
    assert served(client, stream) < PROMPT_S


def test_unknown_or_missing_target(server, client, stream):
    body = b"{}"
    h = signed_headers_v4(server, "ListStreams", body)
    h["X-Amz-Target"] = "Kinesis_20131202.NoSuchOperation"
    status, headers, resp = post(server, h, body)
    assert 400 <= status < 500, resp
    h = signed_headers_v4(server, "ListStreams", body)
    h["X-Amz-Target"] = "DynamoDB_20120810.ListTables"
    status, headers, resp = post(server, h, body)
    assert 400 <= status < 500, resp
    h = signed_headers_v4(server, "ListStreams", body)
    del h["X-Amz-Target"]
    status, headers, resp = post(server, h, body)
    assert 400 <= status < 500, resp
    # the properly signed unknown operation: Kinesis's shape
    status, headers, resp = post(server, signed_headers_v4(server, "NoSuchOperation", body), body)
    json_error(status, headers, resp, "UnknownOperationException")


# ---------------------------------------------------------------- sizes

def rss_kb(server):
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.mark.streamlake_only
def test_huge_declared_length(server, client, stream):
    """Content-Length far beyond any Kinesis limit: refused without reading it."""
    head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: {J}\r\n"
            f"X-Amz-Target: Kinesis_20131202.PutRecord\r\nContent-Length: {50 * 2**30}\r\n\r\n").encode()
    t0 = time.monotonic()
    resp = raw_exchange(server, head + b"{", timeout=20)
    assert time.monotonic() - t0 < 15, "the server waited for a 50 GiB body"
    st = status_of(resp)
    assert st is None or 400 <= st < 500, resp[:300]
    assert served(client, stream) < PROMPT_S


@pytest.mark.streamlake_only
def test_huge_streamed_body(server, client, stream):
    """64 MiB actually sent (Content-Length, then chunked): cut off or refused, memory bounded."""
    rss0 = rss_kb(server)
    for framing in ("length", "chunked"):
        total = 64 * 2**20
        hdr = f"Content-Length: {total}" if framing == "length" else "Transfer-Encoding: chunked"
        head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: {J}\r\n"
                f"X-Amz-Target: Kinesis_20131202.PutRecords\r\n{hdr}\r\n\r\n").encode()
        sent, cut = 0, False
        block = b"[" + b"1," * 32767 + b"1"  # 64 KiB
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as s:
            try:
                s.sendall(head)
                while sent < total:
                    piece = block if framing == "length" else b"%x\r\n" % len(block) + block + b"\r\n"
                    s.sendall(piece)
                    sent += len(block)
            except (BrokenPipeError, ConnectionResetError):
                cut = True
            resp = b""
            try:
                resp = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                pass
        st = status_of(resp)
        assert cut or (st is not None and 400 <= st < 500), (framing, sent, resp[:300])
        assert served(client, stream) < PROMPT_S
    assert rss_kb(server) - rss0 < 512 * 1024, "memory grew by more than 512 MiB"


def test_put_records_over_5mib(server, client, stream):
    recs = [{"Data": base64.b64encode(b"x" * 2**20).decode(), "PartitionKey": "k"}] * 5
    recs.append({"Data": base64.b64encode(b"y" * 100).decode(), "PartitionKey": "k"})
    body = json.dumps({"StreamName": stream, "Records": recs}).encode()
    status, headers, resp = post(server, signed_headers_v4(server, "PutRecords", body), body)
    assert 400 <= status < 500, (status, resp[:300])
    if status != 413:
        json_error(status, headers, resp, "InvalidArgumentException", "ValidationException")


# ---------------------------------------------------------------- broken HTTP

MALFORMED = [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),  # a TLS ClientHello on the cleartext port
    b"GARBAGE / HTTP/1.1\r\n\r\n",
    b"POST / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"POST /\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n",
    b"POST / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(20000)) + b"\r\n",
    b"\x00" * 4096,
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x12\x04\x00\x00\x00\x00\x00" + os.urandom(200),  # h2 preface + junk
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff\xff\xff\x01\x04\x00\x00\x00\x01",  # 16 MiB HEADERS frame header
]


@pytest.mark.parametrize("data", MALFORMED, ids=[f"m{i}" for i in range(len(MALFORMED))])
def test_malformed_http(server, client, stream, data):
    resp = raw_exchange(server, data, timeout=20, shutdown_write=True)
    st = status_of(resp)
    if st is not None:
        assert 400 <= st < 500, resp[:300]
    assert served(client, stream) < PROMPT_S
    assert server.alive()


def test_truncated_requests(server, client, stream):
    body = json.dumps({"StreamName": stream, "Data": "dHJ1bmNhdGVk", "PartitionKey": "k"}).encode()
    h = signed_headers_v4(server, "PutRecord", body)
    head = "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n" % (server.port, len(body))
    full = (head + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode() + body
    for cut in (10, len(full) // 2, len(full) - len(body) - 2, len(full) - 1):
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
                s.sendall(full[:cut])
            # closed mid-request: nothing to answer, nothing written
        assert served(client, stream) < PROMPT_S
    # h2: a stream with a truncated DATA frame, then closed
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"
                  b"\x00\x10\x00\x00\x00\x00\x00\x00\x01abc")
    assert served(client, stream) < PROMPT_S


@pytest.mark.streamlake_only
def test_slow_clients_are_cut(server, client, stream):
    """Slow clients (a byte per second, or silent after part of a request) are disconnected
    eventually; meanwhile a normal client is served without delay."""
    body = json.dumps({"StreamName": stream, "Data": "c2xvdw==", "PartitionKey": "k"}).encode()
    h = signed_headers_v4(server, "PutRecord", body)
    req = ("POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n" % (server.port, len(body))
           + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode() + body
    n_slow = 40
    cut_at = [None] * n_slow
    stop = threading.Event()

    def slow(i):
        # half drip a byte per second through the headers; half send the headers and then stall
        # in the body
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=SLOW_CLIENT_CUT_S + 30) as s:
                t0 = time.monotonic()
                if i % 2:
                    s.sendall(req[:len(req) - len(body) + 3])
                    s.settimeout(SLOW_CLIENT_CUT_S + 30)
                    r = s.recv(4096)  # returns b"" (or an error response) when the server gives up
                    cut_at[i] = time.monotonic() - t0
                    return
                s.settimeout(0.001)
                for b in req:
                    if stop.wait(1.0):
                        return
                    s.sendall(bytes([b]))
                    try:
                        if s.recv(4096) == b"":
                            cut_at[i] = time.monotonic() - t0
                            return
                    except (socket.timeout, BlockingIOError):
                        pass
        except (BrokenPipeError, ConnectionResetError, OSError):
            cut_at[i] = time.monotonic() - t0

    threads = [threading.Thread(target=slow, args=(i,), daemon=True) for i in range(n_slow)]
    for t in threads:
        t.start()
    worst = 0.0
    deadline = time.monotonic() + SLOW_CLIENT_CUT_S
    while time.monotonic() < deadline and any(c is None for c in cut_at):
        worst = max(worst, served(client, stream))
        time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(40)
    assert worst < PROMPT_S, f"a normal client waited {worst:.1f}s while slow clients were connected"
    uncut = [i for i, c in enumerate(cut_at) if c is None]
    assert not uncut, (f"{len(uncut)} of {n_slow} slow connections still open after {SLOW_CLIENT_CUT_S}s "
                       f"(dripping: {[i for i in uncut if i % 2 == 0][:5]}, stalled: {[i for i in uncut if i % 2][:5]})")
    print(f"slow clients cut after {min(cut_at):.1f}..{max(cut_at):.1f}s")
    recs, _ = harness.read_shard(client, stream, harness.shard_for_hash(
        harness.list_all_shards(client, stream), harness.hash_key("k")))
    assert b"slow" not in [r["Data"] for r in recs], "a request that never completed was written"


def test_many_connections(server, client, stream):
    """Hundreds of idle connections do not stop the server from serving."""
    socks = []
    try:
        for _ in range(300):
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        assert served(client, stream) < PROMPT_S
    finally:
        for s in socks:
            s.close()
    assert served(client, stream) < PROMPT_S
