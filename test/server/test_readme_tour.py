"""README.md's tour, run as written, so that the README cannot drift from the product.

The shell blocks that follow a `<!-- tour -->` marker are taken from README.md in order and
run with bash in a fresh directory where `make demo` (`BUILD_DIR/streamlake demo`) runs,
as the README says: from the directory holding `data/`, with `./build/release/streamlake`
and `scripts/duckdb` where the README names them. The only change made to the text is the
ports: the demo listens on free ports here, so `127.0.0.1:4566` and `-p 4567` are replaced
by them, and STREAMLAKE_ENDPOINT is set for the commands that rely on the default port. Each block must exit 0 and print what the README says it shows. The AWS CLI block
runs with both CLIs on this machine: the first `aws` on PATH (a pyenv v1 here) and Debian's
v2 at /usr/bin/aws.

The `<!-- config -->` TOML block (the configuration reference) must be accepted by
`streamlake serve --config`.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402

BIN = os.environ.get("SL_DEMO_BIN", "")


def blocks(marker):
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    out = []
    for m in re.finditer(r"<!-- " + marker + r" -->\s*\n```(\w+)\n(.*?)\n```", text, re.S):
        out.append(m.group(2))
    return out


def start(args, cwd, ready_text):
    return procs.start([BIN] + args, ready_text, cwd=cwd)


def ports(lines):
    return procs.listening_port(lines, "http"), procs.listening_port(lines, "pg")


def run_block(text, cwd, http, pg, path_first=None):
    text = text.replace("127.0.0.1:4566", f"127.0.0.1:{http}").replace("-p 4567", f"-p {pg}")
    env = dict(os.environ)
    # Commands that name no endpoint (`streamlake sql`) reach the demo's port this way.
    env["STREAMLAKE_ENDPOINT"] = f"http://127.0.0.1:{http}"
    if path_first:
        env["PATH"] = path_first + ":" + env["PATH"]
    # -e: a failing command fails the block; no pipefail (a user's shell has none, and
    # `find | head` ends find with SIGPIPE).
    return subprocess.run(["bash", "-eu", "-c", text], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def until(what, fn, seconds):
    deadline = time.monotonic() + seconds
    while True:
        ok, detail = fn()
        if ok:
            return detail
        assert time.monotonic() < deadline, f"{what}: {detail}"
        time.sleep(1)


def test_readme_tour_as_written():
    assert BIN and os.path.exists(BIN), f"no binary at {BIN!r}"
    tour = blocks("tour")
    assert len(tour) == 3, f"README.md should have 3 tour blocks (aws, psql, lake), found {len(tour)}"
    work = tempfile.mkdtemp(prefix="sl-tour-")
    try:
        os.makedirs(os.path.join(work, "build", "release"))
        os.symlink(BIN, os.path.join(work, "build", "release", "streamlake"))
        os.symlink(os.path.join(ROOT, "scripts"), os.path.join(work, "scripts"))
        proc, lines = start(["demo", "--port", "0"], work, "producing 100 records/s")
        try:
            http, pg = ports(lines)
            # 1. A record through the AWS CLI: both CLIs on this machine.
            for first in (None, "/usr/bin"):
                r = run_block(tour[0], work, http, pg, first)
                assert r.returncode == 0, f"aws block ({first or 'PATH'}): {r.stderr}"
                assert '"SequenceNumber"' in r.stdout, r.stdout

            # 2. psql shows it in products (the view catches up within moments).
            def psql():
                r = run_block(tour[1], work, http, pg)
                rows = [l for l in r.stdout.splitlines() if re.match(r"\s*12345\s*\|\s*product7\s*\|\s*45\s*$", l)]
                return r.returncode == 0 and len(rows) == 2, (r.returncode, r.stdout, r.stderr)
            until("psql block", psql, 30)

            # 3. is the notebook (the browser tests open it). 4. the lake: files are committed
            # with every checkpoint.
            def lake():
                r = run_block(tour[2], work, http, pg)
                return r.returncode == 0 and ".csv.gz" in r.stdout, (r.returncode, r.stdout, r.stderr)
            out = until("lake block", lake, 60)[1]
            counts = [int(m.group(1)) for m in re.finditer(r"^\s*(\d+)\s*$", out, re.M)]
            assert len(counts) >= 2 and all(c > 0 for c in counts[:2]), out
            assert re.search(r"product\d+\s*\|\s*\d+", out), out
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(60) == 0, lines[-20:]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_readme_configuration_reference_is_accepted():
    assert BIN and os.path.exists(BIN), f"no binary at {BIN!r}"
    cfg = blocks("config")
    assert len(cfg) == 1, "README.md should have one configuration block"
    work = tempfile.mkdtemp(prefix="sl-config-")
    try:
        path = os.path.join(work, "streamlake.toml")
        with open(path, "w") as f:
            f.write(cfg[0])
        proc, lines = start(["serve", "--config", path, "--data", os.path.join(work, "data"), "--port", "0"], work,
                            "listening http=")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, lines
    finally:
        shutil.rmtree(work, ignore_errors=True)
