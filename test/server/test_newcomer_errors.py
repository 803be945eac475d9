"""The errors a newcomer meets name the fix (issue: `make demo` and a README a newcomer can
follow): a port already in use, a data directory that cannot be created, a stream missing
for `streamlake produce`, credentials the server does not know, no server running, no
credentials file. Each runs the real binary and checks the hint it prints.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "kinesis"))
import harness  # noqa: E402

BIN = os.environ.get("STREAMLAKE_BIN", "")


def run(args, timeout=60):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=timeout)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_port_in_use_names_the_fix():
    assert BIN and os.path.exists(BIN), BIN
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    d = tempfile.mkdtemp(prefix="sl-newcomer-")
    try:
        r = run(["serve", "--data", os.path.join(d, "data"), "--port", str(busy.getsockname()[1]),
                 "--pg-port", str(free_port())])
        assert r.returncode != 0
        assert "hint:" in r.stderr and "--port" in r.stderr, r.stderr
    finally:
        busy.close()
        shutil.rmtree(d, ignore_errors=True)


def test_data_directory_that_cannot_be_created_names_the_fix():
    d = tempfile.mkdtemp(prefix="sl-newcomer-")
    try:
        blocker = os.path.join(d, "file")
        open(blocker, "w").close()
        r = run(["serve", "--data", os.path.join(blocker, "data"), "--port", "0"])
        assert r.returncode != 0
        assert "hint:" in r.stderr and "--data" in r.stderr, r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_client_errors_name_the_fix():
    d = tempfile.mkdtemp(prefix="sl-newcomer-")
    os.makedirs(os.path.join(d, "data"))
    s = harness.Server(data_dir=os.path.join(d, "data"))
    s.start()
    try:
        endpoint = f"http://127.0.0.1:{s.port}"
        creds = os.path.join(d, "data", "credentials")
        # A stream that does not exist.
        r = run(["produce", "--endpoint", endpoint, "--credentials", creds, "--stream", "nosuch", "--duration", "1"])
        assert r.returncode != 0
        assert "does not exist" in r.stderr and "create-stream" in r.stderr, r.stderr
        # Credentials the server does not know.
        wrong = os.path.join(d, "wrong-credentials")
        with open(wrong, "w") as f:
            f.write("[default]\naws_access_key_id = SLAKNOTAKEY000000000\naws_secret_access_key = nope\n")
        r = run(["sql", "--endpoint", endpoint, "--credentials", wrong, "-c", "SELECT 1"])
        assert r.returncode != 0
        assert "hint:" in r.stderr and "credentials" in r.stderr, r.stderr
        r = run(["produce", "--endpoint", endpoint, "--credentials", wrong, "--stream", "x", "--duration", "1"])
        assert r.returncode != 0
        assert "hint:" in r.stderr and "credentials" in r.stderr, r.stderr
        # No credentials file at all.
        r = run(["sql", "--endpoint", endpoint, "--data", os.path.join(d, "nowhere"), "-c", "SELECT 1"])
        assert r.returncode != 0
        assert "hint:" in r.stderr and "--data" in r.stderr, r.stderr
    finally:
        s.stop()
        s.cleanup()
    # No server running.
    r = run(["sql", "--endpoint", f"http://127.0.0.1:{free_port()}", "--credentials", creds, "-c", "SELECT 1"])
    assert r.returncode != 0
    assert "is the server running" in r.stderr, r.stderr
    shutil.rmtree(d, ignore_errors=True)
