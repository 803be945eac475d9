#!/usr/bin/python3
"""A fault-injecting HTTP proxy in front of an S3-compatible server, for s3_store_test.

Each client connection carries one request (the answer says Connection: close). Before a
request is forwarded the proxy checks its AWS SigV4 signature the way S3 does (the canonical
request rebuilt from what arrived, with the secret given by --secret), since s3rver does not
check V4 signatures at all; a mismatch is answered 403 SignatureDoesNotMatch.

Faults, chosen by a random generator seeded with --seed (a share --fault-rate of requests):
  500 InternalError, 503 SlowDown          answered without forwarding
  drop-before                              connection closed without forwarding
  drop-after                               forwarded (so applied), connection closed unanswered
  truncate                                 forwarded, half of the answer sent, then closed
  stall                                    forwarded, the answer held back for --stall-ms
  ok_error (--complete-error-rate of the CompleteMultipartUploads otherwise unfaulted)
                                           200 with an InternalError <Error> body, not forwarded
and, every --outage-every-ms, an outage of --outage-ms during which every connection is
closed on arrival. Counts go to --stats (one "name value" line each) after every request,
with op_<METHOD>_<uploads|uploadId|list-type|plain> counting the requests of each kind.

With --conditional the proxy honours If-None-Match: * on PUT as S3 does (s3rver ignores it):
the existence check and the write are one step per key.

Prints "PORT <n>" on stdout once listening.
"""
import argparse
import hashlib
import hmac
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.parse

FAULTS = ["e500", "e503", "drop_before", "drop_after", "truncate", "stall"]


def canonical_query(q):
    items = []
    for part in q.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        enc = lambda s: urllib.parse.quote(urllib.parse.unquote(s), safe="-_.~")
        items.append((enc(k), enc(v)))
    items.sort()
    return "&".join(f"{k}={v}" for k, v in items)


def sigv4_ok(method, target, headers, body, secret):
    auth = headers.get("authorization", "")
    m = re.match(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?"
        r"SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$", auth)
    if not m:
        return False, "no SigV4 Authorization header"
    _, date, region, service, signed, sig = m.groups()
    signed_list = signed.split(";")
    for required in ("host", "x-amz-content-sha256", "x-amz-date"):
        if required not in signed_list:
            return False, f"{required} is not signed"
    for h in headers:
        if h.startswith("x-amz-") and h not in signed_list:
            return False, f"{h} is sent but not signed"
    for h in signed_list:
        if h not in headers:
            return False, f"{h} is signed but not sent"
    payload = headers["x-amz-content-sha256"]
    if payload != hashlib.sha256(body).hexdigest():
        return False, "x-amz-content-sha256 is not the body's SHA-256"
    path, _, query = target.partition("?")
    canon_headers = "".join(f"{h}:{' '.join(headers[h].split())}\n" for h in signed_list)
    creq = "\n".join([method, path, canonical_query(query), canon_headers, signed, payload])
    scope = f"{date}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", headers["x-amz-date"], scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for p in (date, region, service, "aws4_request"):
        k = hmac.new(k, p.encode(), hashlib.sha256).digest()
    if hmac.new(k, sts.encode(), hashlib.sha256).hexdigest() != sig:
        return False, "signature mismatch; canonical request:\n" + creq
    return True, ""


