"""boto3 round trips against `streamlake serve`: every operation of the ingestion issue,
every iterator type, paging, resharding, and the error cases a Kinesis client sees."""
import datetime
import os
import time

import botocore.exceptions
import pytest

import harness
from harness import create_stream, list_all_shards, read_shard, unique_name, wait_gone

MAX_HASH = 2**128 - 1


def err_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def open_shards(shards):
    return [s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]


def check_covering(shards):
    """The open shards' hash ranges tile [0, 2^128-1] exactly."""
    ranges = sorted((int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
                    for s in open_shards(shards))
    assert ranges[0][0] == 0 and ranges[-1][1] == MAX_HASH, ranges
    for (a0, a1), (b0, b1) in zip(ranges, ranges[1:]):
        assert b0 == a1 + 1, ranges


# ---------------------------------------------------------------- create / describe / list

def test_create_describe(client):
    name = unique_name("b3-create")
    create_stream(client, name, shards=3)
    d = client.describe_stream(StreamName=name)["StreamDescription"]
    assert d["StreamName"] == name
    assert d["StreamStatus"] == "ACTIVE"
    assert d["StreamARN"].startswith("arn:aws:kinesis:us-east-1:") and d["StreamARN"].endswith(":stream/" + name)
    assert d["RetentionPeriodHours"] == 24
    assert len(d["Shards"]) == 3
    assert [s["ShardId"] for s in d["Shards"]] == [
        "shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    check_covering(d["Shards"])
    for s in d["Shards"]:
        assert int(s["SequenceNumberRange"]["StartingSequenceNumber"]) >= 0
    summ = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summ["OpenShardCount"] == 3
    assert summ["StreamStatus"] == "ACTIVE"
    assert isinstance(summ["StreamCreationTimestamp"], datetime.datetime)
    # DescribeStream paging over shards (Limit + ExclusiveStartShardId)
    p1 = client.describe_stream(StreamName=name, Limit=2)["StreamDescription"]
    assert len(p1["Shards"]) == 2 and p1["HasMoreShards"] is True
    p2 = client.describe_stream(StreamName=name, Limit=2,
                                ExclusiveStartShardId=p1["Shards"][-1]["ShardId"])["StreamDescription"]
    assert [s["ShardId"] for s in p2["Shards"]] == ["shardId-000000000002"] and p2["HasMoreShards"] is False


def test_create_on_demand(client):
    name = unique_name("b3-ondemand")
    client.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summ = harness.wait_active(client, name)
    assert summ["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"
    assert summ["OpenShardCount"] >= 1
    r = client.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    assert r["SequenceNumber"].isdigit()


def test_waiter_stream_exists(client):
    name = unique_name("b3-waiter")
    client.create_stream(StreamName=name, ShardCount=1)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.delete_stream(StreamName=name)
    client.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def test_list_streams_paging(client):
    prefix = unique_name("b3-list")
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        client.create_stream(StreamName=n, ShardCount=1)
    for n in names:
        harness.wait_active(client, n)
    # NextToken paging, one by one
    seen, token, pages = [], None, 0
    while True:
        if token and token.startswith("start:"):  # older botocore: no NextToken in its model
            resp = client.list_streams(Limit=2, ExclusiveStartStreamName=token[6:])
        elif token:
            resp = client.list_streams(Limit=2, NextToken=token)
        else:
            resp = client.list_streams(Limit=2)
        pages += 1
        assert len(resp["StreamNames"]) <= 2
        # botocore drops fields its model lacks: Debian's botocore 1.29 predates
        # StreamSummaries (test_raw_http checks the field on the wire).
        summaries_known = "StreamSummaries" in client.meta.service_model.operation_model(
            "ListStreams").output_shape.members
        if summaries_known:
            assert len(resp["StreamSummaries"]) == len(resp["StreamNames"])
        for s in resp.get("StreamSummaries", []):
            assert s["StreamStatus"] in ("ACTIVE", "CREATING", "DELETING", "UPDATING")
            assert s["StreamARN"].endswith(":stream/" + s["StreamName"])
        seen += resp["StreamNames"]
        if not resp["HasMoreStreams"]:
            assert "NextToken" not in resp or not resp["NextToken"]
            break
        token = resp["NextToken"] if "NextToken" in resp else "start:" + resp["StreamNames"][-1]
        assert pages < 100
    assert pages >= 3
    assert seen == sorted(seen), "ListStreams returns names in lexicographic order"
    assert len(seen) == len(set(seen))
    assert set(names) <= set(seen)
    # the legacy ExclusiveStartStreamName form
    resp = client.list_streams(ExclusiveStartStreamName=names[1], Limit=2)
    assert resp["StreamNames"] == names[2:4]
    # the boto3 paginator agrees
    pag = [n for page in client.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2})
           for n in page["StreamNames"]]
    assert pag == seen


def test_list_shards_paging_and_filters(client):
    name = unique_name("b3-shards")
    create_stream(client, name, shards=5)
    resp = client.list_shards(StreamName=name, MaxResults=2)
    assert len(resp["Shards"]) == 2 and resp["NextToken"]
    ids = [s["ShardId"] for s in resp["Shards"]]
    token = resp["NextToken"]
    while token:
        resp = client.list_shards(NextToken=token, MaxResults=2)
        ids += [s["ShardId"] for s in resp["Shards"]]
        token = resp.get("NextToken")
    assert ids == [f"shardId-{i:012d}" for i in range(5)]
    # ExclusiveStartShardId
    resp = client.list_shards(StreamName=name, ExclusiveStartShardId="shardId-000000000002")
    assert [s["ShardId"] for s in resp["Shards"]] == ["shardId-000000000003", "shardId-000000000004"]
    # NextToken together with StreamName is refused, as by Kinesis
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.list_shards(StreamName=name, NextToken=client.list_shards(StreamName=name, MaxResults=1)["NextToken"])
    assert err_code(e) == "InvalidArgumentException"
    # ShardFilter
    resp = client.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})
    assert len(resp["Shards"]) == 5
    resp = client.list_shards(StreamName=name, ShardFilter={"Type": "AFTER_SHARD_ID",
                                                            "ShardId": "shardId-000000000003"})
    assert [s["ShardId"] for s in resp["Shards"]] == ["shardId-000000000004"]
    # a garbage token
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.list_shards(NextToken="not-a-token")
    assert err_code(e) in ("InvalidArgumentException", "ExpiredNextTokenException")


