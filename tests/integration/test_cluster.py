#!/usr/bin/python3
"""Strata as a cluster (issue 14): a real ZooKeeper and three real brokers on
loopback, driven by real clients (librdkafka through confluent_kafka, kafka-python).

Each test starts its own cluster (ZooKeeper about 1.5 s, brokers about 0.2 s each)
and kills every process it started by PID at the end."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Deadline, wait_until  # noqa: E402
import clients  # noqa: E402
from cluster import Cluster  # noqa: E402

from confluent_kafka import KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import NewTopic  # noqa: E402


def partition_md(bootstrap: str, topic: str, partition: int):
    md = clients.admin(bootstrap).list_topics(topic=topic, timeout=5).topics.get(topic)
    if md is None or md.error is not None or partition not in md.partitions:
        return None
    return md.partitions[partition]


def create_replicated(c: Cluster, topic: str, partitions: int, rf: int = 3, config: dict | None = None,
                      via: int = 1):
    """Creates `topic` through broker `via` and waits until every broker's metadata shows
    each partition led with a full ISR (the controller's UpdateMetadata reached all)."""
    a = clients.admin(c.broker(via).bootstrap)
    res = clients.wait_futures(a.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=rf,
                                                         config=config or {})], operation_timeout=30,
                                               request_timeout=30), 40)
    if res[topic] is not None:
        raise AssertionError(f"creating {topic}: {res[topic]!r}")
    wait_until(lambda: all((p := partition_md(b.bootstrap, topic, i)) is not None and p.leader >= 0
                           and len(p.isrs) == rf for i in range(partitions) for b in c.brokers if b.alive()),
               30, f"{topic}: every partition led with a full ISR, on every broker")


