"""Stream and account settings, tags and resource policies by ARN, over signed raw JSON
requests (Debian's boto3 predates several of these operations): StartStreamEncryption /
StopStreamEncryption, Enable/DisableEnhancedMonitoring, UpdateStreamMode,
UpdateMaxRecordSize (enforced by PutRecord), UpdateStreamWarmThroughput, DescribeLimits,
Describe/UpdateAccountSettings, TagResource / UntagResource / ListTagsForResource (streams
and consumers), Put/Get/DeleteResourcePolicy — with their errors, and every setting read
back after a restart."""
import base64
import json
import time

import pytest

import harness
from harness import error_message, error_type, raw_request, unique_name

pytestmark = pytest.mark.streamlake_only
REGION_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/"


def call(server, op, body, ok=True):
    status, _, resp = raw_request(server, op, json.dumps(body).encode())
    if ok:
        assert status == 200, (op, resp)
        return json.loads(resp) if resp else {}
    return status, resp


def err(server, op, body):
    status, resp = call(server, op, body, ok=False)
    assert status == 400, resp
    return error_type(resp), error_message(resp)


def wait_active(server, name):
    for _ in range(200):
        d = call(server, "DescribeStreamSummary", {"StreamName": name})["StreamDescriptionSummary"]
        if d["StreamStatus"] == "ACTIVE":
            return d
        time.sleep(0.05)
    raise AssertionError(f"{name} not ACTIVE")


def make_stream(server, shards=1, mode=None):
    name = unique_name("set")
    body = {"StreamName": name}
    if mode:
        body["StreamModeDetails"] = {"StreamMode": mode}
    else:
        body["ShardCount"] = shards
    call(server, "CreateStream", body)
    wait_active(server, name)
    return name, REGION_ARN + name


def make_consumer(server, sarn, cname="c1"):
    c = call(server, "RegisterStreamConsumer", {"StreamARN": sarn, "ConsumerName": cname})["Consumer"]
    for _ in range(200):
        d = call(server, "DescribeStreamConsumer", {"ConsumerARN": c["ConsumerARN"]})["ConsumerDescription"]
        if d["ConsumerStatus"] == "ACTIVE":
            return c["ConsumerARN"]
        time.sleep(0.05)
    raise AssertionError("consumer not ACTIVE")


def test_encryption(server):
    name, sarn = make_stream(server)
    d = call(server, "DescribeStream", {"StreamName": name})["StreamDescription"]
    assert d["EncryptionType"] == "NONE" and "KeyId" not in d
    call(server, "StartStreamEncryption", {"StreamName": name, "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"})
    d = call(server, "DescribeStreamSummary", {"StreamName": name})["StreamDescriptionSummary"]
    assert d["StreamStatus"] == "UPDATING" and d["EncryptionType"] == "KMS" and d["KeyId"] == "alias/aws/kinesis"
    wait_active(server, name)
    assert err(server, "StopStreamEncryption", {"StreamName": name, "EncryptionType": "KMS", "KeyId": "other"})[0] == \
        "InvalidArgumentException"
    assert err(server, "StartStreamEncryption", {"StreamName": name, "EncryptionType": "NONE", "KeyId": "k"})[0] == \
        "InvalidArgumentException"
    t, m = err(server, "StartStreamEncryption", {"StreamName": name, "EncryptionType": "AES"})
    assert t == "ValidationException" and m == (
        "2 validation errors detected: Value 'AES' at 'encryptionType' failed to satisfy constraint: Member must "
        "satisfy enum value set: [NONE, KMS]; Value null at 'keyId' failed to satisfy constraint: Member must not be null")
    call(server, "StopStreamEncryption", {"StreamARN": sarn, "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"})
    wait_active(server, name)
    assert call(server, "DescribeStream", {"StreamName": name})["StreamDescription"]["EncryptionType"] == "NONE"
    assert err(server, "StartStreamEncryption", {"StreamName": "nope", "EncryptionType": "KMS", "KeyId": "k"})[0] == \
        "ResourceNotFoundException"


def test_enhanced_monitoring(server):
    name, _ = make_stream(server)
    r = call(server, "EnableEnhancedMonitoring", {"StreamName": name, "ShardLevelMetrics": ["IncomingBytes", "OutgoingRecords"]})
    assert r["CurrentShardLevelMetrics"] == [] and r["DesiredShardLevelMetrics"] == ["IncomingBytes", "OutgoingRecords"]
    r = call(server, "EnableEnhancedMonitoring", {"StreamName": name, "ShardLevelMetrics": ["ALL"]})
    assert len(r["DesiredShardLevelMetrics"]) == 7
    r = call(server, "DisableEnhancedMonitoring", {"StreamName": name, "ShardLevelMetrics": ["IncomingBytes"]})
    assert "IncomingBytes" not in r["DesiredShardLevelMetrics"] and len(r["DesiredShardLevelMetrics"]) == 6
    d = call(server, "DescribeStream", {"StreamName": name})["StreamDescription"]
    assert d["EnhancedMonitoring"] == [{"ShardLevelMetrics": r["DesiredShardLevelMetrics"]}]
    t, m = err(server, "EnableEnhancedMonitoring", {"StreamName": name, "ShardLevelMetrics": []})
    assert t == "ValidationException" and "Member must have length greater than or equal to 1" in m
    t, m = err(server, "EnableEnhancedMonitoring", {"StreamName": name, "ShardLevelMetrics": ["Bogus"]})
    assert t == "ValidationException" and "Member must satisfy constraint: [Member must satisfy enum value set:" in m


