"""Authentication: unsigned, wrongly signed, tampered, stale and mis-scoped requests are refused
with the AWS error codes, and nothing they asked for is written (checked afterwards with a
properly signed read). Header and query-string SigV4 forms both work when right."""
import json
import time

import pytest

import harness
from harness import error_type, post, read_shard, signed_headers_v4, unique_name

pytestmark = pytest.mark.streamlake_only

J = "application/x-amz-json-1.1"


@pytest.fixture(scope="module")
def stream(client):
    name = unique_name("auth")
    harness.create_stream(client, name, shards=1)
    return name


def put_body(stream, data=b"forged"):
    import base64
    return json.dumps({"StreamName": stream, "Data": base64.b64encode(data).decode(),
                       "PartitionKey": "k"}).encode()


def assert_nothing_written(client, stream, *markers):
    """None of the data of refused requests (markers; default: b"forged") was written."""
    markers = markers or (b"forged",)
    recs, _ = read_shard(client, stream, "shardId-000000000000")
    bad = [r["Data"] for r in recs if r["Data"] in markers]
    assert bad == [], f"a refused request wrote records: {bad}"


def assert_refused(status, body, *codes):
    assert 400 <= status < 500, (status, body)
    assert error_type(body) in codes, body


def test_own_signer_is_accepted(server, client, stream):
    """The independent signer in harness.py works, so the negative cases below test the server."""
    body = put_body(stream, b"legit")
    status, _, resp = post(server, signed_headers_v4(server, "PutRecord", body), body)
    assert status == 200, resp
    assert json.loads(resp)["SequenceNumber"].isdigit()


def test_unsigned(server, client, stream):
    body = put_body(stream, b"test_unsigned")
    status, _, resp = post(server, {"Content-Type": J, "X-Amz-Target": "Kinesis_20131202.PutRecord"}, body)
    assert_refused(status, resp, "MissingAuthenticationTokenException")
    body = json.dumps({"StreamName": stream + "-unsigned", "ShardCount": 1}).encode()
    status, _, resp = post(server, {"Content-Type": J, "X-Amz-Target": "Kinesis_20131202.CreateStream"}, body)
    assert_refused(status, resp, "MissingAuthenticationTokenException")
    assert stream + "-unsigned" not in client.list_streams()["StreamNames"]
    assert_nothing_written(client, stream, b"test_unsigned")


def test_wrong_secret(server, client, stream):
    ak, sk = server.credentials()
    body = put_body(stream, b"test_wrong_secret")
    h = signed_headers_v4(server, "PutRecord", body, secret_key=sk[:-1] + ("A" if sk[-1] != "A" else "B"))
    status, _, resp = post(server, h, body)
    assert_refused(status, resp, "InvalidSignatureException")
    assert_nothing_written(client, stream, b"test_wrong_secret")


def test_unknown_access_key(server, client, stream):
    body = put_body(stream, b"test_unknown_access_key")
    status, _, resp = post(server, signed_headers_v4(server, "PutRecord", body, access_key="AKIANOTAKEY00000000",
                                                     secret_key="x" * 40), body)
    assert_refused(status, resp, "UnrecognizedClientException")
    assert_nothing_written(client, stream, b"test_unknown_access_key")


def test_body_tampered_after_signing(server, client, stream):
    h = signed_headers_v4(server, "PutRecord", put_body(stream, b"original"))
    body = put_body(stream, b"tampered")
    status, _, resp = post(server, h, body)
    assert_refused(status, resp, "InvalidSignatureException")
    assert_nothing_written(client, stream, b"original", b"tampered")


def test_target_tampered_after_signing(server, client, stream):
    body = json.dumps({"StreamName": stream}).encode()
    h = signed_headers_v4(server, "DescribeStreamSummary", body)
    h["X-Amz-Target"] = "Kinesis_20131202.DeleteStream"
    status, _, resp = post(server, h, body)
    assert_refused(status, resp, "InvalidSignatureException")
    assert client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"


def test_stale_signature(server, client, stream):
    body = put_body(stream, b"test_stale_signature")
    stale = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 20 * 60))
    status, _, resp = post(server, signed_headers_v4(server, "PutRecord", body, amz_date=stale), body)
    assert_refused(status, resp, "InvalidSignatureException")
    future = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + 20 * 60))
    status, _, resp = post(server, signed_headers_v4(server, "PutRecord", body, amz_date=future), body)
    assert_refused(status, resp, "InvalidSignatureException")
    assert_nothing_written(client, stream, b"test_stale_signature")


def test_wrong_service_scope(server, client, stream):
    body = put_body(stream, b"test_wrong_service_scope")
    status, _, resp = post(server, signed_headers_v4(server, "PutRecord", body, service="s3"), body)
    assert_refused(status, resp, "InvalidSignatureException", "IncompleteSignatureException")
    assert_nothing_written(client, stream, b"test_wrong_service_scope")


@pytest.mark.parametrize("auth", [
    "AWS4-HMAC-SHA256",
    "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
    "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=zz",
    "Basic dXNlcjpwYXNz",
    "AWS4-HMAC-SHA256 " + "Credential=" + "A" * 100000,
])
def test_malformed_authorization(server, client, stream, auth):
    body = put_body(stream, b"test_malformed_authorization")
    h = {"Content-Type": J, "X-Amz-Target": "Kinesis_20131202.PutRecord", "Authorization": auth,
         "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())}
    try:
        status, _, resp = post(server, h, body)
    except ConnectionError:
        assert len(auth) > 8192, "only an oversized header may be answered by closing the connection"
        status, resp = 431, b""
    assert 400 <= status < 500, (status, resp[:200])
    if resp and resp.lstrip().startswith(b"{"):
        assert error_type(resp) in ("IncompleteSignatureException", "InvalidSignatureException",
                                    "MissingAuthenticationTokenException", "UnrecognizedClientException"), resp
    assert_nothing_written(client, stream, b"test_malformed_authorization")


def test_query_string_auth(server, client, stream):
    body = json.dumps({"StreamName": stream}).encode()
    path, headers = harness.presign_query(server, "DescribeStreamSummary", body)
    status, _, resp = post(server, headers, body, path=path)
    assert status == 200, resp
    assert json.loads(resp)["StreamDescriptionSummary"]["StreamName"] == stream
    # wrong secret, expired, and a body changed after presigning
    pbody = put_body(stream, b"forged-query")
    for kw, changed in (({"secret_key": "z" * 40}, None),
                        ({"amz_date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 3600)),
                          "expires": 60}, None),
                        ({}, put_body(stream, b"forged-query-2"))):
        path, headers = harness.presign_query(server, "PutRecord", pbody, **kw)
        status, _, resp = post(server, headers, changed or pbody, path=path)
        assert_refused(status, resp, "InvalidSignatureException")
    assert_nothing_written(client, stream, b"forged-query", b"forged-query-2")
