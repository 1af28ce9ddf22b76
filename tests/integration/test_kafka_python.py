#!/usr/bin/python3
"""kafka-python against a real strata broker: produce keyed messages with headers
and null values, uncompressed and with every codec kafka-python can do here, to a
3-partition topic created with KafkaAdminClient; consume them back (assign +
seek_to_beginning, no consumer group) byte-exact and in order per partition."""

import logging
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Deadline  # noqa: E402

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402
from kafka import codec as kcodec  # noqa: E402

logging.getLogger("kafka").setLevel(logging.CRITICAL)

PARTITIONS = 3
N = 600

CODECS = [None, "gzip", "snappy", "lz4", "zstd"]


def codec_available(c):
    return {None: True, "gzip": kcodec.has_gzip(), "snappy": kcodec.has_snappy(),
            "lz4": kcodec.has_lz4(), "zstd": kcodec.has_zstd()}[c]


class KafkaPythonTest(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker(name="kafka-python")
        cls.admin = KafkaAdminClient(bootstrap_servers=cls.b.bootstrap, client_id="it-admin",
                                     request_timeout_ms=10000, api_version_auto_timeout_ms=10000)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.admin.close()
        finally:
            cls.b.stop()
            cls.b.close()

    def test_codecs_available(self):
        # install-deps --test installs python3-snappy/-lz4/-zstandard: every codec must be usable.
        missing = [c for c in CODECS if not codec_available(c)]
        self.assertEqual(missing, [], "kafka-python cannot use these codecs here (missing python modules)")

    def _roundtrip(self, codec):
        topic = f"kp-{codec or 'none'}"
        res = self.admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)],
                                       timeout_ms=10000)
        for t, err, *_ in res.topic_errors:
            self.assertEqual((t, err), (topic, 0), f"CreateTopics error for {topic}")

        msgs = harness.make_messages(N, PARTITIONS, seed=f"kp-{codec}-", big_every=150)
        producer = KafkaProducer(bootstrap_servers=self.b.bootstrap, acks="all", compression_type=codec,
                                 linger_ms=20, batch_size=32768, max_request_size=1_048_576,
                                 request_timeout_ms=15000, api_version_auto_timeout_ms=10000,
                                 max_in_flight_requests_per_connection=1)
        try:
            futs = [producer.send(topic, key=m["key"], value=m["value"], headers=m["headers"],
                                  partition=m["partition"], timestamp_ms=m["ts"]) for m in msgs]
            producer.flush(timeout=60)
            # Acknowledged offsets are contiguous from 0 per partition, in send order.
            next_off = {p: 0 for p in range(PARTITIONS)}
            for m, f in zip(msgs, futs):
                md = f.get(timeout=30)
                self.assertEqual((md.topic, md.partition), (topic, m["partition"]))
                self.assertEqual(md.offset, next_off[m["partition"]], f"ack offset of message {m['i']}")
                next_off[m["partition"]] += 1
        finally:
            producer.close(timeout=10)

        expected = harness.by_partition(msgs, PARTITIONS)
        got = self._consume(topic, {p: len(v) for p, v in expected.items()})
        fields = ("key", "value", "headers", "ts")
        for p in range(PARTITIONS):
            self.assertEqual([r["offset"] for r in got[p]], list(range(len(expected[p]))),
                             f"offsets of partition {p}")
            proj_e = [tuple(m[f] for f in fields) for m in expected[p]]
            proj_g = [tuple(m[f] for f in fields) for m in got[p]]
            self.assertTrue(proj_e == proj_g,
                            f"partition {p}: " + harness.describe_mismatch(expected[p], got[p], fields))

    def _consume(self, topic, counts, timeout=60):
        consumer = KafkaConsumer(bootstrap_servers=self.b.bootstrap, group_id=None, enable_auto_commit=False,
                                 auto_offset_reset="earliest", fetch_max_wait_ms=100,
                                 max_partition_fetch_bytes=1_048_576, request_timeout_ms=15000,
                                 api_version_auto_timeout_ms=10000)
        try:
            tps = [TopicPartition(topic, p) for p in counts]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            got = {p: [] for p in counts}
            d = Deadline(timeout)
            while sum(len(v) for v in got.values()) < sum(counts.values()) and not d.expired():
                for tp, recs in consumer.poll(timeout_ms=200).items():
                    for r in recs:
                        got[tp.partition].append({"offset": r.offset, "key": r.key, "value": r.value,
                                                  "headers": [(k, v) for k, v in r.headers], "ts": r.timestamp})
            end = consumer.end_offsets(tps)
            self.assertEqual({tp.partition: o for tp, o in end.items()}, counts, "end offsets (high watermarks)")
            return got
        finally:
            consumer.close(autocommit=False)

    def test_none(self):
        self._roundtrip(None)

    def test_gzip(self):
        self._roundtrip("gzip")

    def test_snappy(self):
        self._roundtrip("snappy")

    def test_lz4(self):
        self._roundtrip("lz4")

    def test_zstd(self):
        self._roundtrip("zstd")


if __name__ == "__main__":
    harness.main()
