"""Table-driven: AWS's validation answers for every operation's members, written from the
Kinesis API reference (types, required members, lengths, ranges, patterns, enums) and the
order AWS reports them in. Each row is one signed raw request and the exact answer:
SerializationException for a member of the wrong JSON type, one ValidationException
listing every violated constraint ("N validation error(s) detected: ...; ..."), then the
semantic errors (ResourceNotFound, InvalidArgument) only once the request is well-formed."""
import json

import pytest

import harness
from harness import error_message, error_type, raw_request

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/"
CONSUMER_ARN = ARN + "s/consumer/c:1700000000"
NAME_RE = "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
ARN_RE = "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"
NULL = "Member must not be null"


def v(value, path, constraint):
    value = "null" if value is None else f"'{value}'"
    return f"Value {value} at '{path}' failed to satisfy constraint: {constraint}"


def errs(*items):
    n = len(items)
    return f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(items)


LONG = "a" * 129
# (operation, body, expected __type, expected message or None to check only the type)
CASES = [
    # --- type errors: SerializationException, before any constraint
    ("CreateStream", {"StreamName": "x", "ShardCount": "one"}, "SerializationException",
     "class java.lang.String can not be converted to an Integer"),
    ("CreateStream", {"StreamName": 5, "ShardCount": 1}, "SerializationException",
     "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"),
    ("CreateStream", {"StreamName": True}, "SerializationException",
     "class java.lang.Boolean can not be converted to an String"),
    ("CreateStream", {"StreamName": ["a"]}, "SerializationException", "Start of list found where not expected"),
    ("CreateStream", {"StreamName": {"a": 1}}, "SerializationException",
     "Start of structure or map found where not expected."),
    # a type error wins over an invalid member reported before it
    ("CreateStream", {"StreamName": "bad name!", "ShardCount": "1"}, "SerializationException",
     "class java.lang.String can not be converted to an Integer"),
    ("CreateStream", {"StreamName": "x", "Tags": ["a"]}, "SerializationException", "Start of list found where not expected"),
    ("CreateStream", {"StreamName": "x", "Tags": "a"}, "SerializationException", "Expected map or null"),
    ("CreateStream", {"StreamName": "x", "StreamModeDetails": "ON_DEMAND"}, "SerializationException", "Expected null"),
    ("DeleteStream", {"StreamName": "x", "EnforceConsumerDeletion": 1}, "SerializationException",
     "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean"),
    ("DeleteStream", {"StreamName": "x", "EnforceConsumerDeletion": "yes"}, "SerializationException",
     "'YES' can not be converted to an Boolean"),
    ("RemoveTagsFromStream", {"StreamName": "x", "TagKeys": "a"}, "SerializationException", "Expected list or null"),
    ("PutRecord", {"StreamName": "x", "PartitionKey": "k", "Data": "abc"}, "SerializationException",
     "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
    ("PutRecord", {"StreamName": "x", "PartitionKey": "k", "Data": "ab?d"}, "SerializationException",
     "'ab?d' can not be converted to a Blob: Invalid Base64 character: '?'"),
    ("PutRecord", {"StreamName": "x", "PartitionKey": "k", "Data": True}, "SerializationException",
     "class java.lang.Boolean can not be converted to a Blob"),
    ("GetShardIterator", {"StreamName": "x", "ShardId": "0", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": True},
     "SerializationException", "class java.lang.Boolean can not be converted to milliseconds since epoch"),
    ("GetRecords", {"ShardIterator": "x", "Limit": False}, "SerializationException",
     "class java.lang.Boolean can not be converted to an Integer"),
    # --- constraints: every violation, AWS's order and wording
    ("CreateStream", {"StreamName": "bad name!", "ShardCount": 0}, "ValidationException",
     errs(v(0, "shardCount", "Member must have value greater than or equal to 1"), v("bad name!", "streamName", NAME_RE))),
    ("CreateStream", {"ShardCount": 1}, "ValidationException", errs(v(None, "streamName", NULL))),
    ("CreateStream", {"StreamName": LONG, "ShardCount": 1}, "ValidationException",
     errs(v(LONG, "streamName", "Member must have length less than or equal to 128"))),
    ("CreateStream", {"StreamName": "", "ShardCount": 1}, "ValidationException",
     errs(v("", "streamName", NAME_RE), v("", "streamName", "Member must have length greater than or equal to 1"))),
    ("CreateStream", {"StreamName": "x", "ShardCount": 1, "StreamModeDetails": {"StreamMode": "FAST"}},
     "ValidationException",
     errs(v("FAST", "streamModeDetails.streamMode", "Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]"))),
    ("CreateStream", {"StreamName": "x", "ShardCount": 1, "StreamModeDetails": {}}, "ValidationException",
     errs(v(None, "streamModeDetails.streamMode", NULL))),
    ("CreateStream", {"StreamName": "x", "ShardCount": 1, "Tags": {}}, "ValidationException",
     errs(v("{}", "tags", "Member must have length greater than or equal to 1"))),
    ("CreateStream", {"StreamName": "x", "ShardCount": 1, "MaxRecordSizeInKiB": 10},
     "ValidationException", errs(v(10, "maxRecordSizeInKiB", "Member must have value greater than or equal to 1024"))),
    ("AddTagsToStream", {"StreamName": "x", "Tags": {"": "v"}}, "ValidationException",
     errs(v("{=v}", "tags", "Map keys must satisfy constraint: [Member must have length greater than or equal to 1]"))),
    ("AddTagsToStream", {"StreamName": "x"}, "ValidationException", errs(v(None, "tags", NULL))),
    ("DecreaseStreamRetentionPeriod", {"StreamName": "x", "RetentionPeriodHours": 0}, "ValidationException",
     errs(v(0, "retentionPeriodHours", "Member must have value greater than or equal to 1"))),
    ("IncreaseStreamRetentionPeriod", {"StreamName": "x"}, "ValidationException",
     errs(v(None, "retentionPeriodHours", NULL))),
    ("DescribeStream", {"StreamName": "x", "Limit": 0, "ExclusiveStartShardId": "bad id"}, "ValidationException",
     errs(v(0, "limit", "Member must have value greater than or equal to 1"),
          v("bad id", "exclusiveStartShardId", NAME_RE))),
    ("DescribeStream", {"StreamARN": "arn:bad"}, "ValidationException", errs(v("arn:bad", "streamARN", ARN_RE))),
    ("DescribeStreamSummary", {"StreamName": "a/b"}, "ValidationException", errs(v("a/b", "streamName", NAME_RE))),
    ("GetRecords", {"Limit": 10001}, "ValidationException",
     errs(v(10001, "limit", "Member must have value less than or equal to 10000"), v(None, "shardIterator", NULL))),
    ("GetShardIterator", {"StreamName": "x", "ShardId": "0", "ShardIteratorType": "OLDEST",
                          "StartingSequenceNumber": "01"}, "ValidationException",
     errs(v("OLDEST", "shardIteratorType", "Member must satisfy enum value set: "
            "[AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"),
          v("01", "startingSequenceNumber", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})"))),
    ("GetShardIterator", {"StreamName": "x"}, "ValidationException",
     errs(v(None, "shardId", NULL), v(None, "shardIteratorType", NULL))),
    ("ListShards", {"StreamName": "x", "MaxResults": 0, "NextToken": ""}, "ValidationException",
     errs(v(0, "maxResults", "Member must have value greater than or equal to 1"),
          v("", "nextToken", "Member must have length greater than or equal to 1"))),
    ("ListShards", {"StreamName": "x", "ShardFilter": {"Type": "NEWEST"}}, "ValidationException",
     errs(v("NEWEST", "shardFilter.type", "Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, "
            "FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]"))),
    ("ListStreams", {"Limit": 0, "ExclusiveStartStreamName": "a b"}, "ValidationException",
     errs(v(0, "limit", "Member must have value greater than or equal to 1"),
          v("a b", "exclusiveStartStreamName", NAME_RE))),
    ("ListTagsForStream", {"StreamName": "x", "Limit": 51}, "ValidationException",
     errs(v(51, "limit", "Member must have value less than or equal to 50"))),
    ("MergeShards", {"StreamName": "x"}, "ValidationException",
     errs(v(None, "shardToMerge", NULL), v(None, "adjacentShardToMerge", NULL))),
    ("PutRecord", {"StreamName": "x", "PartitionKey": "", "SequenceNumberForOrdering": "x"}, "ValidationException",
     errs(v("x", "sequenceNumberForOrdering", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})"),
          v("", "partitionKey", "Member must have length greater than or equal to 1"),
          v(None, "data", NULL))),
    ("PutRecord", {"StreamName": "x", "PartitionKey": "k", "Data": "", "ExplicitHashKey": "-1"}, "ValidationException",
     errs(v("-1", "explicitHashKey", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"))),
    ("RemoveTagsFromStream", {"StreamName": "x", "TagKeys": []}, "ValidationException",
     errs(v("[]", "tagKeys", "Member must have length greater than or equal to 1"))),
    ("RemoveTagsFromStream", {"StreamName": "x", "TagKeys": ["a", ""]}, "ValidationException",
     errs(v("[a, ]", "tagKeys", "Member must satisfy constraint: [Member must have length greater than or equal to 1]"))),
    ("SplitShard", {"StreamName": "x", "ShardToSplit": "0", "NewStartingHashKey": "x"}, "ValidationException",
     errs(v("x", "newStartingHashKey", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"))),
    ("UpdateShardCount", {"StreamName": "x", "TargetShardCount": 0, "ScalingType": "FAST"}, "ValidationException",
     errs(v(0, "targetShardCount", "Member must have value greater than or equal to 1"),
          v("FAST", "scalingType", "Member must satisfy enum value set: [UNIFORM_SCALING]"))),
    ("RegisterStreamConsumer", {}, "ValidationException",
     errs(v(None, "streamARN", NULL), v(None, "consumerName", NULL))),
    ("RegisterStreamConsumer", {"StreamARN": ARN + "s", "ConsumerName": "a b"}, "ValidationException",
     errs(v("a b", "consumerName", NAME_RE))),
    ("DescribeStreamConsumer", {"ConsumerARN": "x"}, "ValidationException",
     errs(v("x", "consumerARN", "Member must satisfy regular expression pattern: "
            "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+"))),
    ("ListStreamConsumers", {"StreamARN": ARN + "s", "MaxResults": 0}, "ValidationException",
     errs(v(0, "maxResults", "Member must have value greater than or equal to 1"))),
    ("ListStreamConsumers", {"MaxResults": "1"}, "SerializationException",
     "class java.lang.String can not be converted to an Integer"),
    ("DeregisterStreamConsumer", {"StreamARN": ARN + "nope", "ConsumerName": "c"}, "ResourceNotFoundException",
     "Stream nope under account 000000000000 not found."),
    ("DescribeStreamConsumer", {"ConsumerARN": CONSUMER_ARN}, "ResourceNotFoundException",
     "Consumer c with creation timestamp 1700000000 under stream s and account 000000000000 not found."),
    ("DescribeStreamConsumer", {"ConsumerName": "c"}, "InvalidArgumentException",
     "Either ConsumerARN or both ConsumerName and StreamARN must be provided."),
    ("SubscribeToShard", {}, "ValidationException",
     errs(v(None, "consumerARN", NULL), v(None, "shardId", NULL), v(None, "startingPosition", NULL))),
    ("SubscribeToShard", {"ConsumerARN": CONSUMER_ARN, "ShardId": "0", "StartingPosition": {"Type": "NEWEST"}},
     "ValidationException",
     errs(v("NEWEST", "startingPosition.type", "Member must satisfy enum value set: "
            "[AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"))),
    ("SubscribeToShard", {"ConsumerARN": CONSUMER_ARN, "ShardId": "0", "StartingPosition": {}},
     "ValidationException", errs(v(None, "startingPosition.type", NULL))),
    ("SubscribeToShard", {"ConsumerARN": CONSUMER_ARN, "ShardId": "0", "StartingPosition": "LATEST"},
     "SerializationException", "Expected null"),
    ("StopStreamEncryption", {"StreamName": "x", "KeyId": ""}, "ValidationException",
     errs(v(None, "encryptionType", NULL), v("", "keyId", "Member must have length greater than or equal to 1"))),
    ("EnableEnhancedMonitoring", {"StreamName": "x"}, "ValidationException", errs(v(None, "shardLevelMetrics", NULL))),
    ("DisableEnhancedMonitoring", {"StreamName": "x", "ShardLevelMetrics": ["a", "b", "c", "d", "e", "f", "g", "h"]},
     "ValidationException",
     errs(v("[a, b, c, d, e, f, g, h]", "shardLevelMetrics", "Member must have length less than or equal to 7"),
          v("[a, b, c, d, e, f, g, h]", "shardLevelMetrics", "Member must satisfy constraint: [Member must satisfy "
            "enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, "
            "WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]"))),
    ("UpdateStreamMode", {"StreamARN": ARN + "s", "WarmThroughputMiBps": -1}, "ValidationException",
     errs(v(None, "streamModeDetails", NULL),
          v(-1, "warmThroughputMiBps", "Member must have value greater than or equal to 0"))),
    ("UpdateMaxRecordSize", {"StreamARN": ARN + "s", "MaxRecordSizeInKiB": 20000}, "ValidationException",
     errs(v(20000, "maxRecordSizeInKiB", "Member must have value less than or equal to 10240"))),
    ("UpdateStreamWarmThroughput", {"StreamName": "x"}, "ValidationException",
     errs(v(None, "warmThroughputMiBps", NULL))),
    ("UpdateAccountSettings", {"MinimumThroughputBillingCommitment": {}}, "ValidationException",
     errs(v(None, "minimumThroughputBillingCommitment.status", NULL))),
    ("TagResource", {"ResourceARN": ARN + "s", "Tags": {"k": "v" * 257}}, "ValidationException",
     errs(v("{k=" + "v" * 257 + "}", "tags",
            "Map value must satisfy constraint: [Member must have length less than or equal to 256]"))),
    ("TagResource", {"Tags": {"k": "v"}}, "ValidationException", errs(v(None, "resourceARN", NULL))),
    ("UntagResource", {"ResourceARN": ARN + "s", "TagKeys": []}, "ValidationException",
     errs(v("[]", "tagKeys", "Member must have length greater than or equal to 1"))),
    ("ListTagsForResource", {"ResourceARN": "arn:aws:sqs:us-east-1:000000000000:q"}, "ValidationException",
     errs(v("arn:aws:sqs:us-east-1:000000000000:q", "resourceARN",
            "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+"))),
    ("PutResourcePolicy", {"ResourceARN": ARN + "s"}, "ValidationException", errs(v(None, "policy", NULL))),
    ("PutResourcePolicy", {"ResourceARN": ARN + "s", "Policy": {"Statement": []}}, "SerializationException",
     "Start of structure or map found where not expected."),
    ("GetResourcePolicy", {}, "ValidationException", errs(v(None, "resourceARN", NULL))),
    ("DeleteResourcePolicy", {"ResourceARN": ARN + "nope"}, "ResourceNotFoundException",
     "Stream nope under account 000000000000 not found."),
    ("DescribeLimits", {"Anything": 1}, None, None),
    ("DescribeAccountSettings", {}, None, None),
    ("ListStreams", {"Limit": 1e300}, "ValidationException",
     errs(v(2147483647, "limit", "Member must have value less than or equal to 10000"))),
    ("ListStreams", {"Limit": 18446744073709551615}, "ValidationException",
     errs(v(2147483647, "limit", "Member must have value less than or equal to 10000"))),
    ("ListStreams", {"Limit": -1e300}, "ValidationException",
     errs(v(-2147483648, "limit", "Member must have value greater than or equal to 1"))),
    # --- well-formed: the semantic checks follow
    ("DescribeStream", {}, "InvalidArgumentException", "Either StreamName or StreamARN should be provided."),
    ("DescribeStreamSummary", {"StreamName": "nope"}, "ResourceNotFoundException",
     "Stream nope under account 000000000000 not found."),
    ("DescribeStream", {"StreamARN": ARN + "nope"}, "ResourceNotFoundException",
     "Stream nope under account 000000000000 not found."),
]


def ids(case):
    return f"{case[0]}-{CASES.index(case)}"


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_validation(server, case):
    op, body, want_type, want_msg = case
    status, _, resp = raw_request(server, op, json.dumps(body).encode())
    if want_type is None:  # no members: anything passes (unknown members are ignored, as AWS)
        assert status == 200, resp
        return
    assert status == 400, resp
    assert error_type(resp) == want_type, resp
    if want_msg is not None:
        assert error_message(resp) == want_msg, resp


@pytest.mark.streamlake_only
def test_not_operations(server):
    """Requests that are not operations, answered as AWS does before authentication."""
    import http.client

    def send(method, headers, body=b"", path="/"):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    j = "application/x-amz-json-1.1"
    # unknown target, known content type: 400 {"__type": "UnknownOperationException"}
    st, h, b = send("POST", {"Content-Type": j, "X-Amz-Target": "Kinesis_20131202.Frobnicate"}, b"{}")
    assert (st, json.loads(b)) == (400, {"__type": "UnknownOperationException"}), b
    st, h, b = send("POST", {"Content-Type": j, "X-Amz-Target": "DynamoDB_20120810.ListTables"}, b"{}")
    assert (st, json.loads(b)) == (400, {"__type": "UnknownOperationException"}), b
    # no target at all
    st, h, b = send("POST", {"Content-Type": j}, b"{}")
    assert (st, json.loads(b)) == (400, {"__type": "UnknownOperationException"}), b
    # empty body: SerializationException for a real operation
    st, h, b = send("POST", {"Content-Type": j, "X-Amz-Target": "Kinesis_20131202.ListStreams"}, b"")
    assert (st, json.loads(b)) == (400, {"__type": "SerializationException"}), b
    # not a Kinesis content type: XML
    st, h, b = send("POST", {"Content-Type": "text/plain", "X-Amz-Target": "Kinesis_20131202.ListStreams"}, b"{}")
    assert (st, b) == (404, b"<UnknownOperationException/>\n"), b
    st, h, b = send("POST", {"Content-Type": "text/plain"}, b"{}")
    assert st == 403 and b"<AccessDeniedException>" in b and b"Unable to determine service/operation name" in b, b
    # a GET with a target: 403 AccessDeniedException XML
    st, h, b = send("GET", {"X-Amz-Target": "Kinesis_20131202.ListStreams"})
    assert st == 403 and h["content-type"] == "application/xml" and b.startswith(b"<AccessDeniedException>"), b
    assert "x-amzn-requestid" in h


@pytest.mark.streamlake_only
def test_health_probes(server):
    """/_health/live and /_health/ready: unauthenticated, 200, a body that says nothing else."""
    import http.client
    for path in ("/_health/live", "/_health/ready"):
        for method in ("GET", "HEAD"):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.request(method, path)
                r = conn.getresponse()
                body = r.read()
                assert r.status == 200, (path, r.status)
                assert body == (b"ok\n" if method == "GET" else b""), body
                assert r.getheader("content-type") == "text/plain"
            finally:
                conn.close()


@pytest.mark.streamlake_only
def test_long_members_are_validated_not_fatal(server):
    """Megabyte-long members (patterns are matched without recursion): one ValidationException."""
    long_arn = ARN + "a" * (1 << 20)
    status, _, resp = raw_request(server, "DescribeStream", json.dumps({"StreamARN": long_arn}).encode())
    assert status == 400 and error_type(resp) == "ValidationException", resp[:300]
    assert error_message(resp).endswith("at 'streamARN' failed to satisfy constraint: Member must have length "
                                        "less than or equal to 2048")
    status, _, resp = raw_request(server, "PutRecord", json.dumps(
        {"StreamName": "x", "PartitionKey": "k", "Data": "", "ExplicitHashKey": "1" * 500000}).encode())
    assert status == 400 and "at 'explicitHashKey' failed to satisfy constraint" in error_message(resp)
    status, _, resp = raw_request(server, "ListStreams", b"{}")
    assert status == 200
