"""Shared helpers for the Kinesis integration tests: start/stop a `streamlake serve` on a
free port with a temporary data dir, read its credentials, build boto3 clients, sign raw
requests with botocore.

Standard library + boto3/botocore only (these run under Debian's /usr/bin/python3).

Env:
  STREAMLAKE_BIN   path to the streamlake binary (set by ctest)
  SL_TEST_PEER     "kinesalite" runs the suites against node_modules/.bin/kinesalite instead
                   (to check the tests' own expectations against a Kinesis clone; tests that
                   need real authentication or durability skip themselves there)
"""
import configparser
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials

REGION = "us-east-1"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
READY_RE = re.compile(r"^streamlake: listening http=([0-9.]+):(\d+)\s*$")
STARTUP_DEADLINE_S = 30.0
PEER = os.environ.get("SL_TEST_PEER", "streamlake")


def is_kinesalite():
    return PEER == "kinesalite"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process over one data dir. start() may be called again after kill()/stop()
    (same data dir, new port). Lifecycle: start → (kill|stop) → start ... → stop/cleanup."""

    def __init__(self, data_dir=None, extra_args=(), keep_dir=False):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="sl-kinesis-test-")
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.stdout_lines = []
        self.starts = 0
        self.keep_dir = keep_dir

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def credentials_file(self):
        return os.path.join(self.data_dir, "credentials")

    def stderr_path(self):
        return os.path.join(self.data_dir, f"stderr.{self.starts}.log")

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        err = open(self.stderr_path(), "wb")
        if is_kinesalite():
            self.port = _free_port()
            cmd = [os.path.join(REPO, "node_modules", ".bin", "kinesalite"), "--port", str(self.port),
                   "--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0", "--shardLimit", "100000",
                   "--path", os.path.join(self.data_dir, "kinesalite")]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
            err.close()
            deadline = time.monotonic() + STARTUP_DEADLINE_S
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    break
                except OSError:
                    assert self.proc.poll() is None, "kinesalite exited"
                    time.sleep(0.05)
            if not os.path.exists(self.credentials_file):
                with open(self.credentials_file, "w") as f:
                    f.write("[default]\naws_access_key_id = AKIDKINESALITE\n"
                            "aws_secret_access_key = kinesalitesecret\n")
            return self
        binary = os.environ.get("STREAMLAKE_BIN")
        assert binary and os.path.exists(binary), "STREAMLAKE_BIN must name the streamlake binary"
        cmd = [binary, "serve", "--data", self.data_dir, "--host", "127.0.0.1", "--port", "0"] + self.extra_args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        err.close()
        ready = threading.Event()
        found = {}
        lines = self.stdout_lines

        def drain(pipe):
            for raw in pipe:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                lines.append(line)
                m = READY_RE.match(line)
                if m and not ready.is_set():
                    found["port"] = int(m.group(2))
                    ready.set()
            ready.set()  # EOF: the process is gone

        threading.Thread(target=drain, args=(self.proc.stdout,), daemon=True).start()
        if not ready.wait(STARTUP_DEADLINE_S) or "port" not in found:
            rc = self.proc.poll()
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"server did not print its listening line within {STARTUP_DEADLINE_S}s "
                f"(exit code {rc}); stdout={lines!r}; stderr tail:\n{self.stderr_tail()}")
        self.port = found["port"]
        return self

    def stderr_tail(self, n=4000):
        try:
            with open(self.stderr_path(), "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL, as a crash."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code. A server that does not stop is a failure."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"server did not stop within {timeout}s of SIGTERM")

    def cleanup(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        if self.own_dir and not self.keep_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def credentials(self):
        """(access_key, secret_key) from DATA/credentials."""
        cp = configparser.ConfigParser()
        assert cp.read(self.credentials_file), f"no credentials file at {self.credentials_file}"
        sec = cp["default"]
        return sec["aws_access_key_id"].strip(), sec["aws_secret_access_key"].strip()

    def client(self, access_key=None, secret_key=None, **config):
        ak, sk = self.credentials()
        cfg = dict(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30,
                   max_pool_connections=2)
        cfg.update(config)
        session = boto3.session.Session(aws_access_key_id=access_key or ak,
                                        aws_secret_access_key=secret_key or sk,
                                        region_name=REGION)
        return session.client("kinesis", endpoint_url=self.endpoint,
                              config=botocore.config.Config(**cfg))

    def unsigned_client(self):
        return boto3.session.Session(region_name=REGION).client(
            "kinesis", endpoint_url=self.endpoint,
            config=botocore.config.Config(signature_version=botocore.UNSIGNED,
                                          retries={"total_max_attempts": 1}))


# ---------------------------------------------------------------- raw requests

def sign_headers(server, operation, body, content_type="application/x-amz-json-1.1",
                 access_key=None, secret_key=None, extra_headers=None, region=REGION):
    """Headers (dict) of a SigV4-signed POST / of `body` (bytes) for Kinesis `operation`."""
    ak, sk = server.credentials()
    creds = botocore.credentials.Credentials(access_key or ak, secret_key or sk)
    headers = {"Content-Type": content_type,
               "X-Amz-Target": f"Kinesis_20131202.{operation}"}
    if extra_headers:
        headers.update(extra_headers)
    req = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/", data=body,
                                         headers=headers)
    botocore.auth.SigV4Auth(creds, "kinesis", region).add_auth(req)
    return dict(req.headers.items())


def raw_request(server, operation, body, signed=True, timeout=30, **kw):
    """One HTTP/1.1 POST over a fresh connection; returns (status, headers, body bytes)."""
    import http.client
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    if signed:
        headers = sign_headers(server, operation, body, **kw)
    else:
        headers = {"Content-Type": kw.get("content_type", "application/x-amz-json-1.1"),
                   "X-Amz-Target": f"Kinesis_20131202.{operation}"}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def error_type(body):
    """`__type` of a Kinesis JSON error body, without any 'namespace#' prefix."""
    doc = json.loads(body)
    t = doc.get("__type", "")
    return t.split("#")[-1]


def error_message(body):
    doc = json.loads(body)
    for k in ("message", "Message"):
        if k in doc:
            return doc[k]
    return None


# ---------------------------------------------------------------- Kinesis helpers

def wait_active(client, stream, deadline_s=30):
    end = time.monotonic() + deadline_s
    while True:
        d = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        if d["StreamStatus"] == "ACTIVE":
            return d
        assert time.monotonic() < end, f"stream {stream} not ACTIVE after {deadline_s}s: {d}"
        time.sleep(0.05)


def wait_gone(client, stream, deadline_s=30):
    end = time.monotonic() + deadline_s
    while True:
        try:
            client.describe_stream_summary(StreamName=stream)
        except client.exceptions.ResourceNotFoundException:
            return
        assert time.monotonic() < end, f"stream {stream} still exists {deadline_s}s after delete"
        time.sleep(0.05)


def create_stream(client, stream, shards=1):
    client.create_stream(StreamName=stream, ShardCount=shards)
    return wait_active(client, stream)


def list_all_shards(client, stream, **kw):
    shards, token = [], None
    while True:
        resp = client.list_shards(NextToken=token) if token else client.list_shards(StreamName=stream, **kw)
        shards += resp["Shards"]
        token = resp.get("NextToken")
        if not token:
            return shards


def read_shard(client, stream, shard_id, iterator_type="TRIM_HORIZON", limit=10000, max_calls=10000, **kw):
    """All records of a shard from the iterator up to the tip (or the end of a closed shard).
    Returns (records, last_response)."""
    it = client.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType=iterator_type,
                                   **kw)["ShardIterator"]
    out = []
    for _ in range(max_calls):
        resp = client.get_records(ShardIterator=it, Limit=limit)
        out += resp["Records"]
        it = resp.get("NextShardIterator")
        if it is None:
            return out, resp
        if not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0:
            return out, resp
    raise AssertionError(f"shard {shard_id} not drained after {max_calls} GetRecords calls")


def hash_key(partition_key):
    import hashlib
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def shard_for_hash(shards, h):
    """The open shard whose HashKeyRange holds h."""
    for s in shards:
        r = s["HashKeyRange"]
        if "EndingSequenceNumber" in s["SequenceNumberRange"]:
            continue
        if int(r["StartingHashKey"]) <= h <= int(r["EndingHashKey"]):
            return s["ShardId"]
    raise AssertionError(f"no open shard holds hash key {h}")


def unique_name(prefix):
    return f"{prefix}-{os.getpid()}-{int(time.monotonic() * 1000) % 1000000}"


# ---------------------------------------------------------------- an independent SigV4 signer

def sigv4(access_key, secret_key, host, body, headers, amz_date=None, region=REGION, service="kinesis",
          method="POST", path="/", query=""):
    """Authorization header value and X-Amz-Date for a request (written from the AWS spec,
    independent of botocore, so the server is checked against two signers). `headers` must
    hold every header to sign except host and x-amz-date."""
    import hashlib
    import hmac
    amz_date = amz_date or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    day = amz_date[:8]
    h = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    h["host"] = host
    h["x-amz-date"] = amz_date
    names = sorted(h)
    canonical = "\n".join([method, path, query, "".join(f"{n}:{h[n]}\n" for n in names), ";".join(names),
                           hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret_key).encode()
    for part in (day, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    auth = f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={sig}"
    return auth, amz_date


def post(server, headers, body, path="/", timeout=30):
    """A POST with exactly these headers (plus Host and Content-Length); (status, headers, body)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def signed_headers_v4(server, operation, body, content_type="application/x-amz-json-1.1", amz_date=None,
                      access_key=None, secret_key=None, region=REGION, service="kinesis"):
    ak, sk = server.credentials()
    headers = {"Content-Type": content_type, "X-Amz-Target": f"Kinesis_20131202.{operation}"}
    auth, date = sigv4(access_key or ak, secret_key or sk, f"127.0.0.1:{server.port}", body, headers,
                       amz_date=amz_date, region=region, service=service)
    headers.update({"X-Amz-Date": date, "Authorization": auth})
    return headers


