"""The wire protocol by hand: JSON 1.1 responses and errors, CBOR 1.1 requests and responses
(the Java SDKs' default; boto3 can't send CBOR, so the bodies are built here), keep-alive and
pipelining over HTTP/1.1."""
import base64
import json
import socket
import struct
import time

import pytest

import harness
from harness import error_type, post, signed_headers_v4, unique_name

J = "application/x-amz-json-1.1"
C = "application/x-amz-cbor-1.1"


# ---------------------------------------------------------------- a minimal CBOR codec (RFC 8949)

class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | extra]) + struct.pack(fmt, n)
    raise ValueError(n)


def cbor_encode(v):
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return _head(3, len(b)) + b
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(cbor_encode(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(cbor_encode(k) + cbor_encode(x) for k, x in v.items())
    if isinstance(v, Tag):
        return _head(6, v.tag) + cbor_encode(v.value)
    raise TypeError(type(v))


def cbor_decode(data):
    v, pos = _dec(data, 0)
    assert pos == len(data), f"trailing bytes after CBOR item ({pos} of {len(data)})"
    return v


def _dec(d, p):
    ib = d[p]
    major, info = ib >> 5, ib & 31
    p += 1
    if major == 7:
        if info == 20:
            return False, p
        if info == 21:
            return True, p
        if info in (22, 23):
            return None, p
        if info == 25:
            h = struct.unpack(">H", d[p:p + 2])[0]
            return _half(h), p + 2
        if info == 26:
            return struct.unpack(">f", d[p:p + 4])[0], p + 4
        if info == 27:
            return struct.unpack(">d", d[p:p + 8])[0], p + 8
        raise ValueError(f"simple {info}")
    if info < 24:
        n = info
    elif info == 31:
        n = None
    else:
        size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
        n = int.from_bytes(d[p:p + size], "big")
        p += size
    if major == 0:
        return n, p
    if major == 1:
        return -1 - n, p
    if major in (2, 3):
        if n is None:
            chunks = []
            while d[p] != 0xFF:
                c, p = _dec(d, p)
                chunks.append(c)
            p += 1
            return (b"" if major == 2 else "").join(chunks), p
        raw = d[p:p + n]
        return (raw if major == 2 else raw.decode()), p + n
    if major == 4:
        out = []
        while (n is None and d[p] != 0xFF) or (n is not None and len(out) < n):
            x, p = _dec(d, p)
            out.append(x)
        return out, p + (1 if n is None else 0)
    if major == 5:
        out, count = {}, 0
        while (n is None and d[p] != 0xFF) or (n is not None and count < n):
            k, p = _dec(d, p)
            out[k], p = _dec(d, p)
            count += 1
        return out, p + (1 if n is None else 0)
    if major == 6:
        x, p = _dec(d, p)
        return Tag(n, x), p
    raise ValueError(major)


def _half(h):
    s, e, f = h >> 15, (h >> 10) & 31, h & 1023
    v = (f / 1024 * 2**-14) if e == 0 else float("inf") if e == 31 else (1 + f / 1024) * 2**(e - 15)
    return -v if s else v


def cbor_call(server, op, doc):
    body = cbor_encode(doc)
    status, headers, resp = post(server, signed_headers_v4(server, op, body, content_type=C), body)
    return status, headers, resp


def epoch_seconds(v):
    """A CBOR timestamp: tag 1 over seconds, or a bare number (seconds or, as the Java SDK v1
    encodes it, milliseconds)."""
    if isinstance(v, Tag):
        assert v.tag == 1, v.tag
        v = v.value
    assert isinstance(v, (int, float)), v
    return v / 1000 if v > 1e11 else v


# ---------------------------------------------------------------- tests

def test_request_id_header(server, client):
    """Kinesis answers every request with x-amzn-RequestId (SDKs surface it as $metadata.requestId)."""
    status, headers, resp = post(server, signed_headers_v4(server, "ListStreams", b"{}"), b"{}")
    assert status == 200
    assert headers.get("x-amzn-requestid"), headers
    status, headers, resp = post(server, signed_headers_v4(server, "DescribeStream", b'{"StreamName":"nope"}'),
                                 b'{"StreamName":"nope"}')
    assert status == 400 and headers.get("x-amzn-requestid"), headers


def test_json_response_shape(server, client):
    name = unique_name("raw-json")
    body = json.dumps({"StreamName": name, "ShardCount": 1}).encode()
    status, headers, resp = post(server, signed_headers_v4(server, "CreateStream", body), body)
    assert status == 200, resp
    harness.wait_active(client, name)
    body = json.dumps({"StreamName": name}).encode()
    status, headers, resp = post(server, signed_headers_v4(server, "DescribeStreamSummary", body), body)
    assert status == 200
    assert headers["content-type"].startswith(J)
    assert json.loads(resp)["StreamDescriptionSummary"]["StreamName"] == name
    # ListStreams carries StreamSummaries (boto3's older model hides the field)
    status, headers, resp = post(server, signed_headers_v4(server, "ListStreams", b"{}"), b"{}")
    assert status == 200
    doc = json.loads(resp)
    summaries = {s["StreamName"]: s for s in doc["StreamSummaries"]}
    assert set(summaries) == set(doc["StreamNames"]) and name in summaries
    assert summaries[name]["StreamARN"].endswith(":stream/" + name)
    # an error: Kinesis's shape and status
    body = json.dumps({"StreamName": name + "-missing"}).encode()
    status, headers, resp = post(server, signed_headers_v4(server, "DescribeStreamSummary", body), body)
    assert status == 400
    assert headers["content-type"].startswith(J)
    doc = json.loads(resp)
    assert error_type(resp) == "ResourceNotFoundException"
    assert isinstance(doc.get("message", doc.get("Message")), str) and doc.get("message", doc.get("Message"))
    # unknown operation
    status, _, resp = post(server, signed_headers_v4(server, "Frobnicate", b"{}"), b"{}")
    assert status == 400 and error_type(resp) == "UnknownOperationException", resp


@pytest.mark.streamlake_only
def test_cbor_round_trip(server, client):
    name = unique_name("raw-cbor")
    status, headers, resp = cbor_call(server, "CreateStream", {"StreamName": name, "ShardCount": 2})
    assert status == 200, resp
    harness.wait_active(client, name)
    status, headers, resp = cbor_call(server, "DescribeStream", {"StreamName": name})
    assert status == 200
    assert headers["content-type"].startswith(C), headers
    d = cbor_decode(resp)["StreamDescription"]
    assert d["StreamName"] == name and len(d["Shards"]) == 2
    assert isinstance(d["Shards"][0]["HashKeyRange"]["EndingHashKey"], str)
    payload = bytes(range(256)) * 4
    status, _, resp = cbor_call(server, "PutRecord", {"StreamName": name, "Data": payload, "PartitionKey": "cbor"})
    assert status == 200, resp
    put = cbor_decode(resp)
    assert put["SequenceNumber"].isdigit()
    status, _, resp = cbor_call(server, "PutRecords", {"StreamName": name, "Records": [
        {"Data": f"c{i}".encode(), "PartitionKey": "cbor"} for i in range(10)]})
    assert status == 200
    batch = cbor_decode(resp)
    assert batch["FailedRecordCount"] == 0 and len(batch["Records"]) == 10
    status, _, resp = cbor_call(server, "GetShardIterator", {
        "StreamName": name, "ShardId": put["ShardId"], "ShardIteratorType": "TRIM_HORIZON"})
    it = cbor_decode(resp)["ShardIterator"]
    status, _, resp = cbor_call(server, "GetRecords", {"ShardIterator": it, "Limit": 100})
    assert status == 200
    got = cbor_decode(resp)
    assert [r["Data"] for r in got["Records"]] == [payload] + [f"c{i}".encode() for i in range(10)]
    assert isinstance(got["Records"][0]["Data"], bytes), "Data is a CBOR byte string"
    assert abs(epoch_seconds(got["Records"][0]["ApproximateArrivalTimestamp"]) - time.time()) < 120
    assert got["MillisBehindLatest"] == 0
    # AT_TIMESTAMP with a CBOR timestamp (tag 1, epoch seconds)
    status, _, resp = cbor_call(server, "GetShardIterator", {
        "StreamName": name, "ShardId": put["ShardId"], "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": Tag(1, 978307200.0)})
    assert status == 200, resp
    # the same data read over JSON
    recs, _ = harness.read_shard(client, name, put["ShardId"])
    assert recs[0]["Data"] == payload
    # errors come back in CBOR
    status, headers, resp = cbor_call(server, "DescribeStream", {"StreamName": name + "-nope"})
    assert status == 400 and headers["content-type"].startswith(C)
    assert cbor_decode(resp)["__type"].split("#")[-1] == "ResourceNotFoundException"
    body = b"\xbf\x61"  # truncated CBOR
    status, _, resp = post(server, signed_headers_v4(server, "ListStreams", body, content_type=C), body)
    assert status == 400
    assert cbor_decode(resp)["__type"].split("#")[-1] == "SerializationException"


def _read_response(sock_file):
    status_line = sock_file.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = sock_file.readline()
        if line in (b"\r\n", b""):
            break
        k, v = line.decode().split(":", 1)
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = sock_file.read(int(headers["content-length"]))
    else:
        assert headers.get("transfer-encoding", "").lower() == "chunked", headers
        body = b""
        while True:
            n = int(sock_file.readline().split(b";")[0], 16)
            chunk = sock_file.read(n + 2)[:n]
            if n == 0:
                break
            body += chunk
    return status, headers, body


def _raw_bytes(server, op, body):
    h = signed_headers_v4(server, op, body)
    lines = [f"POST / HTTP/1.1", f"Host: 127.0.0.1:{server.port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in h.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_keepalive_and_pipelining(server, client):
    name = unique_name("raw-pipe")
    harness.create_stream(client, name, shards=1)
    reqs = []
    for i in range(5):
        body = json.dumps({"StreamName": name, "Data": base64.b64encode(f"p{i}".encode()).decode(),
                           "PartitionKey": "k"}).encode()
        reqs.append(_raw_bytes(server, "PutRecord", body))
    body = json.dumps({"StreamName": name}).encode()
    reqs.append(_raw_bytes(server, "DescribeStreamSummary", body))
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"".join(reqs))  # all pipelined in one write
        f = s.makefile("rb")
        seqs = []
        for i in range(5):
            status, _, resp = _read_response(f)
            assert status == 200, resp
            seqs.append(int(json.loads(resp)["SequenceNumber"]))
        status, _, resp = _read_response(f)
        assert status == 200 and json.loads(resp)["StreamDescriptionSummary"]["StreamName"] == name
        assert seqs == sorted(seqs)
        # the connection is still usable afterwards
        s.sendall(_raw_bytes(server, "DescribeStreamSummary", body))
        status, _, _ = _read_response(f)
        assert status == 200
    recs, _ = harness.read_shard(client, name, "shardId-000000000000")
    assert [r["Data"] for r in recs] == [f"p{i}".encode() for i in range(5)]


def _event_messages(buf):
    """Splits application/vnd.amazon.eventstream bytes into (headers, payload), checking
    both CRC32s (zlib's); returns the messages and the unconsumed rest."""
    import zlib
    out = []
    while len(buf) >= 12:
        total, hlen = struct.unpack(">II", buf[:8])
        if len(buf) < total:
            break
        assert struct.unpack(">I", buf[8:12])[0] == zlib.crc32(buf[:8]), "prelude CRC"
        assert struct.unpack(">I", buf[total - 4:total])[0] == zlib.crc32(buf[:total - 4]), "message CRC"
        h, p, headers = buf[12:12 + hlen], 0, {}
        while p < len(h):
            n = h[p]
            name = h[p + 1:p + 1 + n].decode()
            p += 1 + n
            assert h[p] == 7, "string header"
            vlen = struct.unpack(">H", h[p + 1:p + 3])[0]
            headers[name] = h[p + 3:p + 3 + vlen].decode()
            p += 3 + vlen
        out.append((headers, buf[12 + hlen:total - 4]))
        buf = buf[total:]
    return out, buf


@pytest.mark.streamlake_only
def test_subscribe_to_shard_cbor_over_http1(server, client):
    """SubscribeToShard with a CBOR body over HTTP/1.1 (chunked): initial-response, then
    SubscribeToShardEvents whose CBOR payload carries the records (Data as a byte string,
    timestamps as tag 1), each message with valid CRCs."""
    import http.client
    name = unique_name("raw-sub")
    harness.create_stream(client, name, shards=1)
    sarn = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    carn = client.register_stream_consumer(StreamARN=sarn, ConsumerName="raw")["Consumer"]["ConsumerARN"]
    for _ in range(200):
        if client.describe_stream_consumer(ConsumerARN=carn)["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE":
            break
        time.sleep(0.05)
    client.put_records(StreamName=name, Records=[{"Data": bytes([i, 0, 255]), "PartitionKey": f"k{i}"} for i in range(5)])
    body = cbor_encode({"ConsumerARN": carn, "ShardId": "shardId-000000000000",
                        "StartingPosition": {"Type": "TRIM_HORIZON"}})
    headers = signed_headers_v4(server, "SubscribeToShard", body, content_type="application/x-amz-cbor-1.1")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("content-type") == "application/vnd.amazon.eventstream"
        buf, msgs, records = b"", [], []
        deadline = time.monotonic() + 10
        while len(records) < 5 and time.monotonic() < deadline:
            buf += resp.read1(65536)
            got, buf = _event_messages(buf)
            msgs += got
            for h, p in got:
                if h[":event-type"] == "SubscribeToShardEvent":
                    ev = cbor_decode(p)
                    records += ev["Records"]
                    assert ev["ContinuationSequenceNumber"] == ev["Records"][-1]["SequenceNumber"]
        assert msgs[0][0] == {":event-type": "initial-response", ":message-type": "event",
                              ":content-type": "application/x-amz-cbor-1.1"}
        assert [r["Data"] for r in records] == [bytes([i, 0, 255]) for i in range(5)]
        assert [r["PartitionKey"] for r in records] == [f"k{i}" for i in range(5)]
    finally:
        conn.close()