# ---------------------------------------------------------------- put / get

def test_put_record_round_trip(client):
    name = unique_name("b3-put")
    create_stream(client, name, shards=1)
    # the largest record: data + partition key = 1 MiB
    payloads = [b"hello", bytes(range(256)), b"\x00" * 10, "é€😀".encode(), b"x" * (1024 * 1024 - 3)]
    seqs = []
    for i, p in enumerate(payloads):
        r = client.put_record(StreamName=name, Data=p, PartitionKey=f"pk{i}")
        assert r["ShardId"] == "shardId-000000000000"
        assert r["SequenceNumber"].isdigit()
        seqs.append(int(r["SequenceNumber"]))
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "sequence numbers strictly increase"
    recs, last = read_shard(client, name, "shardId-000000000000")
    assert [r["Data"] for r in recs] == payloads
    assert [int(r["SequenceNumber"]) for r in recs] == seqs
    assert [r["PartitionKey"] for r in recs] == [f"pk{i}" for i in range(len(payloads))]
    now = datetime.datetime.now(datetime.timezone.utc)
    for r in recs:
        ts = r["ApproximateArrivalTimestamp"]
        assert abs((now - ts).total_seconds()) < 120, ts
    assert last["MillisBehindLatest"] == 0


def test_sequence_number_for_ordering(client):
    name = unique_name("b3-order")
    create_stream(client, name, shards=1)
    a = client.put_record(StreamName=name, Data=b"a", PartitionKey="k")["SequenceNumber"]
    b = client.put_record(StreamName=name, Data=b"b", PartitionKey="k", SequenceNumberForOrdering=a)["SequenceNumber"]
    assert int(b) > int(a)