def xml_error(status, reason, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>").encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return head + body


class Proxy:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.lock = threading.Lock()
        self.stats = {name: 0 for name in ["requests", "forwarded", "outage", "bad_signature", "ok_error"] + FAULTS}
        self.start = time.monotonic()
        self.key_locks = {}

    def count(self, name):
        with self.lock:
            self.stats[name] = self.stats.get(name, 0) + 1
            if self.args.stats:
                with open(self.args.stats + ".tmp", "w") as f:
                    for k, v in self.stats.items():
                        f.write(f"{k} {v}\n")
                os.replace(self.args.stats + ".tmp", self.args.stats)

    def upstream(self, request):
        up = socket.create_connection(("127.0.0.1", self.args.upstream), timeout=30)
        try:
            up.sendall(request)
            answer = b""
            while True:
                chunk = up.recv(1 << 20)
                if not chunk:
                    return answer
                answer += chunk
        finally:
            up.close()

    def log(self, line):
        if self.args.log:
            with self.lock:
                with open(self.args.log, "a") as f:
                    f.write(f"{time.monotonic() - self.start:.3f} {threading.get_ident()} {line}\n")

    def in_outage(self):
        if self.args.outage_every_ms <= 0:
            return False
        ms = (time.monotonic() - self.start) * 1000
        return ms % self.args.outage_every_ms > self.args.outage_every_ms - self.args.outage_ms

    def pick_fault(self):
        with self.lock:
            if self.rng.random() >= self.args.fault_rate:
                return None
            # A stall costs the client a whole timeout: rarer than the others.
            weights = [6, 6, 4, 4, 4, 1 if self.args.stall_ms > 0 else 0]
            return self.rng.choices(FAULTS, weights=weights)[0]

    def serve(self, conn):
        try:
            self.handle(conn)
        except (ConnectionError, socket.timeout, OSError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle(self, conn):
        conn.settimeout(30)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("expect", "").lower() == "100-continue" and not rest:
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        length = int(headers.get("content-length", "0"))
        body = rest
        while len(body) < length:
            chunk = conn.recv(min(1 << 20, length - len(body)))
            if not chunk:
                return
            body += chunk
        self.count("requests")
        path, _, query = target.partition("?")
        names = [part.partition("=")[0] for part in query.split("&") if part]
        kind = next((n for n in ("uploads", "uploadId", "list-type") if n in names), "plain")
        self.count(f"op_{method}_{kind}")
        if self.in_outage():
            self.count("outage")
            self.log(f"{method} {target} outage")
            return
        if self.args.secret is not None:
            ok, why = sigv4_ok(method, target, headers, body, self.args.secret)
            if not ok:
                self.count("bad_signature")
                sys.stderr.write(f"s3_fault_proxy: {method} {target}: {why}\n")
                conn.sendall(xml_error(403, "Forbidden", "SignatureDoesNotMatch", why.split("\n")[0]))
                return
        fault = self.pick_fault()
        if fault is None and method == "POST" and "uploadId" in names:
            # S3 may fail a CompleteMultipartUpload inside a 200 answer.
            with self.lock:
                if self.rng.random() < self.args.complete_error_rate:
                    fault = "ok_error"
        if fault:
            self.count(fault)
        self.log(f"{method} {target} {fault or 'forward'}")
        if fault == "e500":
            conn.sendall(xml_error(500, "Internal Server Error", "InternalError",
                                   "We encountered an internal error. Please try again."))
            return
        if fault == "e503":
            conn.sendall(xml_error(503, "Slow Down", "SlowDown", "Please reduce your request rate."))
            return
        if fault == "drop_before":
            return
        if fault == "ok_error":
            body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
                    b"<Message>We encountered an internal error. Please try again.</Message></Error>")
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            return
        # Forward: the same head minus Expect (the body is here) and with Connection: close.
        out = [lines[0]] + [l for l in lines[1:] if l.split(":")[0].strip().lower() not in ("expect", "connection")]
        out.append("Connection: close")
        request = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body
        if self.args.conditional and method == "PUT" and headers.get("if-none-match") == "*":
            # s3rver ignores If-None-Match; emulate S3: the check and the write are one step.
            with self.lock:
                key_lock = self.key_locks.setdefault(path, threading.Lock())
            with key_lock:
                exists = self.upstream(f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                                       .encode()).startswith(b"HTTP/1.1 200")
                answer = (xml_error(412, "Precondition Failed", "PreconditionFailed",
                                    "At least one of the pre-conditions you specified did not hold")
                          if exists else self.upstream(request))
        else:
            answer = self.upstream(request)
        self.count("forwarded")
        if fault == "drop_after":
            return
        if fault == "truncate":
            conn.sendall(answer[: max(1, len(answer) // 2)])
            return
        if fault == "stall":
            time.sleep(self.args.stall_ms / 1000)
        conn.sendall(answer)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--secret")
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--stall-ms", type=int, default=0)
    p.add_argument("--complete-error-rate", type=float, default=0.0)
    p.add_argument("--outage-every-ms", type=int, default=0)
    p.add_argument("--outage-ms", type=int, default=0)
    p.add_argument("--stats")
    p.add_argument("--conditional", action="store_true",
                   help="honour If-None-Match: * on PUT (412 if the key exists), as S3 does")
    p.add_argument("--log", help="one line per request: seconds since start, thread, request, fault")
    args = p.parse_args()
    proxy = Proxy(args)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print(f"PORT {srv.getsockname()[1]}", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=proxy.serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
