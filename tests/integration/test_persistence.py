#!/usr/bin/python3
"""Persistence across a clean restart: produce N messages, SIGTERM the broker
(exit code 0), start it again on the same data dir (new port): every message is
still there byte-exact, topics/partitions/configs survive, and new produces
continue the offsets (first new offset == count per partition)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402

from confluent_kafka.admin import ConfigResource  # noqa: E402

PARTITIONS = 3


class PersistenceTest(harness.BrokerTestCase):
    def check_all(self, b, topic, msgs):
        expected = harness.by_partition(msgs, PARTITIONS)
        got = clients.consume(b.bootstrap, topic, {p: len(v) for p, v in expected.items()})
        clients.check_partitions(self, expected, got)

    def test_restart_keeps_messages_and_continues_offsets(self):
        # Small segments so the data spans several segment files (roll + index
        # recovery paths); batches stay well below the segment size (a batch larger
        # than a segment is RECORD_LIST_TOO_LARGE, as in Kafka).
        b = self.broker(name="persist", overrides={"log.segment.bytes": "65536"})
        topic = "persist"
        clients.create_topic(b.bootstrap, topic, PARTITIONS, config={"retention.ms": "86400000"})
        first = harness.make_messages(900, PARTITIONS, seed="before-")
        for codec, chunk in (("none", first[:300]), ("lz4", first[300:600]), ("zstd", first[600:])):
            clients.produce(b.bootstrap, topic, chunk, codec=codec, extra={"batch.size": 16384})
        self.check_all(b, topic, first)

        b.stop()  # asserts exit code 0 within 10 s
        b.start()
        self.assertNotEqual(b.port, None)

        # Everything is still there, byte-exact, at the same offsets.
        self.check_all(b, topic, first)
        # Metadata and topic configs survived.
        a = clients.admin(b.bootstrap)
        md = a.list_topics(timeout=10).topics[topic]
        self.assertEqual(sorted(md.partitions), [0, 1, 2])
        (cfg,) = clients.wait_futures(a.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])).values()
        self.assertEqual(cfg["retention.ms"].value, "86400000")

        # New produces continue each partition's offsets.
        more = harness.make_messages(90, PARTITIONS, seed="after-")
        offs = clients.produce(b.bootstrap, topic, more, codec="gzip", extra={"batch.size": 16384})
        counts = {p: len(v) for p, v in harness.by_partition(first, PARTITIONS).items()}
        nxt = dict(counts)
        for m, off in zip(more, offs):
            self.assertEqual(off, nxt[m["partition"]], f"offset of new message {m['i']} on partition {m['partition']}")
            nxt[m["partition"]] += 1

        del a  # no client left reconnecting to the old port
        # The data really spans several segments.
        segs = [f for f in os.listdir(os.path.join(b.data_dir, f"{topic}-0")) if f.endswith(".log")]
        self.assertGreater(len(segs), 1, f"segments of {topic}-0: {segs}")
        # A second restart: old and new together.
        b.restart()
        all_msgs = {p: harness.by_partition(first, PARTITIONS)[p] + harness.by_partition(more, PARTITIONS)[p]
                    for p in range(PARTITIONS)}
        got = clients.consume(b.bootstrap, topic, {p: len(v) for p, v in all_msgs.items()})
        clients.check_partitions(self, all_msgs, got)
        b.stop()

    def test_restart_with_empty_and_deleted_topics(self):
        b = self.broker(name="persist-meta")
        clients.create_topic(b.bootstrap, "empty", 2)
        clients.create_topic(b.bootstrap, "doomed", 1)
        clients.produce(b.bootstrap, "doomed", harness.make_messages(10, 1, seed="d-"))
        a = clients.admin(b.bootstrap)
        self.assertEqual(clients.wait_futures(a.delete_topics(["doomed"], operation_timeout=10)), {"doomed": None})
        harness.wait_until(lambda: "doomed" not in a.list_topics(timeout=5).topics, 10, "doomed deleted")
        del a
        b.restart()
        a = clients.admin(b.bootstrap)
        topics = a.list_topics(timeout=10).topics
        self.assertIn("empty", topics)
        self.assertEqual(sorted(topics["empty"].partitions), [0, 1])
        self.assertNotIn("doomed", topics)
        # The empty topic starts at offset 0; a re-created "doomed" starts from 0 again.
        offs = clients.produce(b.bootstrap, "empty", [dict(m, partition=1) for m in harness.make_messages(3, 1)])
        self.assertEqual(offs, [0, 1, 2])
        clients.create_topic(b.bootstrap, "doomed", 1)
        offs = clients.produce(b.bootstrap, "doomed", harness.make_messages(2, 1, seed="d2-"))
        self.assertEqual(offs, [0, 1])
        got = clients.consume(b.bootstrap, "doomed", {0: 2})
        self.assertEqual([r["value"] for r in got[0]], [m["value"] for m in harness.make_messages(2, 1, seed="d2-")])
        b.stop()


if __name__ == "__main__":
    harness.main()
