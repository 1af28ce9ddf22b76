#!/usr/bin/python3
"""Topic and partition counts a client cannot use to take the broker down, over the wire.

- CreateTopics with 100,000 or 1,300,000,000 partitions (the issue's report) is refused
  with POLICY_VIOLATION naming the limit, before anything is created: nothing on disk,
  nothing in Metadata, later creations work, and the broker restarts cleanly. The same
  for validate_only, several topics in one request, max.broker.partitions,
  CreatePartitions, Metadata auto-creation and FindCoordinator's __consumer_offsets.
- Creation is all or nothing: a file where a partition directory should be, or too
  few file descriptors, fails the request with KAFKA_STORAGE_ERROR and leaves no log
  and no metadata behind; the same request works once the cause is gone.
- A metadata file naming a topic past max.broker.partitions (the issue's bricked
  state) does not stop the broker: that topic is left out, and can be deleted.
- A partition that cannot be opened at startup (a segment replaced by a directory, a
  partition directory replaced by a file) goes offline: the broker starts, Metadata
  reports KAFKA_STORAGE_ERROR with the broker in offline_replicas, Produce to it
  answers KAFKA_STORAGE_ERROR, and every other partition keeps its data and is served.
"""

import json
import os
import resource
import socket
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402
from test_bad_input import (Reader, frame, header_v1, kstring, parse_produce_v3, produce_v3,  # noqa: E402
                            record_batch, recv_response)

from confluent_kafka.admin import NewPartitions  # noqa: E402

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
COORDINATOR_NOT_AVAILABLE = 15
INVALID_PARTITIONS = 37
INVALID_REPLICA_ASSIGNMENT = 39
INVALID_REQUEST = 42
POLICY_VIOLATION = 44
KAFKA_STORAGE_ERROR = 56


# ---- raw requests -------------------------------------------------------------
def create_topics_v4(corr: int, topics: list, validate_only: bool = False) -> bytes:
    """topics: (name, num_partitions, replication_factor, assignments [(index, [broker ids])])."""
    body = struct.pack(">i", len(topics))
    for name, partitions, rf, assignments in topics:
        body += kstring(name) + struct.pack(">ih", partitions, rf)
        body += struct.pack(">i", len(assignments))
        for idx, brokers in assignments:
            body += struct.pack(">ii", idx, len(brokers)) + b"".join(struct.pack(">i", x) for x in brokers)
        body += struct.pack(">i", 0)  # configs
    body += struct.pack(">i?", 30000, validate_only)
    return frame(header_v1(19, 4, corr) + body)


def parse_create_topics_v4(body: bytes) -> dict:
    r = Reader(body)
    r.take(">i")  # throttle_time_ms
    out = {}
    for _ in range(r.take(">i")):
        name = r.string()
        err = r.take(">h")
        out[name] = (err, r.string())
    assert r.p == len(body), "trailing bytes in the CreateTopics v4 response"
    return out


def metadata_v5(corr: int, topics: list | None, auto_create: bool = False) -> bytes:
    if topics is None:
        body = struct.pack(">i", -1)
    else:
        body = struct.pack(">i", len(topics)) + b"".join(kstring(t) for t in topics)
    body += struct.pack(">?", auto_create)
    return frame(header_v1(3, 5, corr) + body)


def parse_metadata_v5(body: bytes) -> dict:
    """{topic: (error, {partition: (error, leader, offline_replicas)})}"""
    r = Reader(body)
    r.take(">i")  # throttle_time_ms
    for _ in range(r.take(">i")):  # brokers
        r.take(">i")
        r.string()
        r.take(">i")
        r.string()  # rack
    r.string()  # cluster_id
    r.take(">i")  # controller_id
    out = {}
    for _ in range(r.take(">i")):
        err = r.take(">h")
        name = r.string()
        r.take(">?")  # is_internal
        parts = {}
        for _ in range(r.take(">i")):
            perr, idx, leader = r.take(">hii")
            for _ in range(2):  # replicas, isr
                [r.take(">i") for _ in range(r.take(">i"))]
            offline = [r.take(">i") for _ in range(r.take(">i"))]
            parts[idx] = (perr, leader, offline)
        out[name] = (err, parts)
    assert r.p == len(body), "trailing bytes in the Metadata v5 response"
    return out


def find_coordinator_v1(corr: int, group: str) -> bytes:
    return frame(header_v1(10, 1, corr) + kstring(group) + struct.pack(">b", 0))


