#!/usr/bin/python3
"""Replication throttles (KIP-73, issue 16) on a real ZooKeeper and real brokers:
leader.replication.throttled.rate and follower.replication.throttled.rate set at
runtime through AlterConfigs on broker resources (confluent_kafka), applied by
every broker from ZooKeeper's config change notifications, and the topic's
leader/follower.replication.throttled.replicas naming the replicas they hold back.

A follower that was down comes back 12 MiB behind. Throttled at 2 MiB/s it copies
at that rate (within 20%, measured on its log directory after the first burst the
rate window allows); unthrottled, the same catch-up is many times faster. Each
test starts its own cluster and kills every process it started by PID at the end
(Cluster.close)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
import clients  # noqa: E402
from cluster import Cluster  # noqa: E402
from test_cluster import create_replicated, partition_md  # noqa: E402

from confluent_kafka.admin import ConfigResource  # noqa: E402

MiB = 1 << 20
RATE = 2 * MiB
VALUE = 100 * 1024


def log_bytes(b: harness.Broker, topic: str, partition: int) -> int:
    d = os.path.join(b.data_dir, f"{topic}-{partition}")
    if not os.path.isdir(d):
        return 0
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".log"))


class ReplicationThrottleTests(harness.BrokerTestCase):
    def cluster(self, **kw) -> Cluster:
        c = Cluster(3, **kw)
        self.addCleanup(c.close)
        return c

    def alter(self, c: Cluster, res: ConfigResource, via: int):
        a = clients.admin(c.broker(via).bootstrap)
        got = clients.wait_futures(a.alter_configs([res]), 30)
        self.assertEqual(got, {res: None})

    def described(self, c: Cluster, broker_id: int, key: str):
        a = clients.admin(c.broker(broker_id).bootstrap)
        r = ConfigResource("broker", str(broker_id))
        entry = clients.wait_futures(a.describe_configs([r]), 30)[r][key]
        return entry.value, entry.source

    def behind_by(self, c: Cluster, topic: str, leader: int, follower: int) -> int:
        """Stops `follower`, writes 12 MiB through `leader`, returns the bytes written."""
        c.broker(follower).stop(timeout=30)
        others = ",".join(c.broker(i).bootstrap for i in (1, 2, 3) if i != follower)
        wait_until(lambda: list(partition_md(others, topic, 0).isrs) == [leader], 30, "the ISR down to the leader")
        n = 12 * MiB // VALUE
        msgs = [{"value": os.urandom(VALUE), "key": None, "headers": None, "partition": 0, "ts": 0} for _ in range(n)]
        clients.produce(others, topic, msgs, extra={"linger.ms": 5, "compression.type": "none"}, timeout=60)
        return log_bytes(c.broker(leader), topic, 0)

    def catch_up(self, c: Cluster, topic: str, follower: int, total: int, timeout: float) -> list:
        """Starts the follower; [(seconds, bytes on its disk)] until it holds `total`."""
        b = c.broker(follower)
        b.start(port=b.port)
        t0 = time.monotonic()
        samples = []

        def done():
            samples.append((time.monotonic() - t0, log_bytes(b, topic, 0)))
            return samples[-1][1] >= total
        wait_until(done, timeout, f"broker {follower} to copy {total} bytes", interval=0.1)
        return samples

    def test_throttled_catch_up_keeps_to_the_rate(self):
        # Two windows of 1 s: the first burst the rate lets through is one window
        # (2 MiB), not Kafka's default ten.
        c = self.cluster(overrides={"replication.quota.window.num": "2", "auto.leader.rebalance.enable": "false"})
        create_replicated(c, "moving", 1, rf=2)
        md = partition_md(c.bootstrap, "moving", 0)
        leader, follower = md.leader, next(r for r in md.replicas if r != md.leader)

        # Unthrottled first: how fast this machine copies.
        total = self.behind_by(c, "moving", leader, follower)
        fast = self.catch_up(c, "moving", follower, total, 60)
        wait_until(lambda: sorted(partition_md(c.bootstrap, "moving", 0).isrs) == sorted([leader, follower]), 30,
                   "the follower back in the ISR")

        # The throttles: the leader's rate on the leader only, the follower's for
        # every broker (the default entity), both set through one broker each.
        self.alter(c, ConfigResource("broker", str(leader),
                                     set_config={"leader.replication.throttled.rate": str(RATE)}), leader)
        # librdkafka refuses a broker resource without an id: kafka-python sets the default.
        from kafka.admin import ConfigResource as KpResource, ConfigResourceType, KafkaAdminClient
        kp = KafkaAdminClient(bootstrap_servers=c.broker(follower).bootstrap, request_timeout_ms=30000)
        self.addCleanup(kp.close)
        resp = kp.alter_configs([KpResource(ConfigResourceType.BROKER, "",
                                            configs={"follower.replication.throttled.rate": str(RATE)})])
        self.assertEqual([r[0] for r in resp.resources], [0], resp)
        self.alter(c, ConfigResource("topic", "moving", set_config={
            "leader.replication.throttled.replicas": f"0:{leader}",
            "follower.replication.throttled.replicas": f"0:{follower}"}), leader)
        self.assertEqual(self.described(c, leader, "leader.replication.throttled.rate"),
                         (str(RATE), 2))  # DYNAMIC_BROKER_CONFIG
        wait_until(lambda: self.described(c, leader, "follower.replication.throttled.rate")[0] == str(RATE), 20,
                   "the default follower throttle in force on the leader's broker")
        self.assertEqual(self.described(c, leader, "follower.replication.throttled.rate")[1], 3)  # DEFAULT

        total2 = self.behind_by(c, "moving", leader, follower)
        slow = self.catch_up(c, "moving", follower, total2, 90)
        # The rate between 4 MiB and 10 MiB copied: past the first burst.
        t_a = next(t for t, n in slow if n >= total + 4 * MiB)
        t_b = next(t for t, n in slow if n >= total + 10 * MiB)
        rate = 6 * MiB / (t_b - t_a)
        fast_s = fast[-1][0]
        slow_s = slow[-1][0]
        sys.stderr.write(f"\ncatch-up of 12 MiB: {fast_s:.2f} s unthrottled, {slow_s:.2f} s at 2 MiB/s "
                         f"(measured {rate / MiB:.2f} MiB/s)\n")
        self.assertGreater(rate, 0.8 * RATE)
        self.assertLess(rate, 1.2 * RATE)
        self.assertLess(fast_s * 2, slow_s, "the throttle made no difference")
        wait_until(lambda: sorted(partition_md(c.bootstrap, "moving", 0).isrs) == sorted([leader, follower]), 30,
                   "the throttled follower back in the ISR")

        # Throttles removed (AlterConfigs replaces the entity's set): defaults again.
        self.alter(c, ConfigResource("broker", str(leader), set_config={}), leader)
        wait_until(lambda: self.described(c, leader, "leader.replication.throttled.rate")[1] == 5, 20,
                   "the leader throttle back to its default")

    def test_throttled_move_keeps_to_the_rate_and_cleans_up(self):
        """`strata cluster rebalance --execute --throttle`: a 12 MiB partition moves
        onto an empty broker at the rate asked, and the throttles are gone after."""
        c = self.cluster(overrides={"replication.quota.window.num": "2", "auto.leader.rebalance.enable": "false"})
        a = clients.admin(c.bootstrap)
        from confluent_kafka.admin import NewTopic
        got = clients.wait_futures(a.create_topics([NewTopic("big", num_partitions=1, replica_assignment=[[1]])]), 30)
        self.assertEqual(got, {"big": None})
        wait_until(lambda: (p := partition_md(c.bootstrap, "big", 0)) is not None and p.leader == 1, 30, "big led")
        n = 12 * MiB // VALUE
        clients.produce(c.bootstrap, "big", [{"value": os.urandom(VALUE), "key": None, "headers": None,
                                               "partition": 0, "ts": 0} for _ in range(n)],
                        extra={"linger.ms": 5}, timeout=60)
        total = log_bytes(c.broker(1), "big", 0)
        import subprocess
        import threading
        samples = []
        stop = threading.Event()

        def watch():  # the new replica's size as it grows, from its log directory
            t0 = time.monotonic()
            while not stop.is_set():
                samples.append((time.monotonic() - t0, max(log_bytes(c.broker(2), "big", 0),
                                                           log_bytes(c.broker(3), "big", 0))))
                stop.wait(0.1)
        w = threading.Thread(target=watch, daemon=True)
        w.start()
        r = subprocess.run([harness.STRATA_BIN, "cluster", "rebalance", "--bootstrap-server", c.bootstrap,
                            "--topics", "big", "--brokers", "2,3", "--execute", "--throttle", str(RATE),
                            "--progress-ms", "500"],
                           capture_output=True, text=True, timeout=120)
        stop.set()
        w.join(10)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("throttled to 2.0 MiB/s", r.stdout)
        self.assertIn("Throttles removed.", r.stdout)
        t_a = next(t for t, b in samples if b >= 4 * MiB)
        t_b = next(t for t, b in samples if b >= 10 * MiB)
        rate = 6 * MiB / (t_b - t_a)
        sys.stderr.write(f"\nthrottled move of {total / MiB:.1f} MiB at 2 MiB/s: measured {rate / MiB:.2f} MiB/s\n")
        self.assertGreater(rate, 0.8 * RATE)
        self.assertLess(rate, 1.2 * RATE)
        # The throttles are gone: topic lists and broker rates back to their defaults.
        tres = ConfigResource("topic", "big")
        cfg = clients.wait_futures(a.describe_configs([tres]), 30)[tres]
        self.assertEqual(cfg["leader.replication.throttled.replicas"].value, "")
        self.assertEqual(cfg["follower.replication.throttled.replicas"].value, "")
        for b in (1, 2, 3):
            self.assertEqual(self.described(c, b, "leader.replication.throttled.rate")[1], 5)  # DEFAULT_CONFIG

        # Back to broker 1 with kafka-reassign-partitions.sh's --throttle: set with
        # --execute, in force during the move, removed by --verify once it is done.
        now = partition_md(c.bootstrap, "big", 0).replicas[0]
        plan = os.path.join(c.broker(1).tmp, "back.json")
        with open(plan, "w") as f:
            f.write('{"version":1,"partitions":[{"topic":"big","partition":0,"replicas":[1]}]}')

        def reassign(*args):
            return subprocess.run([harness.STRATA_BIN, "topic", "reassign", "--bootstrap-server", c.bootstrap,
                                   "--reassignment-json-file", plan, *args], capture_output=True, text=True, timeout=60)
        r = reassign("--execute", "--throttle", str(50 * MiB))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("You must run --verify periodically", r.stdout)
        self.assertEqual(self.described(c, now, "leader.replication.throttled.rate"), (str(50 * MiB), 2))
        wait_until(lambda: list(partition_md(c.bootstrap, "big", 0).replicas) == [1], 60, "big back on broker 1")
        r = reassign("--verify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Clearing broker-level throttles on brokers 1,2,3", r.stdout)
        for b in (1, 2, 3):
            self.assertEqual(self.described(c, b, "leader.replication.throttled.rate")[1], 5)
        cfg = clients.wait_futures(a.describe_configs([tres]), 30)[tres]
        self.assertEqual(cfg["leader.replication.throttled.replicas"].value, "")

    def test_only_runtime_settings_change_at_runtime(self):
        c = self.cluster()
        a = clients.admin(c.broker(1).bootstrap)
        res = ConfigResource("broker", "1", set_config={"num.partitions": "3"})
        err = clients.kafka_error(clients.wait_futures(a.alter_configs([res]), 30)[res])
        self.assertIsNotNone(err)
        self.assertIn("cannot be changed at runtime", err.str())
        res = ConfigResource("broker", "1", set_config={"leader.replication.throttled.rate": "-5"})
        err = clients.kafka_error(clients.wait_futures(a.alter_configs([res]), 30)[res])
        self.assertIsNotNone(err)
        self.assertIn("leader.replication.throttled.rate", err.str())
        clients.create_topic(c.bootstrap, "t1", 1)
        res = ConfigResource("topic", "t1", set_config={"leader.replication.throttled.replicas": "0:x"})
        err = clients.kafka_error(clients.wait_futures(a.alter_configs([res]), 30)[res])
        self.assertIsNotNone(err)
        self.assertIn("partition:broker", err.str())


if __name__ == "__main__":
    harness.main()