def test_mode_record_size_warm_throughput_limits(server):
    name, sarn = make_stream(server, shards=2)
    lim = call(server, "DescribeLimits", {})
    assert lim["ShardLimit"] == 500 and lim["OpenShardCount"] >= 2 and lim["OnDemandStreamCountLimit"] == 50
    od = lim["OnDemandStreamCount"]
    call(server, "UpdateStreamMode", {"StreamARN": sarn, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}})
    assert err(server, "UpdateStreamMode", {"StreamARN": sarn, "StreamModeDetails": {"StreamMode": "PROVISIONED"}})[0] == \
        "ResourceInUseException"  # UPDATING
    d = wait_active(server, name)
    assert d["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert call(server, "DescribeLimits", {})["OnDemandStreamCount"] == od + 1
    r = call(server, "UpdateStreamWarmThroughput", {"StreamName": name, "WarmThroughputMiBps": 100})
    assert r["WarmThroughput"] == {"TargetMiBps": 100, "CurrentMiBps": 100} and r["StreamARN"] == sarn
    # max record size: 1 MiB by default, raised to 2 MiB
    big = base64.b64encode(b"x" * (1024 * 1024 + 10)).decode()
    t, m = err(server, "PutRecord", {"StreamName": name, "PartitionKey": "k", "Data": big})
    assert t == "InvalidArgumentException" and "exceeds the limit of 1048576 bytes" in m
    call(server, "UpdateMaxRecordSize", {"StreamARN": sarn, "MaxRecordSizeInKiB": 2048})
    assert call(server, "DescribeStreamSummary", {"StreamName": name})["StreamDescriptionSummary"]["MaxRecordSizeInKiB"] == 2048
    call(server, "PutRecord", {"StreamName": name, "PartitionKey": "k", "Data": big})
    t, m = err(server, "UpdateMaxRecordSize", {"StreamARN": sarn, "MaxRecordSizeInKiB": 100})
    assert t == "ValidationException" and m == ("1 validation error detected: Value '100' at 'maxRecordSizeInKiB' failed "
                                                 "to satisfy constraint: Member must have value greater than or equal to 1024")
    # back to PROVISIONED: warm throughput refused
    call(server, "UpdateStreamMode", {"StreamARN": sarn, "StreamModeDetails": {"StreamMode": "PROVISIONED"}})
    wait_active(server, name)
    assert err(server, "UpdateStreamWarmThroughput", {"StreamName": name, "WarmThroughputMiBps": 1})[0] == \
        "InvalidArgumentException"


def test_tags_by_arn(server):
    name, sarn = make_stream(server)
    carn = make_consumer(server, sarn)
    call(server, "TagResource", {"ResourceARN": sarn, "Tags": {"team": "a", "env": "dev"}})
    call(server, "TagResource", {"ResourceARN": carn, "Tags": {"owner": "me"}})
    assert call(server, "ListTagsForResource", {"ResourceARN": sarn})["Tags"] == [
        {"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}]
    # stream tags are the same tags as AddTagsToStream's
    assert call(server, "ListTagsForStream", {"StreamName": name})["Tags"] == [
        {"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}]
    assert call(server, "ListTagsForResource", {"ResourceARN": carn})["Tags"] == [{"Key": "owner", "Value": "me"}]
    call(server, "UntagResource", {"ResourceARN": sarn, "TagKeys": ["env"]})
    assert call(server, "ListTagsForResource", {"ResourceARN": sarn})["Tags"] == [{"Key": "team", "Value": "a"}]
    t, _ = err(server, "TagResource", {"ResourceARN": sarn, "Tags": {f"k{i}": "v" for i in range(50)}})
    assert t == "LimitExceededException"
    assert err(server, "ListTagsForResource", {"ResourceARN": REGION_ARN + "nope"})[0] == "ResourceNotFoundException"
    assert err(server, "ListTagsForResource", {"ResourceARN": sarn + "/consumer/nobody:1"})[0] == "ResourceNotFoundException"
    t, m = err(server, "TagResource", {"ResourceARN": "arn:aws:s3:::bucket", "Tags": {"a": "b"}})
    assert t == "ValidationException" and "at 'resourceARN' failed to satisfy constraint: Member must satisfy regular " \
        "expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+" in m


def test_resource_policies(server):
    name, sarn = make_stream(server)
    carn = make_consumer(server, sarn)
    assert call(server, "GetResourcePolicy", {"ResourceARN": sarn}) == {"Policy": "{}"}
    pol = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                               "Action": "kinesis:GetRecords", "Resource": sarn}]})
    call(server, "PutResourcePolicy", {"ResourceARN": sarn, "Policy": pol})
    call(server, "PutResourcePolicy", {"ResourceARN": carn, "Policy": pol})
    assert call(server, "GetResourcePolicy", {"ResourceARN": sarn}) == {"Policy": pol}
    assert call(server, "GetResourcePolicy", {"ResourceARN": carn}) == {"Policy": pol}
    assert err(server, "PutResourcePolicy", {"ResourceARN": sarn, "Policy": "{not json"})[0] == "InvalidArgumentException"
    assert err(server, "PutResourcePolicy", {"ResourceARN": sarn, "Policy": "[]"})[0] == "InvalidArgumentException"
    call(server, "DeleteResourcePolicy", {"ResourceARN": sarn})
    assert call(server, "GetResourcePolicy", {"ResourceARN": sarn}) == {"Policy": "{}"}
    assert err(server, "DeleteResourcePolicy", {"ResourceARN": sarn})[0] == "ResourceNotFoundException"
    assert err(server, "GetResourcePolicy", {"ResourceARN": REGION_ARN + "nope"})[0] == "ResourceNotFoundException"


def test_account_settings(server):
    r = call(server, "DescribeAccountSettings", {})
    assert r["MinimumThroughputBillingCommitment"]["Status"] in ("DISABLED", "ENABLED")
    r = call(server, "UpdateAccountSettings", {"MinimumThroughputBillingCommitment": {"Status": "ENABLED"}})
    assert r["MinimumThroughputBillingCommitment"]["Status"] == "ENABLED"
    assert isinstance(r["MinimumThroughputBillingCommitment"]["StartedAt"], (int, float))
    t, m = err(server, "UpdateAccountSettings", {"MinimumThroughputBillingCommitment": {"Status": "MAYBE"}})
    assert t == "ValidationException" and "Member must satisfy enum value set: [ENABLED, DISABLED]" in m
    assert err(server, "UpdateAccountSettings", {})[0] == "ValidationException"


def test_everything_survives_restart():
    s = harness.Server(keep_dir=True)
    try:
        s.start()
        name, sarn = make_stream(s)
        carn = make_consumer(s, sarn)
        call(s, "StartStreamEncryption", {"StreamName": name, "EncryptionType": "KMS", "KeyId": "key-1"})
        wait_active(s, name)
        call(s, "EnableEnhancedMonitoring", {"StreamName": name, "ShardLevelMetrics": ["IncomingRecords"]})
        call(s, "UpdateMaxRecordSize", {"StreamARN": sarn, "MaxRecordSizeInKiB": 4096})
        call(s, "UpdateStreamMode", {"StreamARN": sarn, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}})
        wait_active(s, name)
        call(s, "UpdateStreamWarmThroughput", {"StreamName": name, "WarmThroughputMiBps": 50})
        call(s, "TagResource", {"ResourceARN": sarn, "Tags": {"a": "1"}})
        call(s, "TagResource", {"ResourceARN": carn, "Tags": {"b": "2"}})
        pol = json.dumps({"Statement": []})
        call(s, "PutResourcePolicy", {"ResourceARN": carn, "Policy": pol})
        call(s, "UpdateAccountSettings", {"MinimumThroughputBillingCommitment": {"Status": "ENABLED"}})
        before = call(s, "DescribeStreamSummary", {"StreamName": name})["StreamDescriptionSummary"]
        account = call(s, "DescribeAccountSettings", {})
        assert s.stop() == 0
        s.start()
        after = call(s, "DescribeStreamSummary", {"StreamName": name})["StreamDescriptionSummary"]
        assert after == before
        assert after["EncryptionType"] == "KMS" and after["KeyId"] == "key-1"
        assert after["EnhancedMonitoring"] == [{"ShardLevelMetrics": ["IncomingRecords"]}]
        assert after["MaxRecordSizeInKiB"] == 4096 and after["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"
        assert after["WarmThroughput"]["TargetMiBps"] == 50 and after["ConsumerCount"] == 1
        assert call(s, "ListTagsForResource", {"ResourceARN": sarn})["Tags"] == [{"Key": "a", "Value": "1"}]
        assert call(s, "ListTagsForResource", {"ResourceARN": carn})["Tags"] == [{"Key": "b", "Value": "2"}]
        assert call(s, "GetResourcePolicy", {"ResourceARN": carn}) == {"Policy": pol}
        assert call(s, "DescribeAccountSettings", {}) == account
    finally:
        s.stop()
        s.cleanup()
