"""Starts pg_test_server (the real engine behind PgServer) for the real-client tests."""
import os
import subprocess
import tempfile

USERS = ["admin:adminpw:admin", "writer:writerpw:writer", "reader:readerpw:reader"]


class TestServer:
    def __init__(self, binary, extra_args=(), data_dir=None):
        args = [binary]
        for u in USERS:
            args += ["--user", u]
        if data_dir:
            args += ["--data", data_dir]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError("pg_test_server did not start: %r" % line)
        self.port = int(line.split()[1])

    def stop(self):
        self.proc.stdin.close()  # the server exits when stdin closes
        rc = self.proc.wait(timeout=60)
        if rc != 0:
            raise RuntimeError("pg_test_server exited with %d" % rc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def make_cert(directory):
    cert = os.path.join(directory, "server.crt")
    key = os.path.join(directory, "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def tempdir():
    return tempfile.TemporaryDirectory(prefix="pgwire_it_")