def create_partitions_v1(corr: int, topic: str, count: int) -> bytes:
    body = struct.pack(">i", 1) + kstring(topic) + struct.pack(">ii", count, -1) + struct.pack(">i?", 30000, False)
    return frame(header_v1(37, 1, corr) + body)


def parse_create_partitions_v1(body: bytes) -> dict:
    r = Reader(body)
    r.take(">i")
    out = {}
    for _ in range(r.take(">i")):
        name = r.string()
        err = r.take(">h")
        out[name] = (err, r.string())
    return out


class Conn:
    """One raw connection; call() sends a request and returns the response body."""

    def __init__(self, b: harness.Broker):
        self.s = socket.create_connection(("127.0.0.1", b.port), timeout=10)
        self.corr = 0

    def call(self, make, *args, timeout: float = 30.0, **kw) -> bytes:
        self.corr += 1
        self.s.sendall(make(self.corr, *args, **kw))
        got = recv_response(self.s, timeout)
        assert got is not None, "the broker closed the connection"
        corr, body = got
        assert corr == self.corr, f"correlation id {corr}, expected {self.corr}"
        return body

    def create(self, topics: list, validate_only: bool = False) -> dict:
        return parse_create_topics_v4(self.call(create_topics_v4, topics, validate_only))

    def metadata(self, topics: list | None, auto_create: bool = False) -> dict:
        return parse_metadata_v5(self.call(metadata_v5, topics, auto_create))

    def produce(self, topic: str, partition: int, value: bytes) -> int:
        batch = record_batch([(b"k", value, [])])
        (err, _base), = parse_produce_v3(self.call(produce_v3, topic, partition, batch)).values()
        return err

    def close(self):
        self.s.close()


def partition_dirs(b: harness.Broker, topic: str) -> list:
    """Entries of the data dir that belong to `topic` (live or being deleted)."""
    return sorted(e for e in os.listdir(b.data_dir) if e.rsplit("-", 1)[0] == topic or e.startswith(topic + "-"))


def stored_topics(b: harness.Broker) -> dict:
    with open(os.path.join(b.data_dir, "strata-metadata.json")) as f:
        return json.load(f)["topics"]