def presign_query(server, operation, body, secret_key=None, access_key=None, expires=300, amz_date=None,
                  content_type="application/x-amz-json-1.1"):
    """SigV4 query-string form for a POST / with a JSON body: (path?query, headers)."""
    import hashlib
    import hmac
    import urllib.parse
    ak, sk = server.credentials()
    ak, sk = access_key or ak, secret_key or sk
    amz_date = amz_date or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    scope = f"{amz_date[:8]}/{REGION}/kinesis/aws4_request"
    headers = {"content-type": content_type, "host": f"127.0.0.1:{server.port}",
               "x-amz-target": f"Kinesis_20131202.{operation}"}
    names = sorted(headers)
    params = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{ak}/{scope}",
              "X-Amz-Date": amz_date, "X-Amz-Expires": str(expires), "X-Amz-SignedHeaders": ";".join(names)}
    enc = lambda v: urllib.parse.quote(v, safe="-_.~")
    query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    canonical = "\n".join(["POST", "/", query, "".join(f"{n}:{headers[n]}\n" for n in names), ";".join(names),
                           hashlib.sha256(body).hexdigest()])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + sk).encode()
    for part in (amz_date[:8], REGION, "kinesis", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return "/?" + query + "&X-Amz-Signature=" + sig, {"Content-Type": content_type,
                                                       "X-Amz-Target": headers["x-amz-target"]}