def test_put_records_batch_routing(client):
    name = unique_name("b3-batch")
    create_stream(client, name, shards=4)
    shards = list_all_shards(client, name)
    entries = [{"Data": f"rec-{i}".encode(), "PartitionKey": f"key-{i}"} for i in range(500)]
    resp = client.put_records(StreamName=name, Records=entries)
    assert resp["FailedRecordCount"] == 0
    assert len(resp["Records"]) == 500
    by_shard = {}
    for i, r in enumerate(resp["Records"]):
        assert "ErrorCode" not in r, r
        # partition key → MD5 → the shard whose range holds it
        assert r["ShardId"] == harness.shard_for_hash(shards, harness.hash_key(f"key-{i}")), i
        by_shard.setdefault(r["ShardId"], []).append((int(r["SequenceNumber"]), f"rec-{i}".encode()))
    assert len(by_shard) == 4, "500 random keys land on all 4 shards"
    for sid, expected in by_shard.items():
        seqs = [s for s, _ in expected]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "in request order within a shard"
        recs, _ = read_shard(client, name, sid)
        assert [(int(r["SequenceNumber"]), r["Data"]) for r in recs] == expected


def test_explicit_hash_key(client):
    name = unique_name("b3-ehk")
    create_stream(client, name, shards=2)
    shards = list_all_shards(client, name)
    hi = shards[1]["HashKeyRange"]["StartingHashKey"]
    r = client.put_record(StreamName=name, Data=b"d", PartitionKey="same", ExplicitHashKey=hi)
    assert r["ShardId"] == shards[1]["ShardId"]
    r = client.put_record(StreamName=name, Data=b"d", PartitionKey="same", ExplicitHashKey="0")
    assert r["ShardId"] == shards[0]["ShardId"]
    resp = client.put_records(StreamName=name, Records=[
        {"Data": b"1", "PartitionKey": "same", "ExplicitHashKey": str(MAX_HASH)},
        {"Data": b"2", "PartitionKey": "same", "ExplicitHashKey": "0"}])
    assert [x["ShardId"] for x in resp["Records"]] == [shards[1]["ShardId"], shards[0]["ShardId"]]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_record(StreamName=name, Data=b"d", PartitionKey="k", ExplicitHashKey=str(MAX_HASH + 1))
    assert err_code(e) == "InvalidArgumentException"


def test_iterator_types(client):
    name = unique_name("b3-iter")
    create_stream(client, name, shards=1)
    sid = "shardId-000000000000"
    # LATEST before anything is written: sees only later records
    latest = client.get_shard_iterator(StreamName=name, ShardId=sid, ShardIteratorType="LATEST")["ShardIterator"]
    seqs = []
    for i in range(10):
        seqs.append(client.put_record(StreamName=name, Data=f"r{i}".encode(), PartitionKey="p")["SequenceNumber"])
    r = client.get_records(ShardIterator=latest)
    assert [x["Data"] for x in r["Records"]] == [f"r{i}".encode() for i in range(10)]
    # LATEST now: nothing until the next put
    latest2 = client.get_shard_iterator(StreamName=name, ShardId=sid, ShardIteratorType="LATEST")["ShardIterator"]
    r = client.get_records(ShardIterator=latest2)
    assert r["Records"] == []
    assert r["MillisBehindLatest"] == 0
    seqs.append(client.put_record(StreamName=name, Data=b"r10", PartitionKey="p")["SequenceNumber"])
    r = client.get_records(ShardIterator=r["NextShardIterator"])
    assert [x["Data"] for x in r["Records"]] == [b"r10"]
    # TRIM_HORIZON
    recs, _ = read_shard(client, name, sid, "TRIM_HORIZON")
    assert [x["SequenceNumber"] for x in recs] == seqs
    # AT_SEQUENCE_NUMBER / AFTER_SEQUENCE_NUMBER
    recs, _ = read_shard(client, name, sid, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[4])
    assert [x["SequenceNumber"] for x in recs] == seqs[4:]
    recs, _ = read_shard(client, name, sid, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[4])
    assert [x["SequenceNumber"] for x in recs] == seqs[5:]
    recs, _ = read_shard(client, name, sid, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[-1])
    assert recs == []
    # AT_TIMESTAMP: from the first record that arrived at or after the timestamp. botocore sends
    # whole seconds, so put a second batch after the wall clock has crossed a second boundary.
    boundary = int(time.time()) + 1
    while time.time() < boundary + 0.05:
        time.sleep(0.02)
    for i in range(11, 15):
        seqs.append(client.put_record(StreamName=name, Data=f"r{i}".encode(), PartitionKey="p")["SequenceNumber"])
    all_recs, _ = read_shard(client, name, sid)
    ts = [x["ApproximateArrivalTimestamp"].timestamp() for x in all_recs]
    assert ts == sorted(ts)
    assert all(t < boundary for t in ts[:11]) and all(t >= boundary for t in ts[11:]), (ts, boundary)
    t = datetime.datetime.fromtimestamp(boundary, datetime.timezone.utc)
    recs, _ = read_shard(client, name, sid, "AT_TIMESTAMP", Timestamp=t)
    assert [x["SequenceNumber"] for x in recs] == seqs[11:]
    recs, _ = read_shard(client, name, sid, "AT_TIMESTAMP", Timestamp=datetime.datetime(2000, 1, 1))
    assert [x["SequenceNumber"] for x in recs] == seqs
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    with pytest.raises(botocore.exceptions.ClientError) as e:  # as Kinesis: not after now
        client.get_shard_iterator(StreamName=name, ShardId=sid, ShardIteratorType="AT_TIMESTAMP", Timestamp=future)
    assert err_code(e) == "InvalidArgumentException"


