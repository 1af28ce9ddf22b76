#!/usr/bin/python3
"""Kafka semantics beyond a plain round trip, with real clients: concurrent
producers on one partition, long-poll fetch wake-up, fetch sizes smaller than a
batch, MESSAGE_TOO_LARGE, offset out of range, LogAppendTime topics, retention
moving the log start offset, and fetching without sendfile."""

import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402
from harness import Deadline  # noqa: E402

from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, KafkaError, Producer, TopicPartition  # noqa: E402
from kafka import KafkaConsumer, TopicPartition as KTP  # noqa: E402


class Semantics(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker(name="semantics", overrides={"log.retention.check.interval.ms": "200"})

    @classmethod
    def tearDownClass(cls):
        cls.stop_shared_broker()

    def test_concurrent_producers_one_partition(self):
        topic = "sem-concurrent"
        clients.create_topic(self.b.bootstrap, topic, 1)
        writers, per = 4, 1500
        errors = []

        def run(w):
            try:
                msgs = [{"i": j, "partition": 0, "key": f"w{w}".encode(), "value": f"w{w}-{j:06d}".encode(),
                         "headers": [], "ts": harness.BASE_TS + j} for j in range(per)]
                clients.produce(self.b.bootstrap, topic, msgs, codec="lz4" if w % 2 else "none",
                                extra={"linger.ms": 1, "batch.num.messages": 50})
            except Exception as e:  # reported by the main thread
                errors.append((w, e))

        threads = [threading.Thread(target=run, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(errors, [])
        self.assertFalse(any(t.is_alive() for t in threads), "a producer thread is stuck")
        got = clients.consume(self.b.bootstrap, topic, {0: writers * per})[0]
        self.assertEqual([r["offset"] for r in got], list(range(writers * per)))
        for w in range(writers):
            mine = [r["value"] for r in got if r["key"] == f"w{w}".encode()]
            self.assertEqual(mine, [f"w{w}-{j:06d}".encode() for j in range(per)], f"writer {w}: order or content")

    def test_long_poll_fetch_wakes_on_produce(self):
        topic = "sem-longpoll"
        clients.create_topic(self.b.bootstrap, topic, 1)
        c = clients.consumer(self.b.bootstrap, {"fetch.wait.max.ms": 8000, "enable.partition.eof": True})
        p = Producer(clients.base_conf(self.b.bootstrap) | {"linger.ms": 0})
        try:
            c.assign([TopicPartition(topic, 0, -2)])
            # Wait until the consumer sits at the (empty) end: its fetch is parked.
            d = Deadline(15)
            while not d.expired():
                m = c.poll(0.2)
                if m is not None and m.error() and m.error().code() == KafkaError._PARTITION_EOF:
                    break
            else:
                self.fail("no EOF on an empty partition")
            time.sleep(0.5)  # let the next fetch reach the broker and park (not a wait for a condition)
            t0 = time.monotonic()
            p.produce(topic, value=b"wake-up", partition=0)
            self.assertEqual(p.flush(10), 0)
            d = Deadline(10)
            got = None
            while not d.expired():
                m = c.poll(0.1)
                if m is not None and not m.error():
                    got = m
                    break
            self.assertIsNotNone(got, "message not delivered")
            latency = time.monotonic() - t0
            self.assertEqual(got.value(), b"wake-up")
            # fetch.wait.max.ms is 8 s: a parked fetch must be answered when data arrives.
            self.assertLess(latency, 4.0, f"parked fetch was not woken by the append ({latency:.2f} s)")
        finally:
            c.close()

    def test_fetch_smaller_than_a_batch_still_progresses(self):
        # KIP-74: the first batch is returned even when larger than the fetch sizes.
        topic = "sem-smallfetch"
        clients.create_topic(self.b.bootstrap, topic, 1)
        msgs = [{"i": i, "partition": 0, "key": None, "value": harness.payload(i, 50_000), "headers": [],
                 "ts": harness.BASE_TS + i} for i in range(20)]
        clients.produce(self.b.bootstrap, topic, msgs, codec="none", extra={"linger.ms": 50})
        kc = KafkaConsumer(bootstrap_servers=self.b.bootstrap, group_id=None, enable_auto_commit=False,
                           max_partition_fetch_bytes=1024, fetch_max_bytes=2048, fetch_max_wait_ms=100,
                           api_version_auto_timeout_ms=10000, request_timeout_ms=15000)
        try:
            kc.assign([KTP(topic, 0)])
            kc.seek_to_beginning()
            got = []
            d = Deadline(30)
            while len(got) < 20 and not d.expired():
                for recs in kc.poll(timeout_ms=200).values():
                    got += [(r.offset, r.value) for r in recs]
            self.assertEqual([o for o, _ in got], list(range(20)))
            self.assertTrue([v for _, v in got] == [m["value"] for m in msgs], "values differ")
        finally:
            kc.close(autocommit=False)

    def test_message_too_large(self):
        topic = "sem-toolarge"
        clients.create_topic(self.b.bootstrap, topic, 1, config={"max.message.bytes": "100000"})
        p = Producer(clients.base_conf(self.b.bootstrap) | {"message.max.bytes": 5_000_000, "acks": "all",
                                                           "compression.type": "none",
                                                           "message.timeout.ms": 15000})
        res = {}
        p.produce(topic, value=b"x" * 200_000, partition=0, on_delivery=lambda e, m: res.update(err=e))
        self.assertEqual(p.flush(20), 0)
        self.assertIsNotNone(res.get("err"))
        self.assertEqual(res["err"].code(), KafkaError.MSG_SIZE_TOO_LARGE, str(res["err"]))
        # A message under the topic limit goes through.
        offs = clients.produce(self.b.bootstrap, topic, [{"i": 0, "partition": 0, "key": b"k", "value": b"y" * 50_000,
                                                          "headers": [], "ts": harness.BASE_TS}])
        self.assertEqual(offs, [0])

    def test_offset_out_of_range_resets(self):
        topic = "sem-oor"
        clients.create_topic(self.b.bootstrap, topic, 1)
        clients.produce(self.b.bootstrap, topic, harness.make_messages(10, 1, seed="oor-"))
        # Start far past the end: auto.offset.reset=earliest brings the consumer back to 0.
        got = clients.consume(self.b.bootstrap, topic, {0: 10}, start={0: 1000})
        self.assertEqual([r["offset"] for r in got[0]], list(range(10)))
        # And with auto.offset.reset=error the client reports OFFSET_OUT_OF_RANGE.
        c = clients.consumer(self.b.bootstrap, {"auto.offset.reset": "error"})
        try:
            c.assign([TopicPartition(topic, 0, 1000)])
            d = Deadline(15)
            err = None
            while not d.expired() and err is None:
                m = c.poll(0.2)
                if m is not None and m.error() and m.error().code() != KafkaError._PARTITION_EOF:
                    err = m.error()
            self.assertIsNotNone(err, "no error fetching from offset 1000 of a 10-message partition")
            self.assertEqual(err.code(), KafkaError._AUTO_OFFSET_RESET, str(err))
            self.assertIn("out of range", str(err).lower())
        finally:
            c.close()

    def test_log_append_time_topic(self):
        topic = "sem-logappend"
        clients.create_topic(self.b.bootstrap, topic, 1, config={"message.timestamp.type": "LogAppendTime"})
        before = int(time.time() * 1000)
        msgs = harness.make_messages(50, 1, seed="lat-")  # timestamps an hour old: replaced by the broker's clock
        clients.produce(self.b.bootstrap, topic, msgs, codec="gzip")
        after = int(time.time() * 1000)
        c = clients.consumer(self.b.bootstrap)
        got = []
        try:
            c.assign([TopicPartition(topic, 0, -2)])
            d = Deadline(20)
            while len(got) < 50 and not d.expired():
                m = c.poll(0.2)
                if m is not None and not m.error():
                    got.append(m)
        finally:
            c.close()
        self.assertEqual(len(got), 50)
        for m, e in zip(got, msgs):
            tstype, ts = m.timestamp()
            self.assertEqual(tstype, TIMESTAMP_LOG_APPEND_TIME, f"offset {m.offset()}")
            self.assertTrue(before - 1000 <= ts <= after + 1000, f"offset {m.offset()}: ts {ts} not in [{before}, {after}]")
            self.assertEqual((m.key(), m.value()), (e["key"], e["value"]))  # content intact (CRC recomputed)

    def test_retention_bytes_moves_log_start(self):
        topic = "sem-retention"
        clients.create_topic(self.b.bootstrap, topic, 1, config={"segment.bytes": "16384", "retention.bytes": "32768",
                                                                 "file.delete.delay.ms": "0"})
        msgs = [{"i": i, "partition": 0, "key": str(i).encode(), "value": harness.payload(i, 400), "headers": [],
                 "ts": int(time.time() * 1000)} for i in range(600)]
        clients.produce(self.b.bootstrap, topic, msgs, extra={"batch.size": 4096})
        c = clients.consumer(self.b.bootstrap)
        try:
            # ~420 bytes a record: 32 KiB of closed segments + a 16 KiB active one is
            # at most ~120 records. Retention may take several passes (it can start
            # while the producer is still writing): wait for the end state.
            lo, hi = harness.wait_until(
                lambda: (lambda w: w if 0 < w[1] - w[0] <= 160 else None)(
                    c.get_watermark_offsets(TopicPartition(topic, 0), timeout=5)),
                30, "retention.bytes to delete old segments (at most ~160 records left)")
        finally:
            c.close()
        self.assertEqual(hi, 600)
        self.assertLess(hi - lo, 600)
        # What is left is readable from the new log start, contiguous and intact.
        got = clients.consume(self.b.bootstrap, topic, {0: hi - lo}, start={0: lo})
        self.assertEqual([r["offset"] for r in got[0]], list(range(lo, hi)))
        self.assertTrue([r["value"] for r in got[0]] == [m["value"] for m in msgs[lo:hi]], "values differ")
        # Asking for offset 0 now lands on the log start (auto.offset.reset=earliest).
        got = clients.consume(self.b.bootstrap, topic, {0: hi - lo})
        self.assertEqual(got[0][0]["offset"], lo)


    def test_one_megabyte_message(self):
        topic = "sem-1mb"
        clients.create_topic(self.b.bootstrap, topic, 1)
        big = harness.payload(7, 990_000)  # under message.max.bytes (broker 1048588, librdkafka 1000000)
        msgs = [{"i": 0, "partition": 0, "key": b"big", "value": big, "headers": [("h", b"v")],
                 "ts": harness.BASE_TS}, {"i": 1, "partition": 0, "key": b"small", "value": b"after",
                                          "headers": [], "ts": harness.BASE_TS + 1}]
        self.assertEqual(clients.produce(self.b.bootstrap, topic, msgs, extra={"linger.ms": 0}), [0, 1])
        got = clients.consume(self.b.bootstrap, topic, {0: 2})[0]
        self.assertEqual([(r["offset"], r["key"], len(r["value"])) for r in got], [(0, b"big", 990_000), (1, b"small", 5)])
        self.assertTrue(got[0]["value"] == big, "1 MB value differs")

    def test_many_partitions(self):
        topic = "sem-64p"
        clients.create_topic(self.b.bootstrap, topic, 64)
        msgs = harness.make_messages(64 * 5, 64, seed="p64-")
        clients.produce(self.b.bootstrap, topic, msgs, codec="snappy")
        exp = harness.by_partition(msgs, 64)
        got = clients.consume(self.b.bootstrap, topic, {p: 5 for p in range(64)})
        clients.check_partitions(self, exp, got)


class IdleConnections(harness.BrokerTestCase):
    def test_idle_connection_is_closed(self):
        import socket
        b = self.broker(name="idle", overrides={"connections.max.idle.ms": "1000"})
        s = socket.create_connection(("127.0.0.1", b.port), timeout=10)
        try:
            t0 = time.monotonic()
            s.settimeout(10)
            try:
                data = s.recv(10)
            except ConnectionResetError:
                data = b""
            waited = time.monotonic() - t0
            self.assertEqual(data, b"", "the broker sent data on an idle connection")
            self.assertLess(waited, 8, f"idle connection closed after {waited:.1f} s (connections.max.idle.ms=1000)")
        finally:
            s.close()
        # Busy clients are not affected.
        clients.create_topic(b.bootstrap, "idle", 1)
        self.assertEqual(clients.produce(b.bootstrap, "idle", harness.make_messages(3, 1)), [0, 1, 2])
        b.stop()


class NoSendfile(harness.BrokerTestCase):
    def test_roundtrip_without_sendfile(self):
        b = self.broker(name="nosendfile", overrides={"strata.fetch.sendfile": "false"})
        clients.create_topic(b.bootstrap, "nsf", 3)
        msgs = harness.make_messages(300, 3, seed="nsf-", big_every=100)
        clients.produce(b.bootstrap, "nsf", msgs, codec="zstd")
        exp = harness.by_partition(msgs, 3)
        got = clients.consume(b.bootstrap, "nsf", {p: len(v) for p, v in exp.items()})
        clients.check_partitions(self, exp, got)
        b.stop()


class TinyFetchCap(harness.BrokerTestCase):
    def test_consumers_read_everything_under_a_tiny_fetch_max_bytes(self):
        # fetch.max.bytes=1024 against 64 KiB over 4 partitions: every response
        # carries about one batch, so a consumer needs many fetches and each
        # partition must keep getting its turn.
        b = self.broker(name="tinycap", overrides={"fetch.max.bytes": "1024"})
        topic = "tinycap"
        clients.create_topic(b.bootstrap, topic, 4)
        msgs = [{"i": i, "partition": i % 4, "key": f"k{i}".encode(), "value": (b"%06d" % i) * 42,
                 "headers": [], "ts": harness.BASE_TS + i} for i in range(256)]  # 256 x 252 B = 63 KiB
        clients.produce(b.bootstrap, topic, msgs, extra={"linger.ms": 5, "batch.size": 1024})
        exp = harness.by_partition(msgs, 4)
        # librdkafka (sessionless fetches; it rotates its own request order).
        got = clients.consume(b.bootstrap, topic, {p: len(v) for p, v in exp.items()})
        clients.check_partitions(self, exp, got)
        # kafka-python, asking for the default 50 MiB per fetch.
        kc = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None, enable_auto_commit=False,
                           fetch_max_wait_ms=100, api_version_auto_timeout_ms=10000, request_timeout_ms=15000)
        try:
            kc.assign([KTP(topic, p) for p in range(4)])
            kc.seek_to_beginning()
            kgot = {p: [] for p in range(4)}
            d = Deadline(60)
            while sum(map(len, kgot.values())) < len(msgs) and not d.expired():
                for tp, recs in kc.poll(timeout_ms=200).items():
                    kgot[tp.partition] += [r.value for r in recs]
            for p in range(4):
                self.assertEqual(kgot[p], [m["value"] for m in exp[p]], f"kafka-python, partition {p}")
        finally:
            kc.close(autocommit=False)
        b.stop()


if __name__ == "__main__":
    harness.main()