class ClusterTests(harness.BrokerTestCase):
    def cluster(self, n: int = 3, **kw) -> Cluster:
        c = Cluster(n, **kw)
        self.addCleanup(c.close)
        return c

    def test_replicated_topic_serves_clients_through_any_broker(self):
        c = self.cluster()
        create_replicated(c, "orders", 3, config={"min.insync.replicas": "2"})
        # kafka-python creates one too, through another broker.
        from kafka.admin import KafkaAdminClient, NewTopic as KpNewTopic
        kp = KafkaAdminClient(bootstrap_servers=c.broker(2).bootstrap, request_timeout_ms=30000)
        kp.create_topics([KpNewTopic("audit", num_partitions=2, replication_factor=3)])
        kp.close()
        wait_until(lambda: all((p := partition_md(c.bootstrap, "audit", i)) is not None and p.leader >= 0
                               for i in range(2)), 30, "audit led")
        # Every broker reports the same leaders, replicas and ISR.
        for i in range(3):
            views = [partition_md(b.bootstrap, "orders", i) for b in c.brokers]
            self.assertTrue(all(v is not None for v in views), views)
            self.assertEqual({v.leader for v in views}, {views[0].leader})
            self.assertEqual(sorted(views[0].replicas), [1, 2, 3])
        msgs = harness.make_messages(600, 3, seed="cluster")
        offsets = clients.produce(c.broker(3).bootstrap, "orders", msgs, extra={"enable.idempotence": True})
        self.assertEqual(len(offsets), 600)
        counts = {p: sum(1 for m in msgs if m["partition"] == p) for p in range(3)}
        got = clients.consume(c.broker(2).bootstrap, "orders", counts, timeout=60)
        for p in range(3):
            self.assertEqual([r["value"] for r in got[p]], [m["value"] for m in msgs if m["partition"] == p])
        # Every replica has every message: the followers caught up (ISR stayed full).
        wait_until(lambda: all(len(partition_md(c.bootstrap, "orders", i).isrs) == 3 for i in range(3)), 30,
                   "ISR of 3 after the load")

        # A client's own replica assignment is kept (kafka-topics.sh --replica-assignment);
        # one naming an unknown broker, a broker twice or uneven replica counts is refused.
        a = clients.admin(c.bootstrap)
        got = clients.wait_futures(a.create_topics([NewTopic("placed", num_partitions=2,
                                                             replica_assignment=[[3, 1], [2, 3]])]), 30)
        self.assertEqual(got, {"placed": None})
        wait_until(lambda: [list(p.replicas) if (p := partition_md(c.bootstrap, "placed", i)) else None
                            for i in range(2)] == [[3, 1], [2, 3]], 30, "placed's replicas as assigned")
        self.assertEqual(partition_md(c.bootstrap, "placed", 0).leader, 3)
        for bad in ([[1, 9]], [[1, 1]], [[1, 2], [3]]):
            got = clients.wait_futures(a.create_topics([NewTopic("bad", num_partitions=len(bad),
                                                                 replica_assignment=bad)]), 30)
            self.assertEqual(clients.kafka_error(got["bad"]).code(), KafkaError.INVALID_REPLICA_ASSIGNMENT, bad)

        # A config changed through one broker is in force on every broker (Kafka's
        # /config/changes notifications): each describes it, and every partition's
        # leader refuses a record over the new max.message.bytes.
        from confluent_kafka.admin import ConfigResource
        res = ConfigResource("topic", "orders", set_config={"min.insync.replicas": "2", "max.message.bytes": "2000"})
        a1 = clients.admin(c.broker(1).bootstrap)  # kept: its futures die with it
        self.assertEqual(clients.wait_futures(a1.alter_configs([res]), 30), {res: None})

        def described(b) -> str | None:
            r = ConfigResource("topic", "orders")
            a = clients.admin(b.bootstrap)
            got = clients.wait_futures(a.describe_configs([r]), 10)[r]
            return got["max.message.bytes"].value
        for b in c.brokers:
            wait_until(lambda: described(b) == "2000", 20, f"{b.name} to describe max.message.bytes=2000")
        errors = {}
        p = Producer(clients.base_conf(c.bootstrap) | {"acks": "all", "message.timeout.ms": 20000})
        for i in range(3):
            p.produce("orders", value=b"x" * 5000, partition=i,
                      on_delivery=lambda err, m: errors.__setitem__(m.partition(), err))
        p.flush(30)
        self.assertEqual(sorted(errors), [0, 1, 2])
        self.assertEqual({e.code() if e else None for e in errors.values()}, {KafkaError.MSG_SIZE_TOO_LARGE}, errors)

    def test_killed_leader_loses_no_acknowledged_message_and_rejoins(self):
        c = self.cluster()
        create_replicated(c, "ledger", 1, config={"min.insync.replicas": "2"}, via=2)
        leader = partition_md(c.bootstrap, "ledger", 0).leader
        p = Producer(clients.base_conf(c.bootstrap) | {"acks": "all", "enable.idempotence": True,
                                                       "message.timeout.ms": 60000, "linger.ms": 5})
        acked, failed = [], []

        def cb(err, m):
            (failed if err is not None else acked).append((m.value(), m.offset()))

        stop = threading.Event()

        def run():
            i = 0
            while not stop.is_set():
                try:
                    p.produce("ledger", value=b"v%06d" % i, partition=0, on_delivery=cb)
                    i += 1
                except BufferError:
                    pass
                p.poll(0.002)
            p.flush(60)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        wait_until(lambda: len(acked) >= 300, 30, "300 acknowledged before the kill")
        t0 = time.monotonic()
        c.broker(leader).kill9()
        wait_until(lambda: (m := partition_md(c.bootstrap, "ledger", 0)) is not None and m.leader not in (-1, leader),
                   20, "a new leader")
        n = len(acked)
        wait_until(lambda: len(acked) >= n + 300, 60, "acknowledged writes through the new leader")
        failover_s = time.monotonic() - t0
        stop.set()
        t.join(90)
        self.assertFalse(t.is_alive())
        self.assertEqual(failed, [], f"{len(failed)} delivery failures")
        # Every acknowledged message is there exactly once (idempotence), in order.
        total = max(o for _, o in acked) + 1
        got = clients.consume(c.bootstrap, "ledger", {0: total}, timeout=60)[0]
        values = [r["value"] for r in got]
        self.assertEqual(len(values), len(set(values)), "duplicates after failover")
        self.assertTrue({v for v, _ in acked} <= set(values), "acknowledged messages missing")
        # The killed broker comes back, truncates, catches up and rejoins the ISR.
        c.broker(leader).restart(same_port=True)
        wait_until(lambda: leader in partition_md(c.bootstrap, "ledger", 0).isrs, 40, "the old leader back in the ISR")
        sys.stderr.write(f"\nfailover with 300 more acks: {failover_s:.1f} s\n")

    def test_two_of_three_down_refuses_acks_all_with_not_enough_replicas(self):
        c = self.cluster()
        create_replicated(c, "strict", 1, config={"min.insync.replicas": "2"}, via=3)
        leader = partition_md(c.bootstrap, "strict", 0).leader
        others = [b for b in (1, 2, 3) if b != leader]
        for b in others:
            c.broker(b).kill9()
        # The leader's ISR shrinks to itself after replica.lag.time.max.ms.
        wait_until(lambda: partition_md(c.broker(leader).bootstrap, "strict", 0).isrs == [leader], 40, "ISR [leader]")
        p = Producer(clients.base_conf(c.broker(leader).bootstrap) | {"acks": "all", "message.timeout.ms": 5000,
                                                                      "retries": 0})
        errs = []
        p.produce("strict", value=b"x", partition=0, on_delivery=lambda e, m: errs.append(e))
        p.flush(20)
        self.assertEqual(len(errs), 1)
        self.assertIsNotNone(errs[0])
        self.assertEqual(errs[0].code(), KafkaError.NOT_ENOUGH_REPLICAS, errs[0])

    def test_controller_failover_and_later_broker_deaths_are_handled(self):
        c = self.cluster()
        create_replicated(c, "spread", 3)
        ctl = clients.admin(c.bootstrap).list_topics(timeout=5).controller_id
        self.assertIn(ctl, (1, 2, 3))
        c.broker(ctl).kill9()
        wait_until(lambda: clients.admin(c.bootstrap).list_topics(timeout=5).controller_id not in (-1, ctl), 30,
                   "a new controller")
        # The new controller handles a broker death: partitions it led get new leaders.
        new_ctl = clients.admin(c.bootstrap).list_topics(timeout=5).controller_id
        victim = next(b for b in (1, 2, 3) if b not in (ctl, new_ctl))
        c.broker(victim).kill9()
        wait_until(lambda: all((p := partition_md(c.bootstrap, "spread", i)) is not None and p.leader == new_ctl
                               for i in range(3)), 30, "every partition led by the last broker")


    def test_bad_configuration_gets_one_line_naming_the_problem(self):
        c = self.cluster(2)
        # A broker.id already registered.
        dup = harness.Broker(overrides={"broker.id": "1", "zookeeper.connect": c.zk.connect_string + "/strata"},
                             name="dup", start=False)
        self.addCleanup(dup.close)
        with self.assertRaises(harness.BrokerStartError) as e:
            dup.start()
        self.assertIn("broker.id 1", str(e.exception))
        self.assertIn("already registered", str(e.exception))
        # An unreachable ZooKeeper: refused within zookeeper.connection.timeout.ms, not a hang.
        lost = harness.Broker(overrides={"zookeeper.connect": "127.0.0.1:1", "zookeeper.connection.timeout.ms": "1500"},
                              name="nozk", start=False)
        self.addCleanup(lost.close)
        t0 = time.monotonic()
        with self.assertRaises(harness.BrokerStartError) as e:
            lost.start()
        self.assertLess(time.monotonic() - t0, 15)
        self.assertIn("no ZooKeeper server answered at '127.0.0.1:1'", str(e.exception))
        # A replication factor larger than the live brokers.
        a = clients.admin(c.bootstrap)
        res = clients.wait_futures(a.create_topics([NewTopic("too-wide", num_partitions=1, replication_factor=3)],
                                                   request_timeout=20), 30)
        err = clients.kafka_error(res["too-wide"])
        self.assertIsNotNone(err, res)
        self.assertEqual(err.code(), KafkaError.INVALID_REPLICATION_FACTOR)
        self.assertIn("larger than available brokers: 2", err.str())


if __name__ == "__main__":
    harness.main()