def test_get_records_limit_and_chain(client):
    name = unique_name("b3-limit")
    create_stream(client, name, shards=1)
    client.put_records(StreamName=name, Records=[{"Data": f"{i}".encode(), "PartitionKey": "p"} for i in range(25)])
    it = client.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    got, calls = [], 0
    while True:
        r = client.get_records(ShardIterator=it, Limit=10)
        calls += 1
        assert len(r["Records"]) <= 10
        got += [x["Data"] for x in r["Records"]]
        it = r["NextShardIterator"]
        if not r["Records"]:
            break
    assert got == [f"{i}".encode() for i in range(25)]
    assert calls == 4
    # an iterator can be used twice (Kinesis iterators are not single-use)
    it = client.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    a = client.get_records(ShardIterator=it, Limit=3)
    b = client.get_records(ShardIterator=it, Limit=3)
    assert [x["SequenceNumber"] for x in a["Records"]] == [x["SequenceNumber"] for x in b["Records"]]
    assert a["MillisBehindLatest"] >= 0


# ---------------------------------------------------------------- resharding

def test_split_and_merge(client):
    name = unique_name("b3-reshard")
    create_stream(client, name, shards=1)
    parent = "shardId-000000000000"
    before = [client.put_record(StreamName=name, Data=f"b{i}".encode(), PartitionKey=f"k{i}")["SequenceNumber"]
              for i in range(20)]
    mid = str(2**127)
    client.split_shard(StreamName=name, ShardToSplit=parent, NewStartingHashKey=mid)
    harness.wait_active(client, name)
    shards = list_all_shards(client, name)
    assert len(shards) == 3
    p = next(s for s in shards if s["ShardId"] == parent)
    assert "EndingSequenceNumber" in p["SequenceNumberRange"], "split closes the parent"
    children = [s for s in shards if s.get("ParentShardId") == parent]
    assert len(children) == 2
    children.sort(key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
    assert children[0]["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(2**127 - 1)}
    assert children[1]["HashKeyRange"] == {"StartingHashKey": mid, "EndingHashKey": str(MAX_HASH)}
    check_covering(shards)
    # AT_LATEST lists only the open shards
    assert sorted(s["ShardId"] for s in client.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]) \
        == sorted(c["ShardId"] for c in children)
    # writes go to the children now
    after = []
    for i in range(40):
        r = client.put_record(StreamName=name, Data=f"a{i}".encode(), PartitionKey=f"k{i}")
        want = harness.shard_for_hash(shards, harness.hash_key(f"k{i}"))
        assert r["ShardId"] == want
        after.append(r)
    # the closed parent drains and then returns no NextShardIterator
    recs, last = read_shard(client, name, parent)
    assert [x["SequenceNumber"] for x in recs] == before
    assert last.get("NextShardIterator") is None
    assert int(p["SequenceNumberRange"]["EndingSequenceNumber"]) >= int(before[-1])
    # children hold exactly the later records
    child_data = []
    for c in children:
        recs, _ = read_shard(client, name, c["ShardId"])
        child_data += [x["Data"] for x in recs]
        assert all(int(x["SequenceNumber"]) > int(before[-1]) for x in recs)
    assert sorted(child_data) == sorted(f"a{i}".encode() for i in range(40))
    # merge the two children back
    client.merge_shards(StreamName=name, ShardToMerge=children[0]["ShardId"],
                        AdjacentShardToMerge=children[1]["ShardId"])
    harness.wait_active(client, name)
    shards = list_all_shards(client, name)
    assert len(shards) == 4
    merged = [s for s in shards if s.get("AdjacentParentShardId")]
    assert len(merged) == 1
    m = merged[0]
    assert {m["ParentShardId"], m["AdjacentParentShardId"]} == {c["ShardId"] for c in children}
    assert m["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(MAX_HASH)}
    assert [s["ShardId"] for s in open_shards(shards)] == [m["ShardId"]]
    r = client.put_record(StreamName=name, Data=b"m", PartitionKey="k")
    assert r["ShardId"] == m["ShardId"]
    # merging non-adjacent / closed shards is refused
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.merge_shards(StreamName=name, ShardToMerge=children[0]["ShardId"],
                            AdjacentShardToMerge=children[1]["ShardId"])
    assert err_code(e) in ("InvalidArgumentException", "ResourceNotFoundException", "ResourceInUseException")


def test_split_errors(client):
    name = unique_name("b3-spliterr")
    create_stream(client, name, shards=1)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey="0")
    assert err_code(e) == "InvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.split_shard(StreamName=name, ShardToSplit="shardId-000000000007", NewStartingHashKey="5")
    assert err_code(e) == "ResourceNotFoundException"


def test_update_shard_count(client):
    name = unique_name("b3-usc")
    create_stream(client, name, shards=2)
    r = client.update_shard_count(StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert r["CurrentShardCount"] == 2 and r["TargetShardCount"] == 4
    summ = harness.wait_active(client, name)
    assert summ["OpenShardCount"] == 4
    shards = list_all_shards(client, name)
    check_covering(shards)
    assert len(open_shards(shards)) == 4
    # every record still routes by hash to an open shard
    resp = client.put_records(StreamName=name, Records=[{"Data": b"x", "PartitionKey": f"u{i}"} for i in range(50)])
    for i, rec in enumerate(resp["Records"]):
        assert rec["ShardId"] == harness.shard_for_hash(shards, harness.hash_key(f"u{i}"))
    # as Kinesis: at most double, at least half the open shard count per call
    for target in (9, 1):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client.update_shard_count(StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING")
        assert err_code(e) in ("LimitExceededException", "InvalidArgumentException"), target
    r = client.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    summ = harness.wait_active(client, name)
    assert summ["OpenShardCount"] == 2
    check_covering(list_all_shards(client, name))


# ---------------------------------------------------------------- tags, retention, delete

def test_tags(client):
    name = unique_name("b3-tags")
    create_stream(client, name, shards=1)
    client.add_tags_to_stream(StreamName=name, Tags={"team": "data", "env": "test", "a": "1"})
    tags = client.list_tags_for_stream(StreamName=name)
    assert {t["Key"]: t["Value"] for t in tags["Tags"]} == {"team": "data", "env": "test", "a": "1"}
    assert tags["HasMoreTags"] is False
    page = client.list_tags_for_stream(StreamName=name, Limit=2)
    assert [t["Key"] for t in page["Tags"]] == ["a", "env"] and page["HasMoreTags"] is True
    page = client.list_tags_for_stream(StreamName=name, ExclusiveStartTagKey="env")
    assert [t["Key"] for t in page["Tags"]] == ["team"]
    client.add_tags_to_stream(StreamName=name, Tags={"env": "prod"})
    client.remove_tags_from_stream(StreamName=name, TagKeys=["team", "nonexistent"])
    tags = client.list_tags_for_stream(StreamName=name)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"env": "prod", "a": "1"}


def test_retention(client):
    name = unique_name("b3-ret")
    create_stream(client, name, shards=1)
    client.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    assert client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48
    client.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
    assert client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"] == 24
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=12)
    assert err_code(e) == "InvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=8761)
    assert err_code(e) in ("InvalidArgumentException", "ValidationException")
    client.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=72)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    assert err_code(e) == "InvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=96)
    assert err_code(e) == "InvalidArgumentException"


