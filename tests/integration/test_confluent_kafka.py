#!/usr/bin/python3
"""confluent_kafka (librdkafka) against a real strata broker: produce/consume
round trips for every codec (and with the idempotent producer), and the
AdminClient: create with configs, describe/alter configs, create partitions,
delete, validate_only, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402

from confluent_kafka import KafkaError, TopicPartition  # noqa: E402
from confluent_kafka.admin import ConfigResource, NewPartitions, NewTopic  # noqa: E402
from kafka import KafkaAdminClient  # noqa: E402
from kafka.admin import NewTopic as KNewTopic  # noqa: E402
from kafka.errors import InvalidPartitionsError  # noqa: E402

PARTITIONS = 3
N = 600


class ConfluentRoundTrip(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker(name="confluent")

    @classmethod
    def tearDownClass(cls):
        cls.stop_shared_broker()

    def _roundtrip(self, codec, topic=None, extra=None):
        topic = topic or f"ck-{codec}"
        clients.create_topic(self.b.bootstrap, topic, PARTITIONS)
        msgs = harness.make_messages(N, PARTITIONS, seed=f"ck-{topic}-", big_every=150)
        offsets = clients.produce(self.b.bootstrap, topic, msgs, codec=codec, extra=extra)
        # Acknowledged offsets: contiguous from 0 per partition, in send order.
        nxt = {p: 0 for p in range(PARTITIONS)}
        for m, off in zip(msgs, offsets):
            self.assertEqual(off, nxt[m["partition"]], f"acknowledged offset of message {m['i']}")
            nxt[m["partition"]] += 1
        expected = harness.by_partition(msgs, PARTITIONS)
        got = clients.consume(self.b.bootstrap, topic, {p: len(v) for p, v in expected.items()})
        clients.check_partitions(self, expected, got)

    def test_none(self):
        self._roundtrip("none")

    def test_gzip(self):
        self._roundtrip("gzip")

    def test_snappy(self):
        self._roundtrip("snappy")

    def test_lz4(self):
        self._roundtrip("lz4")

    def test_zstd(self):
        self._roundtrip("zstd")

    def test_idempotent_producer_lz4(self):
        # InitProducerId + sequence numbers; 5 in flight is allowed with idempotence.
        self._roundtrip("lz4", topic="ck-idempotent",
                        extra={"enable.idempotence": True, "max.in.flight.requests.per.connection": 5})

    def test_watermarks(self):
        topic = "ck-watermarks"
        clients.create_topic(self.b.bootstrap, topic, 2)
        clients.produce(self.b.bootstrap, topic, harness.make_messages(40, 2, seed="wm-"))
        c = clients.consumer(self.b.bootstrap)
        try:
            for p in range(2):
                lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                self.assertEqual((lo, hi), (0, 20), f"watermarks of partition {p}")
        finally:
            c.close()

    def test_offsets_for_times_across_batches(self):
        # One batch per message (flush after each): the answer is exact even at
        # batch granularity.
        topic = "ck-times-batches"
        clients.create_topic(self.b.bootstrap, topic, 1)
        msgs = harness.make_messages(12, 1, seed="tb-")
        for m in msgs:
            clients.produce(self.b.bootstrap, topic, [m])
        c = clients.consumer(self.b.bootstrap)
        try:
            for target, want in ((harness.BASE_TS + 5, 5), (harness.BASE_TS - 100, 0), (harness.BASE_TS + 11, 11),
                                 (harness.BASE_TS + 99, -1)):
                (r,) = c.offsets_for_times([TopicPartition(topic, 0, target)], timeout=10)
                self.assertEqual((r.error, r.offset), (None, want), f"offsets_for_times({target - harness.BASE_TS:+d})")
        finally:
            c.close()

    def test_offsets_for_times_within_a_batch(self):
        topic = "ck-times"
        clients.create_topic(self.b.bootstrap, topic, 2)
        clients.produce(self.b.bootstrap, topic, harness.make_messages(40, 2, seed="ts-"))  # one batch per partition
        c = clients.consumer(self.b.bootstrap)
        try:
            # Message i has timestamp BASE_TS + i; partition 1 holds odd i, so
            # the first with timestamp >= BASE_TS + 10 is i = 11 at offset 5.
            (r,) = c.offsets_for_times([TopicPartition(topic, 1, harness.BASE_TS + 10)], timeout=10)
            self.assertEqual((r.error, r.offset), (None, 5))
        finally:
            c.close()


class ConfluentAdmin(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker(name="confluent-admin")
        cls.a = clients.admin(cls.b.bootstrap)

    @classmethod
    def tearDownClass(cls):
        del cls.a  # no admin client left reconnecting to a stopped broker
        cls.stop_shared_broker()

    def describe(self, topic) -> dict:
        res = clients.wait_futures(self.a.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)],
                                                           request_timeout=15))
        (cfg,) = res.values()
        self.assertNotIsInstance(cfg, Exception, f"describe_configs {topic}")
        return cfg

    def topics(self) -> dict:
        return self.a.list_topics(timeout=10).topics

    def create(self, topics, **kw):
        return clients.wait_futures(self.a.create_topics(topics, operation_timeout=15, request_timeout=15, **kw))

    def assert_error(self, result, code, what):
        err = clients.kafka_error(result)
        self.assertIsNotNone(err, f"{what}: expected {KafkaError(code).name()}, got {result!r}")
        self.assertEqual(err.code(), code, f"{what}: expected {KafkaError(code).name()}, got {err}")

    def test_create_with_configs_and_describe(self):
        res = self.create([NewTopic("adm-cfg", num_partitions=2, replication_factor=1,
                                    config={"retention.ms": "3600000", "cleanup.policy": "delete"})])
        self.assertIsNone(res["adm-cfg"])
        md = self.topics()["adm-cfg"]
        self.assertEqual(sorted(md.partitions), [0, 1])
        cfg = self.describe("adm-cfg")
        self.assertEqual(cfg["retention.ms"].value, "3600000")
        self.assertFalse(cfg["retention.ms"].is_default)
        self.assertEqual(cfg["cleanup.policy"].value, "delete")
        # Something not set reports the default.
        self.assertEqual(cfg["max.message.bytes"].value, "1048588")
        self.assertTrue(cfg["max.message.bytes"].is_default)

    def test_alter_configs(self):
        res = self.create([NewTopic("adm-alter", num_partitions=1, replication_factor=1,
                                    config={"retention.ms": "3600000"})])
        self.assertIsNone(res["adm-alter"])
        r = ConfigResource(ConfigResource.Type.TOPIC, "adm-alter", set_config={"retention.ms": "7200000",
                                                                               "segment.bytes": "1048576"})
        out = clients.wait_futures(self.a.alter_configs([r], request_timeout=15))
        for k, v in out.items():
            self.assertIsNone(v, f"alter_configs {k}")
        cfg = self.describe("adm-alter")
        self.assertEqual(cfg["retention.ms"].value, "7200000")
        self.assertEqual(cfg["segment.bytes"].value, "1048576")

    def test_alter_configs_replaces_the_whole_set(self):
        # The legacy AlterConfigs API replaces a topic's overrides: one not named
        # in the request goes back to its default (Kafka's semantics).
        res = self.create([NewTopic("adm-replace", num_partitions=1, replication_factor=1,
                                    config={"retention.ms": "3600000", "max.message.bytes": "200000"})])
        self.assertIsNone(res["adm-replace"])
        r = ConfigResource(ConfigResource.Type.TOPIC, "adm-replace", set_config={"retention.ms": "1800000"})
        out = clients.wait_futures(self.a.alter_configs([r], request_timeout=15))
        self.assertEqual(list(out.values()), [None])
        cfg = self.describe("adm-replace")
        self.assertEqual(cfg["retention.ms"].value, "1800000")
        self.assertEqual(cfg["max.message.bytes"].value, "1048588")
        self.assertTrue(cfg["max.message.bytes"].is_default)

    def test_alter_configs_validate_only_changes_nothing(self):
        res = self.create([NewTopic("adm-alter-vo", num_partitions=1, replication_factor=1,
                                    config={"retention.ms": "3600000"})])
        self.assertIsNone(res["adm-alter-vo"])
        r = ConfigResource(ConfigResource.Type.TOPIC, "adm-alter-vo", set_config={"retention.ms": "60000"})
        out = clients.wait_futures(self.a.alter_configs([r], request_timeout=15, validate_only=True))
        self.assertEqual(list(out.values()), [None])
        self.assertEqual(self.describe("adm-alter-vo")["retention.ms"].value, "3600000")

    def test_alter_configs_invalid_value(self):
        res = self.create([NewTopic("adm-alter-bad", num_partitions=1, replication_factor=1)])
        self.assertIsNone(res["adm-alter-bad"])
        r = ConfigResource(ConfigResource.Type.TOPIC, "adm-alter-bad", set_config={"retention.ms": "not-a-number"})
        out = clients.wait_futures(self.a.alter_configs([r], request_timeout=15))
        (v,) = out.values()
        self.assert_error(v, KafkaError.INVALID_CONFIG, "alter retention.ms=not-a-number")
        self.assertEqual(self.describe("adm-alter-bad")["retention.ms"].value, "604800000")

    def test_create_partitions(self):
        self.assertIsNone(self.create([NewTopic("adm-parts", num_partitions=2, replication_factor=1)])["adm-parts"])
        out = clients.wait_futures(self.a.create_partitions([NewPartitions("adm-parts", 5)], operation_timeout=15,
                                                            request_timeout=15))
        self.assertEqual(out, {"adm-parts": None})
        harness.wait_until(lambda: sorted(self.topics()["adm-parts"].partitions) == [0, 1, 2, 3, 4], 15,
                           "5 partitions in metadata")
        # The new partitions take writes.
        msgs = [dict(m, partition=4) for m in harness.make_messages(5, 1, seed="np-")]
        offs = clients.produce(self.b.bootstrap, "adm-parts", msgs)
        self.assertEqual(offs, [0, 1, 2, 3, 4])

    def test_create_partitions_fewer_is_invalid_partitions(self):
        self.assertIsNone(self.create([NewTopic("adm-shrink", num_partitions=3, replication_factor=1)])["adm-shrink"])
        out = clients.wait_futures(self.a.create_partitions([NewPartitions("adm-shrink", 2)], operation_timeout=15,
                                                            request_timeout=15))
        self.assert_error(out["adm-shrink"], KafkaError.INVALID_PARTITIONS, "shrinking 3 -> 2 partitions")
        self.assertEqual(len(self.topics()["adm-shrink"].partitions), 3)

    def test_delete_topic(self):
        self.assertIsNone(self.create([NewTopic("adm-del", num_partitions=2, replication_factor=1)])["adm-del"])
        self.assertIn("adm-del", self.topics())
        out = clients.wait_futures(self.a.delete_topics(["adm-del"], operation_timeout=15, request_timeout=15))
        self.assertEqual(out, {"adm-del": None})
        harness.wait_until(lambda: "adm-del" not in self.topics(), 15, "adm-del gone from list_topics")
        # Deleting it again: UNKNOWN_TOPIC_OR_PART.
        out = clients.wait_futures(self.a.delete_topics(["adm-del"], operation_timeout=15, request_timeout=15))
        self.assert_error(out["adm-del"], KafkaError.UNKNOWN_TOPIC_OR_PART, "deleting a deleted topic")

    def test_validate_only_creates_nothing(self):
        res = self.create([NewTopic("adm-vo", num_partitions=4, replication_factor=1)], validate_only=True)
        self.assertEqual(res, {"adm-vo": None})
        self.assertNotIn("adm-vo", self.topics())
        # An invalid request is still rejected with validate_only.
        res = self.create([NewTopic("adm-vo", num_partitions=1, replication_factor=3)], validate_only=True)
        self.assert_error(res["adm-vo"], KafkaError.INVALID_REPLICATION_FACTOR, "validate_only with rf=3 on 1 broker")
        self.assertNotIn("adm-vo", self.topics())

    def test_create_existing_is_topic_already_exists(self):
        self.assertIsNone(self.create([NewTopic("adm-dup", num_partitions=1, replication_factor=1)])["adm-dup"])
        res = self.create([NewTopic("adm-dup", num_partitions=1, replication_factor=1)])
        self.assert_error(res["adm-dup"], KafkaError.TOPIC_ALREADY_EXISTS, "creating adm-dup twice")

    def test_create_invalid_partitions(self):
        # librdkafka checks num_partitions >= 1 on the client for most values;
        # whatever reaches the broker must come back INVALID_PARTITIONS.
        for n in (0, -5):
            try:
                fs = self.a.create_topics([NewTopic(f"adm-badparts{-n}", num_partitions=n, replication_factor=1)],
                                          operation_timeout=15, request_timeout=15)
            except (ValueError, Exception) as e:  # rejected before sending: nothing to check on the broker
                self.assertIn("partition", str(e).lower())
                continue
            res = clients.wait_futures(fs)
            self.assert_error(res[f"adm-badparts{-n}"], KafkaError.INVALID_PARTITIONS, f"num_partitions={n}")
            self.assertNotIn(f"adm-badparts{-n}", self.topics())

    def test_create_invalid_topic_names(self):
        for name in ("bad/name", "a" * 250, "..", "spaces not allowed"):
            res = self.create([NewTopic(name, num_partitions=1, replication_factor=1)])
            self.assert_error(res[name], KafkaError.TOPIC_EXCEPTION, f"topic name {name[:20]!r}")
        self.assertFalse(any(t.startswith("bad/") or t == ".." for t in self.topics()))

    def test_describe_broker_configs(self):
        res = clients.wait_futures(self.a.describe_configs([ConfigResource(ConfigResource.Type.BROKER, "0")],
                                                           request_timeout=15))
        (cfg,) = res.values()
        self.assertNotIsInstance(cfg, Exception)
        self.assertEqual(cfg["num.partitions"].value, "1")
        self.assertEqual(cfg["message.max.bytes"].value, "1048588")
        self.assertEqual(cfg["auto.create.topics.enable"].value, "true")

    def test_create_invalid_partitions_on_the_wire(self):
        # kafka-python's admin sends num_partitions=0 as is: the broker must say INVALID_PARTITIONS (37).
        ka = KafkaAdminClient(bootstrap_servers=self.b.bootstrap, request_timeout_ms=10000,
                              api_version_auto_timeout_ms=10000)
        try:
            # kafka-python raises the error class of the topic's error code.
            with self.assertRaises(InvalidPartitionsError):
                ka.create_topics([KNewTopic("adm-zero", num_partitions=0, replication_factor=1)], timeout_ms=10000)
        finally:
            ka.close()
        self.assertNotIn("adm-zero", self.topics())


if __name__ == "__main__":
    harness.main()
