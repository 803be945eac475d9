"""The AWS CLI (Debian awscli v2, /usr/bin/aws) against `streamlake serve`, configured only
through the credentials file the server writes and --endpoint-url."""
import base64
import json
import os
import subprocess
import time

import pytest

import harness
from harness import unique_name

AWS = "/usr/bin/aws"
MAX_HASH = 2**128 - 1


class Cli:
    def __init__(self, server):
        self.server = server

    def env(self, credentials_file=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_SHARED_CREDENTIALS_FILE=credentials_file or self.server.credentials_file,
                   AWS_CONFIG_FILE=os.path.join(self.server.data_dir, "no-such-aws-config"),
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1",
                   AWS_RETRY_MODE="standard", AWS_EC2_METADATA_DISABLED="true")
        return env

    def run(self, *args, credentials_file=None, check=True):
        cmd = [AWS, "kinesis", *args, "--endpoint-url", self.server.endpoint, "--output", "json",
               "--cli-binary-format", "raw-in-base64-out"]
        p = subprocess.run(cmd, env=self.env(credentials_file), capture_output=True, text=True, timeout=120)
        if check:
            assert p.returncode == 0, f"{' '.join(args)} failed ({p.returncode}): {p.stderr}"
            return json.loads(p.stdout) if p.stdout.strip() else None
        return p

    def fails(self, *args, code, credentials_file=None):
        p = self.run(*args, credentials_file=credentials_file, check=False)
        assert p.returncode != 0, f"{' '.join(args)} unexpectedly succeeded: {p.stdout}"
        assert f"({code})" in p.stderr, f"{' '.join(args)}: expected {code}, got: {p.stderr}"
        return p


@pytest.fixture(scope="module")
def cli(server):
    return Cli(server)


def wait_active(cli, name, deadline_s=60):
    """Poll describe-stream-summary (the CLI's waiter polls every 10 s; test_round_trip uses it)."""
    end = time.monotonic() + deadline_s
    while True:
        s = cli.run("describe-stream-summary", "--stream-name", name)["StreamDescriptionSummary"]
        if s["StreamStatus"] == "ACTIVE":
            return s
        assert time.monotonic() < end, f"{name} not ACTIVE after {deadline_s}s"


