#!/usr/bin/python3
"""Log compaction (cleanup.policy=compact) seen by real clients: the cleaner keeps
the newest value of each key at its original offset, confluent_kafka (librdkafka)
and kafka-python read the compacted log (with its empty batches over removed runs),
the result survives a restart, a compacted topic refuses records without a key
(INVALID_RECORD), and __consumer_offsets is compacted while the committed offsets
stay right across a restart."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from kafka import KafkaConsumer  # noqa: E402
from kafka import TopicPartition as KpTopicPartition  # noqa: E402

KEYS = 10
ROUNDS = 40
# The cleaner wakes every 50 ms; small segments so that the data spans many.
CLEANER = {"log.cleaner.backoff.ms": "50"}
COMPACT = {"cleanup.policy": "compact", "segment.bytes": "2048", "min.cleanable.dirty.ratio": "0.01"}


def read_all(bootstrap: str, topic: str, partition: int = 0, timeout: float = 20) -> list:
    """Every record of a partition from the beginning to the end, as (offset, key, value)."""
    c = clients.consumer(bootstrap)
    out = []
    try:
        c.assign([TopicPartition(topic, partition, -2)])
        d = harness.Deadline(timeout)
        while not d.expired():
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    return out
                if m.error().fatal():
                    raise AssertionError(f"fatal consumer error: {m.error()}")
                continue
            out.append((m.offset(), m.key(), m.value()))
        raise AssertionError(f"no end of partition within {timeout} s ({len(out)} records read)")
    finally:
        c.close()


def produce_rounds(bootstrap: str, topic: str) -> dict:
    """KEYS keys x ROUNDS values, one small batch each; returns {offset: (key, value)}."""
    p = Producer(clients.base_conf(bootstrap) | {"acks": "all", "linger.ms": 0, "batch.num.messages": 1})
    acked = {}
    errors = []

    def cb(err, m):
        if err is not None:
            errors.append(err)
        else:
            acked[m.offset()] = (m.key(), m.value())

    for r in range(ROUNDS):
        for k in range(KEYS):
            p.produce(topic, key=f"key-{k}".encode(), value=f"value-{k}-{r}".encode() * 4, partition=0,
                      on_delivery=cb)
        p.flush(30)
    if errors:
        raise AssertionError(f"delivery errors: {errors[:3]}")
    return acked


class CompactionTest(harness.BrokerTestCase):
    def check_compacted(self, records: list, acked: dict):
        """Records are exactly what was acknowledged at their offsets, in offset order,
        and each key's last record is its newest value."""
        offsets = [o for o, _, _ in records]
        self.assertEqual(offsets, sorted(set(offsets)), "offsets must increase")
        for o, k, v in records:
            self.assertEqual((k, v), acked[o], f"record at offset {o}")
        last = {}
        for o, k, v in records:
            last[k] = v
        for k in range(KEYS):
            self.assertEqual(last[f"key-{k}".encode()], f"value-{k}-{ROUNDS - 1}".encode() * 4)

    def test_compacted_topic_keeps_the_newest_value_of_each_key(self):
        b = self.broker(name="compact", overrides=CLEANER)
        topic = "compacted"
        clients.create_topic(b.bootstrap, topic, 1, config=COMPACT)
        acked = produce_rounds(b.bootstrap, topic)
        self.assertEqual(len(acked), KEYS * ROUNDS)
        # Wait until the cleaner has removed most records (only the active segment,
        # about 2 KiB, keeps older values).
        records = harness.wait_until(
            lambda: (lambda rs: rs if len(rs) < KEYS * ROUNDS // 4 else None)(read_all(b.bootstrap, topic)),
            60, "the compacted partition to shrink", interval=0.2)
        self.check_compacted(records, acked)
        b.wait_for_log(r"cleaned up to offset")

        # kafka-python reads the same records, empty batches and gaps included.
        kc = KafkaConsumer(bootstrap_servers=b.bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000,
                           api_version_auto_timeout_ms=10000)
        try:
            tp = KpTopicPartition(topic, 0)
            kc.assign([tp])
            kc.seek_to_beginning(tp)
            end = kc.end_offsets([tp])[tp]
            got = []
            d = harness.Deadline(30)
            while kc.position(tp) < end and not d.expired():
                for batch in kc.poll(timeout_ms=200).values():
                    got.extend((m.offset, m.key, m.value) for m in batch)
        finally:
            kc.close()
        self.assertEqual(got, [r for r in read_all(b.bootstrap, topic) if r[0] < end])

        # The cleaned segments survive a restart.
        before = read_all(b.bootstrap, topic)
        b.stop()
        b.start()
        self.assertEqual(read_all(b.bootstrap, topic), before)

    def test_a_compacted_topic_refuses_a_record_without_a_key(self):
        b = self.broker(name="compact-nokey", overrides=CLEANER)
        clients.create_topic(b.bootstrap, "needs-keys", 1, config=COMPACT)
        p = Producer(clients.base_conf(b.bootstrap) | {"acks": "all", "message.send.max.retries": 0})
        results = []
        # One flush each: a batch holding both would be refused as a whole (as Kafka does).
        p.produce("needs-keys", value=b"no key", partition=0, on_delivery=lambda err, m: results.append(err))
        self.assertEqual(p.flush(30), 0)
        p.produce("needs-keys", key=b"k", value=b"with key", partition=0,
                  on_delivery=lambda err, m: results.append(err))
        self.assertEqual(p.flush(30), 0)
        errs = [e for e in results if e is not None]
        self.assertEqual(len(errs), 1, results)
        self.assertEqual(errs[0].code(), KafkaError.INVALID_RECORD, errs[0])
        self.assertEqual([(k, v) for _, k, v in read_all(b.bootstrap, "needs-keys")], [(b"k", b"with key")])

    def test_consumer_offsets_are_compacted_and_replayed(self):
        b = self.broker(name="compact-offsets",
                        overrides=CLEANER | {"offsets.topic.num.partitions": "1",
                                             "offsets.topic.segment.bytes": "4096"})
        clients.create_topic(b.bootstrap, "t", 1)
        conf = clients.base_conf(b.bootstrap) | {"group.id": "g", "enable.auto.commit": False}
        c = Consumer(conf)
        try:
            for i in range(300):
                c.commit(offsets=[TopicPartition("t", 0, i + 1)], asynchronous=False)
        finally:
            c.close()
        # 300 commits of one partition: once cleaned, __consumer_offsets keeps a few
        # records (the newest commit, the group's metadata, the active segment).
        harness.wait_until(lambda: len(read_all(b.bootstrap, "__consumer_offsets")) < 100, 60,
                           "__consumer_offsets to be compacted", interval=0.2)
        b.stop()
        b.start()  # on a new port
        c = Consumer(clients.base_conf(b.bootstrap) | {"group.id": "g", "enable.auto.commit": False})
        try:
            (tp,) = c.committed([TopicPartition("t", 0)], timeout=30)
            self.assertEqual(tp.offset, 300)
        finally:
            c.close()


if __name__ == "__main__":
    harness.main()
