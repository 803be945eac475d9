"""[kinesis] enforce_limits = true: AWS's per-shard throughput limits answered with
ProvisionedThroughputExceededException (PutRecord, GetRecords) or per-record ErrorCode
(PutRecords), so back-off code can be tested; capacity comes back after a second."""
import os
import time

import botocore.config
import botocore.exceptions
import pytest

import harness
from harness import unique_name

pytestmark = pytest.mark.streamlake_only


@pytest.fixture(scope="module")
def limited():
    d = os.path.join(os.environ.get("TMPDIR", "/tmp"), unique_name("sl-limits"))
    os.makedirs(d)
    cfg = os.path.join(d, "streamlake.toml")
    with open(cfg, "w") as f:
        f.write("[kinesis]\nenforce_limits = true\n")
    s = harness.Server(extra_args=["--config", cfg])
    try:
        s.start()
        yield s
        assert s.stop() == 0
    finally:
        s.cleanup()
        os.remove(cfg)
        os.rmdir(d)


def no_retry(server):
    return server.client()  # the harness client does not retry


def test_put_record_bytes(limited):
    c = no_retry(limited)
    name = unique_name("lim-put")
    harness.create_stream(c, name)
    c.put_record(StreamName=name, Data=b"x" * 700_000, PartitionKey="k")
    errors = []
    for _ in range(10):  # 700 KB each against 1 MiB/s: refused within a few (a busy machine is slow)
        try:
            c.put_record(StreamName=name, Data=b"x" * 700_000, PartitionKey="k")
        except botocore.exceptions.ClientError as e:
            errors.append(e.response["Error"])
            break
    assert errors and errors[0]["Code"] == "ProvisionedThroughputExceededException", errors
    assert errors[0]["Message"] == (
        f"Rate exceeded for shard shardId-000000000000 in stream {name} under account 000000000000.")
    time.sleep(1.1)
    c.put_record(StreamName=name, Data=b"x" * 700_000, PartitionKey="k")


def test_put_records_count(limited):
    c = no_retry(limited)
    name = unique_name("lim-recs")
    harness.create_stream(c, name, shards=2)
    # ExplicitHashKey 0: everything to shard 0; 500 + 500 fit in 1000 records/s, the next 500 do not
    recs = [{"Data": b"d", "PartitionKey": "k", "ExplicitHashKey": "0"}] * 500
    assert c.put_records(StreamName=name, Records=recs)["FailedRecordCount"] == 0
    for _ in range(10):
        r = c.put_records(StreamName=name, Records=recs[:499] + [{"Data": b"d", "PartitionKey": "k",
                                                                  "ExplicitHashKey": str(2**128 - 1)}])
        if r["FailedRecordCount"]:
            break
    assert r["FailedRecordCount"] == 499, r["FailedRecordCount"]
    assert {x.get("ErrorCode") for x in r["Records"][:499]} == {"ProvisionedThroughputExceededException"}
    assert "SequenceNumber" in r["Records"][499]  # the other shard has its own capacity

def test_get_records_calls(limited):
    c = no_retry(limited)
    name = unique_name("lim-get")
    harness.create_stream(c, name)
    c.put_record(StreamName=name, Data=b"d", PartitionKey="k")
    it = c.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    codes = []
    for _ in range(30):
        try:
            it = c.get_records(ShardIterator=it)["NextShardIterator"]
            codes.append("ok")
        except botocore.exceptions.ClientError as e:
            codes.append(e.response["Error"]["Code"])
            break
    assert codes[:5] == ["ok"] * 5 and "ProvisionedThroughputExceededException" in codes[5:], codes
    time.sleep(1.1)
    c.get_records(ShardIterator=it)