def create(cli, name, shards, waiter=False):
    assert cli.run("create-stream", "--stream-name", name, "--shard-count", str(shards)) is None
    if waiter:
        cli.run("wait", "stream-exists", "--stream-name", name)
        assert cli.run("describe-stream-summary", "--stream-name", name)[
            "StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
    else:
        wait_active(cli, name)


def read_all(cli, name, shard, it_type="TRIM_HORIZON", *extra):
    it = cli.run("get-shard-iterator", "--stream-name", name, "--shard-id", shard,
                 "--shard-iterator-type", it_type, *extra)["ShardIterator"]
    out = []
    for _ in range(100):
        r = cli.run("get-records", "--shard-iterator", it)
        out += r["Records"]
        it = r.get("NextShardIterator")
        if not r["Records"] or it is None:
            return out, r
    raise AssertionError("not drained")


def data_of(rec):
    return base64.b64decode(rec["Data"])


def test_round_trip(cli):
    name = unique_name("cli-rt")
    create(cli, name, 2, waiter=True)
    d = cli.run("describe-stream", "--stream-name", name)["StreamDescription"]
    assert d["StreamStatus"] == "ACTIVE" and len(d["Shards"]) == 2
    s = cli.run("describe-stream-summary", "--stream-name", name)["StreamDescriptionSummary"]
    assert s["OpenShardCount"] == 2
    # put-record (raw data thanks to --cli-binary-format raw-in-base64-out)
    r = cli.run("put-record", "--stream-name", name, "--partition-key", "pk-1", "--data", "hello cli")
    assert r["SequenceNumber"].isdigit() and r["ShardId"].startswith("shardId-")
    shard = r["ShardId"]
    # put-records
    entries = [{"Data": f"batch-{i}", "PartitionKey": "pk-1"} for i in range(20)]
    rr = cli.run("put-records", "--stream-name", name, "--records", json.dumps(entries))
    assert rr["FailedRecordCount"] == 0 and len(rr["Records"]) == 20
    assert {x["ShardId"] for x in rr["Records"]} == {shard}, "same partition key, same shard"
    seqs = [r["SequenceNumber"]] + [x["SequenceNumber"] for x in rr["Records"]]
    assert [int(x) for x in seqs] == sorted(int(x) for x in seqs)
    recs, last = read_all(cli, name, shard)
    assert [data_of(x) for x in recs] == [b"hello cli"] + [f"batch-{i}".encode() for i in range(20)]
    assert [x["SequenceNumber"] for x in recs] == seqs
    assert all(x["PartitionKey"] == "pk-1" for x in recs)
    assert last["MillisBehindLatest"] == 0
    # every iterator type
    recs, _ = read_all(cli, name, shard, "AT_SEQUENCE_NUMBER", "--starting-sequence-number", seqs[5])
    assert [x["SequenceNumber"] for x in recs] == seqs[5:]
    recs, _ = read_all(cli, name, shard, "AFTER_SEQUENCE_NUMBER", "--starting-sequence-number", seqs[5])
    assert [x["SequenceNumber"] for x in recs] == seqs[6:]
    it = cli.run("get-shard-iterator", "--stream-name", name, "--shard-id", shard,
                 "--shard-iterator-type", "LATEST")["ShardIterator"]
    assert cli.run("get-records", "--shard-iterator", it)["Records"] == []
    boundary = int(time.time()) + 1  # AT_TIMESTAMP: a record after a whole-second boundary
    while time.time() < boundary + 0.05:
        time.sleep(0.02)
    late = cli.run("put-record", "--stream-name", name, "--partition-key", "pk-1", "--data", "late")
    r = cli.run("get-records", "--shard-iterator", it)
    assert [data_of(x) for x in r["Records"]] == [b"late"]
    recs, _ = read_all(cli, name, shard, "AT_TIMESTAMP", "--timestamp", str(boundary))
    assert [x["SequenceNumber"] for x in recs] == [late["SequenceNumber"]]
    recs, _ = read_all(cli, name, shard, "AT_TIMESTAMP", "--timestamp", "2001-01-01T00:00:00Z")
    assert len(recs) == 22
    # get-records --limit
    it = cli.run("get-shard-iterator", "--stream-name", name, "--shard-id", shard,
                 "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
    r = cli.run("get-records", "--shard-iterator", it, "--limit", "3")
    assert [x["SequenceNumber"] for x in r["Records"]] == seqs[:3]
    # delete
    assert cli.run("delete-stream", "--stream-name", name) is None
    cli.run("wait", "stream-not-exists", "--stream-name", name)
    cli.fails("describe-stream", "--stream-name", name, code="ResourceNotFoundException")


def test_list_paging(cli):
    prefix = unique_name("cli-ls")
    names = [f"{prefix}-{i}" for i in range(4)]
    for n in names:
        cli.run("create-stream", "--stream-name", n, "--shard-count", "1")
    for n in names:
        wait_active(cli, n)
    # server-side pages of 1, aggregated by the CLI
    allnames = cli.run("list-streams", "--page-size", "1")["StreamNames"]
    assert set(names) <= set(allnames) and allnames == sorted(allnames)
    # client-visible paging with --max-items / --starting-token
    p1 = cli.run("list-streams", "--max-items", "2")
    assert p1["StreamNames"] == allnames[:2] and p1["NextToken"]
    p2 = cli.run("list-streams", "--max-items", "2", "--starting-token", p1["NextToken"])
    assert p2["StreamNames"] == allnames[2:4]
    # the raw API: --no-paginate --limit
    raw = cli.run("list-streams", "--no-paginate", "--limit", "1")
    assert len(raw["StreamNames"]) == 1 and raw["HasMoreStreams"] is True and raw["NextToken"]
    raw2 = cli.run("list-streams", "--no-paginate", "--limit", "1", "--next-token", raw["NextToken"])
    assert raw2["StreamNames"] == allnames[1:2]

    name = unique_name("cli-shards")
    create(cli, name, 3)
    # list-shards: page by hand as the API wants (NextToken without StreamName)
    r = cli.run("list-shards", "--stream-name", name, "--max-results", "2", "--no-paginate")
    ids = [s["ShardId"] for s in r["Shards"]]
    assert len(ids) == 2 and r["NextToken"]
    r = cli.run("list-shards", "--next-token", r["NextToken"], "--no-paginate")
    ids += [s["ShardId"] for s in r["Shards"]]
    assert ids == [f"shardId-{i:012d}" for i in range(3)]
    assert not r.get("NextToken")
    r = cli.run("list-shards", "--stream-name", name, "--exclusive-start-shard-id", "shardId-000000000000")
    assert [s["ShardId"] for s in r["Shards"]] == ["shardId-000000000001", "shardId-000000000002"]


def test_reshard(cli):
    name = unique_name("cli-reshard")
    create(cli, name, 1)
    cli.run("put-record", "--stream-name", name, "--partition-key", "a", "--data", "before")
    cli.run("split-shard", "--stream-name", name, "--shard-to-split", "shardId-000000000000",
            "--new-starting-hash-key", str(2**127))
    wait_active(cli, name)
    shards = cli.run("list-shards", "--stream-name", name)["Shards"]
    assert len(shards) == 3
    parent = next(s for s in shards if s["ShardId"] == "shardId-000000000000")
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    kids = sorted((s for s in shards if s.get("ParentShardId") == "shardId-000000000000"),
                  key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
    assert [k["HashKeyRange"]["StartingHashKey"] for k in kids] == ["0", str(2**127)]
    recs, last = read_all(cli, name, "shardId-000000000000")
    assert [data_of(x) for x in recs] == [b"before"]
    cli.run("merge-shards", "--stream-name", name, "--shard-to-merge", kids[0]["ShardId"],
            "--adjacent-shard-to-merge", kids[1]["ShardId"])
    wait_active(cli, name)
    s = cli.run("describe-stream-summary", "--stream-name", name)["StreamDescriptionSummary"]
    assert s["OpenShardCount"] == 1
    r = cli.run("update-shard-count", "--stream-name", name, "--target-shard-count", "2",
                "--scaling-type", "UNIFORM_SCALING")
    assert r["TargetShardCount"] == 2
    wait_active(cli, name)
    s = cli.run("describe-stream-summary", "--stream-name", name)["StreamDescriptionSummary"]
    assert s["OpenShardCount"] == 2
    # split with a hash key at the shard's start is refused
    open_ = [x for x in cli.run("list-shards", "--stream-name", name)["Shards"]
             if "EndingSequenceNumber" not in x["SequenceNumberRange"]]
    cli.fails("split-shard", "--stream-name", name, "--shard-to-split", open_[0]["ShardId"],
              "--new-starting-hash-key", open_[0]["HashKeyRange"]["StartingHashKey"],
              code="InvalidArgumentException")


def test_tags_and_retention(cli):
    name = unique_name("cli-tags")
    create(cli, name, 1)
    cli.run("add-tags-to-stream", "--stream-name", name, "--tags", "owner=qa,tier=gold")
    tags = cli.run("list-tags-for-stream", "--stream-name", name)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("owner", "qa"), ("tier", "gold")]
    cli.run("remove-tags-from-stream", "--stream-name", name, "--tag-keys", "owner")
    tags = cli.run("list-tags-for-stream", "--stream-name", name)["Tags"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("tier", "gold")]
    cli.run("increase-stream-retention-period", "--stream-name", name, "--retention-period-hours", "168")
    assert cli.run("describe-stream-summary", "--stream-name", name)[
        "StreamDescriptionSummary"]["RetentionPeriodHours"] == 168
    cli.run("decrease-stream-retention-period", "--stream-name", name, "--retention-period-hours", "48")
    assert cli.run("describe-stream-summary", "--stream-name", name)[
        "StreamDescriptionSummary"]["RetentionPeriodHours"] == 48
    cli.fails("decrease-stream-retention-period", "--stream-name", name, "--retention-period-hours", "23",
              code="InvalidArgumentException")


def test_errors(cli, server):
    cli.fails("describe-stream", "--stream-name", "cli-nope", code="ResourceNotFoundException")
    cli.fails("put-record", "--stream-name", "cli-nope", "--partition-key", "k", "--data", "x",
              code="ResourceNotFoundException")
    name = unique_name("cli-err")
    create(cli, name, 1)
    cli.fails("create-stream", "--stream-name", name, "--shard-count", "1", code="ResourceInUseException")
    cli.fails("create-stream", "--stream-name", "bad name!", "--shard-count", "1", code="ValidationException")
    cli.fails("put-record", "--stream-name", name, "--partition-key", "k" * 257, "--data", "x",
              code="ValidationException")
    cli.fails("get-shard-iterator", "--stream-name", name, "--shard-id", "shardId-000000000000",
              "--shard-iterator-type", "AT_SEQUENCE_NUMBER", code="InvalidArgumentException")
    cli.fails("get-shard-iterator", "--stream-name", name, "--shard-id", "shardId-000000000042",
              "--shard-iterator-type", "TRIM_HORIZON", code="ResourceNotFoundException")
    cli.fails("get-records", "--shard-iterator", "bm90LWFuLWl0ZXJhdG9y" * 4, code="InvalidArgumentException")
    # client-side validation: the CLI refuses a bad enum before sending; still a failure
    p = cli.run("get-shard-iterator", "--stream-name", name, "--shard-id", "shardId-000000000000",
                "--shard-iterator-type", "NOPE", check=False)
    assert p.returncode != 0
    recs, _ = read_all(cli, name, "shardId-000000000000")
    assert recs == []


@pytest.mark.streamlake_only
def test_wrong_credentials(cli, server):
    name = unique_name("cli-auth")
    create(cli, name, 1)
    ak, _ = server.credentials()
    wrong = os.path.join(server.data_dir, "wrong-credentials")
    with open(wrong, "w") as f:
        f.write(f"[default]\naws_access_key_id = {ak}\naws_secret_access_key = {'n' * 40}\n")
    cli.fails("put-record", "--stream-name", name, "--partition-key", "k", "--data", "forged",
              credentials_file=wrong, code="InvalidSignatureException")
    unknown = os.path.join(server.data_dir, "unknown-credentials")
    with open(unknown, "w") as f:
        f.write("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
    cli.fails("list-streams", credentials_file=unknown, code="UnrecognizedClientException")
    cli.fails("create-stream", "--stream-name", name + "-x", "--shard-count", "1",
              credentials_file=unknown, code="UnrecognizedClientException")
    recs, _ = read_all(cli, name, "shardId-000000000000")
    assert recs == []
    assert name + "-x" not in cli.run("list-streams")["StreamNames"]
