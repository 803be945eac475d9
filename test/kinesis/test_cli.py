"""`streamlake kinesis put|ls|tail` against a server: put prints a shard and sequence number
per record; ls lists streams and shards; tail prints exactly the records put, from
trim-horizon across a split (parents before children) and from latest."""
import json
import os
import subprocess
import time

import pytest

import harness
from harness import unique_name

pytestmark = pytest.mark.streamlake_only
BIN = os.environ.get("STREAMLAKE_BIN")


def cli(server, *args, input=None, timeout=60):
    cmd = [BIN, "kinesis", args[0], "--endpoint", server.endpoint, "--data", server.data_dir, *args[1:]]
    return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)


def test_put_ls_tail_across_split(server, client):
    name = unique_name("cli")
    harness.create_stream(client, name, shards=1)
    first = [f"a{i}" for i in range(30)]
    r = cli(server, "put", "--stream", name, *first)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 30 and all(l.startswith("shardId-000000000000 ") for l in lines)
    client.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    harness.wait_active(client, name)
    second = [f"b{i}" for i in range(30)]
    r = cli(server, "put", "--stream", name, input="\n".join(second) + "\n")
    assert r.returncode == 0, r.stderr
    assert {l.split()[0] for l in r.stdout.splitlines()} <= {"shardId-000000000001", "shardId-000000000002"}
    r = cli(server, "ls")
    assert r.returncode == 0 and any(l.split()[:2] == [name, "ACTIVE"] for l in r.stdout.splitlines()), r.stdout
    r = cli(server, "ls", "--stream", name)
    assert r.returncode == 0
    rows = [l.split() for l in r.stdout.splitlines()[1:]]
    assert [(x[0], x[1], x[3]) for x in rows] == [("shardId-000000000000", "-", "closed"),
                                                  ("shardId-000000000001", "shardId-000000000000", "open"),
                                                  ("shardId-000000000002", "shardId-000000000000", "open")]
    r = cli(server, "tail", "--stream", name, "--max-records", "60")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[:30] == first  # the parent first, in order
    assert sorted(out[30:]) == sorted(second)
    r = cli(server, "tail", "--stream", name, "--max-records", "1", "--format", "json")
    rec = json.loads(r.stdout)
    assert rec["data"] == "a0" and rec["shard"] == "shardId-000000000000" and rec["sequence"].isdigit()


def test_tail_latest(server, client):
    name = unique_name("cli-latest")
    harness.create_stream(client, name, shards=2)
    assert cli(server, "put", "--stream", name, "old").returncode == 0
    cmd = [BIN, "kinesis", "tail", "--endpoint", server.endpoint, "--data", server.data_dir,
           "--stream", name, "--from", "latest", "--max-records", "3"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)  # let it take its LATEST iterators
        assert cli(server, "put", "--stream", name, "--partition-key", "k", "n1", "n2", "n3").returncode == 0
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert out.splitlines() == ["n1", "n2", "n3"]


def test_errors(server):
    r = cli(server, "tail", "--stream", "no-such-stream", "--max-records", "1")
    assert r.returncode == 1 and "ResourceNotFoundException" in r.stderr
    r = subprocess.run([BIN, "kinesis", "ls", "--endpoint", server.endpoint, "--data", "/nonexistent"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "credentials" in r.stderr