def test_delete(client):
    name = unique_name("b3-del")
    create_stream(client, name, shards=2)
    client.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    client.delete_stream(StreamName=name)
    wait_gone(client, name)
    assert name not in client.list_streams()["StreamNames"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    # the name can be used again, and the new stream starts empty
    create_stream(client, name, shards=1)
    recs, _ = read_shard(client, name, "shardId-000000000000")
    assert recs == []


# ---------------------------------------------------------------- errors

def test_errors_not_found(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_stream(StreamName="no-such-stream")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.put_record(StreamName="no-such-stream", Data=b"x", PartitionKey="k")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.put_records(StreamName="no-such-stream", Records=[{"Data": b"x", "PartitionKey": "k"}])
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_stream(StreamName="no-such-stream")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_shard_iterator(StreamName="no-such-stream", ShardId="shardId-000000000000",
                                  ShardIteratorType="TRIM_HORIZON")
    name = unique_name("b3-nf")
    create_stream(client, name, shards=1)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_shard_iterator(StreamName=name, ShardId="shardId-000000000009", ShardIteratorType="TRIM_HORIZON")


def test_errors_in_use(client):
    name = unique_name("b3-inuse")
    create_stream(client, name, shards=1)
    with pytest.raises(client.exceptions.ResourceInUseException):
        client.create_stream(StreamName=name, ShardCount=1)


@pytest.mark.parametrize("bad_name", ["has space", "slash/no", "x" * 129, "ümlaut"])
def test_errors_bad_stream_name(client, bad_name):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.create_stream(StreamName=bad_name, ShardCount=1)
    assert err_code(e) == "ValidationException"
    assert bad_name not in client.list_streams()["StreamNames"]


def test_errors_validation(client):
    name = unique_name("b3-val")
    create_stream(client, name, shards=1)
    sid = "shardId-000000000000"
    cases = [
        # partition key 1–256 chars
        lambda: client.put_record(StreamName=name, Data=b"x", PartitionKey="k" * 257),
        # data ≤ 10 MiB (the API's limit; the stream's 1 MiB default is checked after it)
        lambda: client.put_record(StreamName=name, Data=b"x" * (10 * 1024 * 1024 + 1), PartitionKey="k"),
        # ≤ 500 records per PutRecords
        lambda: client.put_records(StreamName=name, Records=[{"Data": b"x", "PartitionKey": "k"}] * 501),
        # GetRecords Limit ≤ 10000
        lambda: client.get_records(ShardIterator=client.get_shard_iterator(
            StreamName=name, ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"], Limit=10001),
        # shard count cap
        lambda: client.create_stream(StreamName=unique_name("b3-toomany"), ShardCount=100001),
    ]
    for i, call in enumerate(cases):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert err_code(e) in ("ValidationException", "LimitExceededException", "InvalidArgumentException"), i
        if i < 4:
            assert err_code(e) == "ValidationException", (i, e.value.response)
    # a record above the stream's MaxRecordSizeInKiB (1 MiB): InvalidArgumentException
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_record(StreamName=name, Data=b"x" * (1024 * 1024 + 1), PartitionKey="k")
    assert err_code(e) == "InvalidArgumentException"
    # PutRecords total > 5 MiB (each record within 1 MiB)
    with pytest.raises(botocore.exceptions.ClientError) as e:  # a record: data + key ≤ 1 MiB
        client.put_record(StreamName=name, Data=b"x" * (1024 * 1024 - 1), PartitionKey="kk")
    assert err_code(e) in ("InvalidArgumentException", "ValidationException")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_records(StreamName=name, Records=[{"Data": b"y" * (1024 * 1024 - 1), "PartitionKey": "k"}] * 5
                           + [{"Data": b"z" * (100 * 1024), "PartitionKey": "k"}])
    assert err_code(e) in ("InvalidArgumentException", "ValidationException")
    recs, _ = read_shard(client, name, sid)
    assert recs == [], "nothing of the refused requests was written"


def test_errors_iterators(client):
    name = unique_name("b3-iterr")
    create_stream(client, name, shards=1)
    sid = "shardId-000000000000"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_shard_iterator(StreamName=name, ShardId=sid, ShardIteratorType="AT_SEQUENCE_NUMBER")
    assert err_code(e) == "InvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_shard_iterator(StreamName=name, ShardId=sid, ShardIteratorType="AT_TIMESTAMP")
    assert err_code(e) == "InvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_shard_iterator(StreamName=name, ShardId=sid, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                  StartingSequenceNumber="notanumber")
    assert err_code(e) in ("InvalidArgumentException", "ValidationException")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_shard_iterator(StreamName=name, ShardId=sid, ShardIteratorType="SIDEWAYS")
    assert err_code(e) == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_records(ShardIterator="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert err_code(e) == "InvalidArgumentException"


def test_iterator_cannot_read_another_stream(client):
    """A shard iterator is opaque; editing it must not give access to another stream."""
    a, b = unique_name("b3-ita"), unique_name("b3-itb")
    create_stream(client, a, shards=1)
    create_stream(client, b, shards=1)
    client.put_record(StreamName=b, Data=b"secret", PartitionKey="k")
    it = client.get_shard_iterator(StreamName=a, ShardId="shardId-000000000000",
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    import base64
    try:
        raw = base64.b64decode(it + "=" * (-len(it) % 4))
    except Exception:
        raw = b""
    if a.encode() in raw:
        forged = base64.b64encode(raw.replace(a.encode(), b.encode())).decode()
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client.get_records(ShardIterator=forged)
        assert err_code(e) == "InvalidArgumentException"
    # flipping any byte of the iterator never yields b's data
    for pos in range(0, len(it), max(1, len(it) // 16)):
        ch = "A" if it[pos] != "A" else "B"
        forged = it[:pos] + ch + it[pos + 1:]
        try:
            r = client.get_records(ShardIterator=forged)
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] in ("InvalidArgumentException", "ExpiredIteratorException",
                                                   "ResourceNotFoundException")
            continue
        assert all(x["Data"] != b"secret" for x in r["Records"])


@pytest.mark.skip(reason="ExpiredIteratorException needs a 5-minute wait; the unit tests cover it with a test clock")
def test_expired_iterator():
    pass


@pytest.mark.skip(reason="boto3 cannot be made to send CBOR; test_raw_http covers CBOR with hand-built bodies")
def test_cbor():
    pass


# ---------------------------------------------------------------- auth

@pytest.mark.streamlake_only
def test_auth_wrong_secret(server, client):
    name = unique_name("b3-auth")
    create_stream(client, name, shards=1)
    ak, _ = server.credentials()
    bad = server.client(access_key=ak, secret_key="wrong" + "x" * 35)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.put_record(StreamName=name, Data=b"forged", PartitionKey="k")
    assert err_code(e) == "InvalidSignatureException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.create_stream(StreamName=name + "-x", ShardCount=1)
    assert err_code(e) == "InvalidSignatureException"
    unknown = server.client(access_key="AKIAUNKNOWNKEY000000", secret_key="whatever")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        unknown.put_records(StreamName=name, Records=[{"Data": b"forged", "PartitionKey": "k"}])
    assert err_code(e) == "UnrecognizedClientException"
    recs, _ = read_shard(client, name, "shardId-000000000000")
    assert recs == []
    assert name + "-x" not in client.list_streams()["StreamNames"]


def test_auth_missing(server, client):
    name = unique_name("b3-noauth")
    create_stream(client, name, shards=1)
    anon = server.unsigned_client()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anon.put_record(StreamName=name, Data=b"anon", PartitionKey="k")
    assert err_code(e) == "MissingAuthenticationTokenException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anon.list_streams()
    assert err_code(e) == "MissingAuthenticationTokenException"
    recs, _ = read_shard(client, name, "shardId-000000000000")
    assert recs == []
