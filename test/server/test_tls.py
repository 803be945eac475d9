"""TLS: `streamlake certs` makes a self-signed pair; `serve --tls-cert/--tls-key` turns on
HTTPS on the HTTP port (h2 and http/1.1 by ALPN) and SSL on the PostgreSQL port."""
import base64
import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request

import pytest

BIN = os.environ.get("STREAMLAKE_BIN")


@pytest.fixture(scope="module")
def tls_server():
    d = tempfile.mkdtemp(prefix="sl-tls-test-")
    r = subprocess.run([BIN, "certs", "--out", os.path.join(d, "tls")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    cert, key = os.path.join(d, "tls", "cert.pem"), os.path.join(d, "tls", "key.pem")
    assert os.stat(key).st_mode & 0o777 == 0o600
    proc = subprocess.Popen([BIN, "serve", "--data", os.path.join(d, "data"), "--port", "0",
                             "--tls-cert", cert, "--tls-key", key], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    ports = {}
    for line in proc.stdout:
        m = re.match(r"^streamlake: listening (https|http|pg)=127\.0\.0\.1:(\d+)$", line.strip())
        if m:
            ports[m.group(1)] = int(m.group(2))
        if "https" in ports or "http" in ports:
            break
    try:
        yield d, cert, ports, proc
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(d, ignore_errors=True)


def creds(d):
    text = open(os.path.join(d, "data", "credentials")).read()
    ak = re.search(r"aws_access_key_id = (\S+)", text).group(1)
    sk = re.search(r"aws_secret_access_key = (\S+)", text).group(1)
    return ak, sk


def test_https_sql_with_verified_certificate(tls_server):
    d, cert, ports, _ = tls_server
    assert "https" in ports, ports
    ak, sk = creds(d)
    ctx = ssl.create_default_context(cafile=cert)
    req = urllib.request.Request(f"https://localhost:{ports['https']}/v1/sql", data=b"select 40 + 2 as x",
                                 method="POST", headers={"Authorization": "Basic " +
                                                         base64.b64encode(f"{ak}:{sk}".encode()).decode()})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        assert json.loads(r.read())["rows"] == [[42]]
    # Cleartext HTTP on the TLS port gets no answer.
    with pytest.raises(Exception):
        urllib.request.urlopen(f"http://127.0.0.1:{ports['https']}/health", timeout=5).read()


def test_psql_over_verified_ssl(tls_server):
    d, cert, ports, _ = tls_server
    ak, sk = creds(d)
    env = dict(os.environ, PGPASSWORD=sk, PGSSLMODE="verify-full", PGSSLROOTCERT=cert, PGCONNECT_TIMEOUT="10")
    r = subprocess.run(["psql", "-h", "localhost", "-p", str(ports["pg"]), "-U", ak, "-d", "streamlake", "-X",
                        "-A", "-t", "-c", "select 'ssl ok'"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ssl ok"


def test_non_loopback_without_tls_warns():
    d = tempfile.mkdtemp(prefix="sl-warn-test-")
    try:
        proc = subprocess.Popen([BIN, "serve", "--data", d, "--host", "0.0.0.0", "--port", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for line in proc.stdout:
                if line.startswith("streamlake: listening http="):
                    break
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
        assert "WARNING" in err and "without TLS" in err, err
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_session_cookie_is_secure_over_tls(tls_server):
    """Under TLS the notebook's session cookie carries Secure, and the CSRF Origin check
    expects https://."""
    d, cert, ports, _ = tls_server
    ak, sk = creds(d)
    ctx = ssl.create_default_context(cafile=cert)
    base = f"https://localhost:{ports['https']}"
    req = urllib.request.Request(base + "/v1/session", data=json.dumps({"user": "admin", "password": sk}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        cookie = r.headers["Set-Cookie"]
        csrf = json.loads(r.read())["csrf_token"]
    attrs = [a.strip() for a in cookie.split(";")]
    assert "Secure" in attrs and "HttpOnly" in attrs and "SameSite=Strict" in attrs, cookie

    def create(origin):
        req = urllib.request.Request(base + "/v1/notebooks", data=b'{"name":"tls"}', method="POST",
                                     headers={"Content-Type": "application/json", "Cookie": attrs[0],
                                              "X-CSRF-Token": csrf, "Origin": origin})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    assert create(f"http://localhost:{ports['https']}") == 403
    assert create(base) == 201
