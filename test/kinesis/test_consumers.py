"""Enhanced fan-out consumers with boto3: RegisterStreamConsumer, DescribeStreamConsumer (by
ARN, by stream ARN + name), ListStreamConsumers (paging), DeregisterStreamConsumer;
CREATING → ACTIVE, DELETING → gone; the per-stream limit of 20; ConsumerCount; the errors
(unknown stream, unknown consumer, bad ARN, duplicates); consumers survive a restart."""
import time

import botocore.exceptions
import pytest

import harness
from harness import unique_name

pytestmark = pytest.mark.streamlake_only


def code(exc):
    return exc.value.response["Error"]["Code"]


def message(exc):
    return exc.value.response["Error"]["Message"]


def wait_consumer(client, arn, status, deadline_s=20):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            d = client.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]
            if d["ConsumerStatus"] == status:
                return d
        except client.exceptions.ResourceNotFoundException:
            if status is None:
                return None
        time.sleep(0.1)
    raise AssertionError(f"consumer {arn} not {status} within {deadline_s}s")


def stream_arn(client, name):
    return client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def test_lifecycle(client):
    name = unique_name("efo")
    harness.create_stream(client, name, shards=2)
    sarn = stream_arn(client, name)
    c = client.register_stream_consumer(StreamARN=sarn, ConsumerName="app1")["Consumer"]
    assert c["ConsumerName"] == "app1" and c["ConsumerStatus"] == "CREATING"
    assert c["ConsumerARN"].startswith(sarn + "/consumer/app1:")
    assert c["ConsumerARN"].rsplit(":", 1)[1] == str(int(c["ConsumerCreationTimestamp"].timestamp()))
    d = wait_consumer(client, c["ConsumerARN"], "ACTIVE")
    assert d["StreamARN"] == sarn and d["ConsumerName"] == "app1"
    # by stream ARN + name
    d2 = client.describe_stream_consumer(StreamARN=sarn, ConsumerName="app1")["ConsumerDescription"]
    assert d2 == d
    summary = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["ConsumerCount"] == 1
    # duplicate
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.register_stream_consumer(StreamARN=sarn, ConsumerName="app1")
    assert code(e) == "ResourceInUseException"
    # deregister → DELETING → gone
    client.deregister_stream_consumer(ConsumerARN=c["ConsumerARN"])
    assert client.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]["ConsumerStatus"] == "DELETING"
    wait_consumer(client, c["ConsumerARN"], None)
    assert client.list_stream_consumers(StreamARN=sarn)["Consumers"] == []
    # an ARN of an older incarnation of a re-registered name is not found
    time.sleep(1.1)
    c2 = client.register_stream_consumer(StreamARN=sarn, ConsumerName="app1")["Consumer"]
    assert c2["ConsumerARN"] != c["ConsumerARN"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])
    # DeleteStream refuses while consumers exist, unless EnforceConsumerDeletion
    wait_consumer(client, c2["ConsumerARN"], "ACTIVE")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.delete_stream(StreamName=name)
    assert code(e) == "ResourceInUseException"
    client.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    harness.wait_gone(client, name)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_stream_consumer(ConsumerARN=c2["ConsumerARN"])


def test_paging_and_limit(client):
    name = unique_name("efo-many")
    harness.create_stream(client, name)
    sarn = stream_arn(client, name)
    arns = []
    for i in range(20):
        for _ in range(200):  # at most 5 CREATING at once: LimitExceededException meanwhile
            try:
                arns.append(client.register_stream_consumer(StreamARN=sarn, ConsumerName=f"c{i:02d}")["Consumer"]["ConsumerARN"])
                break
            except client.exceptions.LimitExceededException:
                time.sleep(0.1)
    assert len(arns) == 20
    for a in arns:
        wait_consumer(client, a, "ACTIVE")
    with pytest.raises(client.exceptions.LimitExceededException):
        client.register_stream_consumer(StreamARN=sarn, ConsumerName="one-too-many")
    seen, token, pages = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        page = client.list_stream_consumers(StreamARN=sarn, MaxResults=6, **kw)
        pages += 1
        seen += [c["ConsumerName"] for c in page["Consumers"]]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 4 and seen == [f"c{i:02d}" for i in range(20)]
    assert client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["ConsumerCount"] == 20


def test_errors(client):
    missing = "arn:aws:kinesis:us-east-1:000000000000:stream/no-such-stream"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.register_stream_consumer(StreamARN=missing, ConsumerName="x")
    assert message(e) == "Stream no-such-stream under account 000000000000 not found."
    name = unique_name("efo-err")
    harness.create_stream(client, name)
    sarn = stream_arn(client, name)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_stream_consumer(StreamARN=sarn, ConsumerName="nobody")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_stream_consumer(ConsumerARN=sarn + "/consumer/nobody:1700000000")
    with pytest.raises(client.exceptions.InvalidArgumentException):
        client.describe_stream_consumer(StreamARN=sarn)
    with pytest.raises(client.exceptions.InvalidArgumentException):
        client.deregister_stream_consumer(ConsumerName="x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.describe_stream_consumer(ConsumerARN="arn:aws:kinesis:us-east-1:000000000000:stream/x")
    assert code(e) == "ValidationException" and "at 'consumerARN' failed to satisfy constraint: " \
        "Member must satisfy regular expression pattern" in message(e)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.register_stream_consumer(StreamARN="not-an-arn", ConsumerName="bad name")
    assert code(e) == "ValidationException" and message(e).startswith("2 validation errors detected: ")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.list_stream_consumers(StreamARN=sarn, NextToken="bm9wZQ==")
    assert code(e) == "InvalidArgumentException"


def test_restart_keeps_consumers():
    s = harness.Server(keep_dir=True)
    try:
        s.start()
        client = s.client()
        name = unique_name("efo-restart")
        harness.create_stream(client, name)
        sarn = stream_arn(client, name)
        arn = client.register_stream_consumer(StreamARN=sarn, ConsumerName="durable")["Consumer"]["ConsumerARN"]
        before = wait_consumer(client, arn, "ACTIVE")
        assert s.stop() == 0
        s.start()
        client = s.client()
        after = client.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]
        assert after == before
        assert client.list_stream_consumers(StreamARN=sarn)["Consumers"][0]["ConsumerARN"] == arn
    finally:
        s.stop()
        s.cleanup()
