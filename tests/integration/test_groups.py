#!/usr/bin/python3
"""Consumer groups with confluent_kafka (subscribe, not assign): join, consume
every message of a 3-partition topic exactly once, commit, and a new member of
the same group resumes from the committed offsets. Every client call is
bounded (commits are asynchronous and awaited with a deadline), because a
broker that stops answering must fail the test, not hang it."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402
from harness import Deadline  # noqa: E402

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

PARTITIONS = 3


def group_consumer(bootstrap, group):
    return Consumer(clients.base_conf(bootstrap) | {
        "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "fetch.wait.max.ms": 100})


def poll_n(c, n, timeout):
    got = []
    d = Deadline(timeout)
    while len(got) < n and not d.expired():
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        got.append(m)
    return got


class Groups(harness.BrokerTestCase):
    # One broker per test: a hung group coordinator must not take the other test down.
    def setUp(self):
        self.b = self.broker(name="groups", overrides={"group.initial.rebalance.delay.ms": "0"})

    def tearDown(self):
        self.b.stop()  # exit code 0 within 10 s of SIGTERM

    def test_subscribe_consumes_everything_once(self):
        topic = "grp-all"
        clients.create_topic(self.b.bootstrap, topic, PARTITIONS)
        msgs = harness.make_messages(300, PARTITIONS, seed="grp-")
        clients.produce(self.b.bootstrap, topic, msgs, codec="lz4")
        c = group_consumer(self.b.bootstrap, "g-all")
        try:
            c.subscribe([topic])
            got = poll_n(c, 300, 30)
            extra = poll_n(c, 1, 1.0)  # nothing more (bounded look)
        finally:
            clients.bounded_close(c)
        self.assertEqual(len(got), 300)
        self.assertEqual(extra, [])
        by_p = {p: [(m.offset(), m.key(), m.value()) for m in got if m.partition() == p] for p in range(PARTITIONS)}
        exp = harness.by_partition(msgs, PARTITIONS)
        for p in range(PARTITIONS):
            self.assertTrue(by_p[p] == [(o, e["key"], e["value"]) for o, e in enumerate(exp[p])], f"partition {p}")

    def test_commit_then_resume(self):
        topic = "grp-resume"
        clients.create_topic(self.b.bootstrap, topic, PARTITIONS)
        msgs = harness.make_messages(120, PARTITIONS, seed="res-")
        clients.produce(self.b.bootstrap, topic, msgs)
        c = group_consumer(self.b.bootstrap, "g-resume")
        try:
            c.subscribe([topic])
            first = poll_n(c, 60, 30)
            self.assertEqual(len(first), 60)
            # Commit exactly what was consumed: next offset per partition.
            nxt = {}
            for m in first:
                nxt[m.partition()] = max(nxt.get(m.partition(), 0), m.offset() + 1)
            offs = [TopicPartition(topic, p, o) for p, o in nxt.items()]
            c.commit(offsets=offs, asynchronous=True)
            d = Deadline(15)
            committed = None
            while not d.expired():
                c.poll(0.1)
                committed = c.committed([TopicPartition(topic, p) for p in nxt], timeout=2)
                if all(tp.offset == nxt[tp.partition] for tp in committed):
                    break
            self.assertEqual({tp.partition: tp.offset for tp in committed}, nxt)
        finally:
            clients.bounded_close(c)
        # A new member resumes at the committed offsets and gets the other 60.
        c2 = group_consumer(self.b.bootstrap, "g-resume")
        try:
            c2.subscribe([topic])
            rest = poll_n(c2, 60, 30)
        finally:
            clients.bounded_close(c2)
        self.assertEqual(len(rest), 60)
        seen = {(m.partition(), m.offset()) for m in first} | {(m.partition(), m.offset()) for m in rest}
        self.assertEqual(len(seen), 120, "every message exactly once across the two members")
        for m in rest:
            self.assertGreaterEqual(m.offset(), nxt.get(m.partition(), 0))


if __name__ == "__main__":
    harness.main()