class TopicLimitsTest(harness.BrokerTestCase):
    def assert_refused(self, result, code, *words):
        err, msg = result
        self.assertEqual(err, code, msg)
        for w in words:
            self.assertIn(w, msg or "")

    def assert_nothing_of(self, b, conn, topic):
        self.assertEqual(partition_dirs(b, topic), [])
        self.assertNotIn(topic, stored_topics(b))
        self.assertNotIn(topic, conn.metadata(None))

    def test_huge_partition_counts_are_refused_before_anything_is_created(self):
        b = self.broker(name="limits")
        c = Conn(b)
        # The report: 100,000 and 1.3 billion partitions (a mutated frame).
        for name, n in (("huge", 100_000), ("mutated", 1_300_000_000)):
            self.assert_refused(c.create([(name, n, 1, [])])[name], POLICY_VIOLATION,
                                "strata.create.partitions.max.per.request", "10000", str(n))
            self.assert_refused(c.create([(name, n, 1, [])], validate_only=True)[name], POLICY_VIOLATION,
                                "strata.create.partitions.max.per.request")
            self.assert_nothing_of(b, c, name)
        # The limit counts every topic of the request: 2 x 6,000 is refused as a whole.
        res = c.create([("half-a", 6000, 1, []), ("half-b", 6000, 1, [])])
        for t in ("half-a", "half-b"):
            self.assert_refused(res[t], POLICY_VIOLATION, "12000")
            self.assert_nothing_of(b, c, t)
        # Other bad counts from a frame: zero/negative partitions, replica assignments
        # naming other brokers, duplicate or out-of-range indexes, a name given twice.
        self.assert_refused(c.create([("zero", 0, 1, [])])["zero"], INVALID_PARTITIONS)
        self.assert_refused(c.create([("neg", -7, 1, [])])["neg"], INVALID_PARTITIONS)
        self.assert_refused(c.create([("rep", -1, -1, [(0, [0, 0, 0])])])["rep"], INVALID_REPLICA_ASSIGNMENT)
        self.assert_refused(c.create([("idx", -1, -1, [(0, [0]), (5, [0])])])["idx"], INVALID_REPLICA_ASSIGNMENT)
        self.assert_refused(c.create([("many", -1, -1, [(i, [0]) for i in range(10001)])])["many"],
                            POLICY_VIOLATION, "strata.create.partitions.max.per.request")
        res = c.create([("twice", 1, 1, []), ("twice", 1, 1, [])])
        self.assertEqual(res["twice"][0], INVALID_REQUEST)
        for t in ("zero", "neg", "rep", "idx", "many", "twice"):
            self.assert_nothing_of(b, c, t)
        # A manual assignment naming this broker works.
        self.assertEqual(c.create([("assigned", -1, -1, [(0, [0]), (1, [0])])])["assigned"][0], NONE)
        self.assertEqual(sorted(c.metadata(["assigned"])["assigned"][1]), [0, 1])
        # The broker keeps creating topics, and serves them.
        clients.create_topic(b.bootstrap, "after", 3)
        self.assertEqual(c.produce("after", 2, b"v"), NONE)
        # CreatePartitions past the per-request limit: refused, the count unchanged.
        res = parse_create_partitions_v1(c.call(create_partitions_v1, "after", 1_300_000_000))
        self.assert_refused(res["after"], POLICY_VIOLATION, "strata.create.partitions.max.per.request")
        self.assertEqual(sorted(c.metadata(["after"])["after"][1]), [0, 1, 2])
        self.assertEqual(stored_topics(b)["after"]["partitions"], 3)
        c.close()
        # A clean restart: exit code 0, then the broker starts with what it had.
        b.restart()
        c = Conn(b)
        md = c.metadata(None)
        self.assertEqual(sorted(md), ["after", "assigned"])
        self.assertEqual(c.produce("after", 0, b"again"), NONE)
        c.close()
        b.stop()

    def test_broker_limit_applies_to_every_way_of_creating(self):
        b = self.broker(name="broker-limit", overrides={"max.broker.partitions": "20", "num.partitions": "4",
                                                         "strata.create.partitions.max.per.request": "10"})
        c = Conn(b)
        self.assertEqual(c.create([("a", 10, 1, [])])["a"][0], NONE)
        self.assertEqual(c.create([("b", 8, 1, [])])["b"][0], NONE)
        # 18 held: 3 more is past max.broker.partitions (validate_only too).
        for validate in (True, False):
            self.assert_refused(c.create([("c", 3, 1, [])], validate_only=validate)["c"], POLICY_VIOLATION,
                                "max.broker.partitions", "20", "18", "3")
        self.assert_nothing_of(b, c, "c")
        a = clients.admin(b.bootstrap)
        res = clients.wait_futures(a.create_partitions([NewPartitions("b", 11)], operation_timeout=10))
        err = clients.kafka_error(res["b"])
        self.assertIsNotNone(err, "CreatePartitions past max.broker.partitions succeeded")
        self.assertEqual(err.code(), POLICY_VIOLATION)
        self.assertIn("max.broker.partitions", err.str())
        self.assertEqual(clients.wait_futures(a.create_partitions([NewPartitions("b", 10)], operation_timeout=10)),
                         {"b": None})
        del a
        self.assertEqual(partition_dirs(b, "b"), [f"b-{i}" for i in sorted(range(10), key=str)])
        # 20 held. Metadata auto-creation (num.partitions=4) is refused: no topic, no directory.
        md = c.metadata(["auto-1"], auto_create=True)
        self.assertEqual(md["auto-1"][0], POLICY_VIOLATION)
        self.assert_nothing_of(b, c, "auto-1")
        # FindCoordinator would create __consumer_offsets (50 partitions): refused as well.
        body = c.call(find_coordinator_v1, "g")
        self.assertEqual(struct.unpack_from(">h", body, 4)[0], COORDINATOR_NOT_AVAILABLE)
        self.assertEqual([e for e in os.listdir(b.data_dir) if e.startswith("__consumer_offsets")], [])
        c.close()
        b.stop()

    def test_metadata_auto_creation_counts_per_request(self):
        b = self.broker(name="auto-limit", overrides={"num.partitions": "4",
                                                       "strata.create.partitions.max.per.request": "10"})
        c = Conn(b)
        names = [f"auto-{i}" for i in range(5)]
        md = c.metadata(names, auto_create=True)
        # 4 + 4 fit in 10; the third and later topics of this request are refused.
        self.assertEqual([md[n][0] for n in names], [NONE, NONE] + [POLICY_VIOLATION] * 3)
        for n in names[2:]:
            self.assert_nothing_of(b, c, n)
        # A later request may create more.
        self.assertEqual(c.metadata(["auto-2"], auto_create=True)["auto-2"][0], NONE)
        c.close()
        b.stop()

    def test_a_failed_creation_leaves_nothing_behind(self):
        b = self.broker(name="rollback")
        c = Conn(b)
        # A file where partition 2's directory should go.
        blocker = os.path.join(b.data_dir, "blocked-2")
        with open(blocker, "w") as f:
            f.write("in the way")
        self.assert_refused(c.create([("blocked", 4, 1, [])])["blocked"], KAFKA_STORAGE_ERROR, "blocked-2")
        harness.wait_until(lambda: partition_dirs(b, "blocked") == ["blocked-2"], 10,
                           "partitions 0 and 1 removed (the file left alone)")
        self.assertNotIn("blocked", stored_topics(b))
        self.assertNotIn("blocked", c.metadata(None))
        with open(blocker) as f:
            self.assertEqual(f.read(), "in the way")
        os.remove(blocker)
        self.assertEqual(c.create([("blocked", 4, 1, [])])["blocked"][0], NONE)
        for p in range(4):
            self.assertEqual(c.produce("blocked", p, b"x"), NONE)
        # CreatePartitions: the same, and the count is not raised.
        with open(os.path.join(b.data_dir, "blocked-5"), "w") as f:
            f.write("in the way")
        res = parse_create_partitions_v1(c.call(create_partitions_v1, "blocked", 7))
        self.assert_refused(res["blocked"], KAFKA_STORAGE_ERROR, "blocked-5")
        harness.wait_until(lambda: "blocked-4" not in partition_dirs(b, "blocked"), 10, "blocked-4 removed")
        self.assertEqual(stored_topics(b)["blocked"]["partitions"], 4)
        self.assertEqual(sorted(c.metadata(["blocked"])["blocked"][1]), [0, 1, 2, 3])
        os.remove(os.path.join(b.data_dir, "blocked-5"))
        res = parse_create_partitions_v1(c.call(create_partitions_v1, "blocked", 7))
        self.assertEqual(res["blocked"][0], NONE, res)
        self.assertEqual(sorted(c.metadata(["blocked"])["blocked"][1]), list(range(7)))
        c.close()

        # Out of file descriptors part way (the EMFILE): the limit of the
        # broker process is lowered to what it uses now plus a few, so a topic of 300
        # partitions (a log, an index and a time index each) cannot be created.
        used = len(os.listdir(f"/proc/{b.pid}/fd"))
        old = resource.prlimit(b.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(b.pid, resource.RLIMIT_NOFILE, (used + 40, old[1]))
        try:
            c = Conn(b)
            self.assert_refused(c.create([("fds", 300, 1, [])])["fds"], KAFKA_STORAGE_ERROR, "fds-")
            self.assertNotIn("fds", stored_topics(b))
            self.assertNotIn("fds", c.metadata(None))
            harness.wait_until(lambda: partition_dirs(b, "fds") == [], 10, "fds partitions removed")
        finally:
            resource.prlimit(b.pid, resource.RLIMIT_NOFILE, old)
        # With descriptors back, the same topic and others can be created.
        self.assertEqual(c.create([("fds", 300, 1, [])])["fds"][0], NONE)
        self.assertEqual(c.produce("fds", 299, b"x"), NONE)
        c.close()
        b.restart()
        c = Conn(b)
        self.assertEqual(sorted(c.metadata(None)), ["blocked", "fds"])
        self.assertEqual(c.produce("blocked", 6, b"y"), NONE)
        c.close()
        b.stop()

    def test_a_broken_partition_goes_offline_and_the_rest_is_served(self):
        b = self.broker(name="offline")
        clients.create_topic(b.bootstrap, "good", 3)
        clients.create_topic(b.bootstrap, "other", 1)
        clients.create_topic(b.bootstrap, "filed", 2)
        msgs = harness.make_messages(60, 3, seed="g-")
        clients.produce(b.bootstrap, "good", msgs)
        other = harness.make_messages(10, 1, seed="o-")
        clients.produce(b.bootstrap, "other", other)
        clients.produce(b.bootstrap, "filed", harness.make_messages(10, 2, seed="f-"))
        b.stop()
        # good-1: its segment replaced by a directory; filed-0: a file instead of its directory.
        seg = os.path.join(b.data_dir, "good-1", "00000000000000000000.log")
        self.assertTrue(os.path.isfile(seg))
        os.remove(seg)
        os.mkdir(seg)
        fdir = os.path.join(b.data_dir, "filed-0")
        for e in os.listdir(fdir):
            os.remove(os.path.join(fdir, e))
        os.rmdir(fdir)
        with open(fdir, "w") as f:
            f.write("not a directory")

        b.start()  # raises if the broker does not come up
        c = Conn(b)
        md = c.metadata(None)
        self.assertEqual(md["good"][0], NONE)
        self.assertEqual(md["good"][1][1], (KAFKA_STORAGE_ERROR, 0, [0]))
        self.assertEqual(md["good"][1][0], (NONE, 0, []))
        self.assertEqual(md["good"][1][2], (NONE, 0, []))
        self.assertEqual(md["filed"][1][0][0], KAFKA_STORAGE_ERROR)
        self.assertEqual(md["filed"][1][1][0], NONE)
        self.assertEqual(md["other"][1][0], (NONE, 0, []))
        self.assertEqual(c.produce("good", 1, b"lost"), KAFKA_STORAGE_ERROR)
        self.assertEqual(c.produce("filed", 0, b"lost"), KAFKA_STORAGE_ERROR)
        # Logged once each, with the cause.
        text = b.log_text()
        self.assertEqual(text.count("partition good-1 is offline"), 1, b.log_tail(40))
        self.assertIn("filed-0", text)
        # Everything else keeps its data and is served.
        by_p = harness.by_partition(msgs, 3)
        got = clients.consume(b.bootstrap, "good", {0: len(by_p[0]), 2: len(by_p[2])})
        clients.check_partitions(self, {0: by_p[0], 2: by_p[2]}, got)
        got = clients.consume(b.bootstrap, "other", {0: len(other)})
        clients.check_partitions(self, {0: other}, got)
        self.assertEqual(c.produce("good", 0, b"more"), NONE)
        self.assertEqual(c.produce("filed", 1, b"more"), NONE)
        # Topics are still created; deleting the broken topic moves its damaged
        # directory away, and a new topic of that name starts clean.
        clients.create_topic(b.bootstrap, "new", 2)
        a = clients.admin(b.bootstrap)
        self.assertEqual(clients.wait_futures(a.delete_topics(["good"], operation_timeout=10)), {"good": None})
        harness.wait_until(lambda: partition_dirs(b, "good") == [], 10, "good's directories removed")
        del a
        clients.create_topic(b.bootstrap, "good", 3)
        self.assertEqual(c.produce("good", 1, b"fresh"), NONE)
        c.close()
        b.restart()  # the clean stop exits 0; filed-0 stays offline, the rest is back
        c = Conn(b)
        md = c.metadata(None)
        self.assertEqual([md["good"][1][p][0] for p in range(3)], [NONE] * 3)
        self.assertEqual(md["filed"][1][0][0], KAFKA_STORAGE_ERROR)
        c.close()
        b.stop()

    def test_a_stored_count_past_the_limit_does_not_stop_the_broker(self):
        # The state the broker was left in: its metadata names a topic with
        # 1.3 billion partitions, a few of whose directories exist.
        b = self.broker(name="bricked")
        clients.create_topic(b.bootstrap, "ok", 1)
        clients.produce(b.bootstrap, "ok", harness.make_messages(5, 1, seed="ok-"))
        b.stop()
        path = os.path.join(b.data_dir, "strata-metadata.json")
        with open(path) as f:
            meta = json.load(f)
        bricked = dict(meta["topics"]["ok"])
        bricked["id"] = "A" + bricked["id"][1:] if bricked["id"][0] != "A" else "B" + bricked["id"][1:]
        bricked["partitions"] = 1_300_000_000
        meta["topics"]["bricked"] = bricked
        with open(path, "w") as f:
            json.dump(meta, f)
        for p in range(3):
            os.mkdir(os.path.join(b.data_dir, f"bricked-{p}"))

        b.start()  # raises if the broker does not come up
        self.assertIn("topic 'bricked' is not loaded", b.log_text())
        c = Conn(b)
        self.assertEqual(sorted(c.metadata(None)), ["ok"])
        self.assertEqual(c.produce("ok", 0, b"served"), NONE)
        # It can be deleted (metadata and directories), then created again.
        a = clients.admin(b.bootstrap)
        self.assertEqual(clients.wait_futures(a.delete_topics(["bricked"], operation_timeout=10)), {"bricked": None})
        del a
        harness.wait_until(lambda: partition_dirs(b, "bricked") == [], 10, "bricked's directories removed")
        self.assertNotIn("bricked", stored_topics(b))
        self.assertEqual(c.create([("bricked", 2, 1, [])])["bricked"][0], NONE)
        c.close()
        b.restart()
        c = Conn(b)
        self.assertEqual(sorted(c.metadata(None)), ["bricked", "ok"])
        c.close()
        b.stop()


if __name__ == "__main__":
    harness.main()
