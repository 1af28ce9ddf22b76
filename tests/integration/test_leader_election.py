#!/usr/bin/python3
"""Leader balance (issue 16): ElectLeaders (KIP-460) through `strata cluster
elect-leaders`, and auto.leader.rebalance.enable, on a real ZooKeeper and real
brokers (cluster.py). No Debian client sends ElectLeaders (librdkafka 2.0,
confluent_kafka 1.9 and kafka-python 2.0 predate it), so the strata CLI is the
client; the cluster's state is read back with confluent_kafka's metadata.

  - preferred election after a broker restart returns every partition to its
    first replica; asked again, nothing needs electing;
  - the periodic check (auto.leader.rebalance.enable) does the same unasked;
  - an unclean election gives a partition whose only in-sync replica is dead an
    out-of-sync leader, which the topic's config alone would never elect;
  - errors: an unknown partition, a preferred replica that is down (exit 1, each
    named), a broker that is not the controller answers NOT_CONTROLLER (the CLI
    goes to the controller).

Each test starts its own cluster and kills every process it started by PID at the
end (Cluster.close)."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
import clients  # noqa: E402
from cluster import Cluster  # noqa: E402
from test_cluster import create_replicated, partition_md  # noqa: E402

from confluent_kafka import TopicPartition  # noqa: E402


def elect(bootstrap: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([harness.STRATA_BIN, "cluster", "elect-leaders", "--bootstrap-server", bootstrap,
                           "--timeout-ms", "30000", *args], capture_output=True, text=True, timeout=60)


def leaders(bootstrap: str, topic: str, n: int) -> dict:
    """{partition: (leader, replicas, isr)} from Metadata."""
    md = clients.admin(bootstrap).list_topics(topic=topic, timeout=10).topics[topic]
    return {i: (md.partitions[i].leader, list(md.partitions[i].replicas), sorted(md.partitions[i].isrs))
            for i in range(n)}


def all_preferred(bootstrap: str, topic: str, n: int) -> bool:
    return all(l == r[0] and len(isr) == len(r) for l, r, isr in leaders(bootstrap, topic, n).values())


class LeaderElectionTests(harness.BrokerTestCase):
    def cluster(self, n: int = 3, **kw) -> Cluster:
        c = Cluster(n, **kw)
        self.addCleanup(c.close)
        return c

    def restart_and_wait_in_sync(self, c: Cluster, broker_id: int, topic: str, n: int):
        """A controlled shutdown (its leaderships move away) and a start; returns once
        it is back in every ISR, still leading nothing."""
        c.broker(broker_id).restart(same_port=True)
        wait_until(lambda: all(len(isr) == len(r) for _, r, isr in leaders(c.bootstrap, topic, n).values()), 40,
                   f"broker {broker_id} back in every ISR of {topic}")

    def test_preferred_election_after_a_restart_and_its_errors(self):
        c = self.cluster(overrides={"auto.leader.rebalance.enable": "false"})
        create_replicated(c, "pref", 6)
        n = 6
        self.assertTrue(all_preferred(c.bootstrap, "pref", n), leaders(c.bootstrap, "pref", n))
        moved = leaders(c.bootstrap, "pref", n)[0][0]
        self.restart_and_wait_in_sync(c, moved, "pref", n)
        before = leaders(c.bootstrap, "pref", n)
        lost = sorted(p for p, (l, r, _) in before.items() if r[0] == moved)
        self.assertTrue(lost, before)
        self.assertTrue(all(before[p][0] != moved for p in lost), f"auto rebalance is off: {before}")

        # Asked through a broker that is not the controller: the CLI finds the controller.
        controller = clients.admin(c.bootstrap).list_topics(timeout=10).controller_id
        other = next(i for i in (1, 2, 3) if i != controller)
        r = elect(c.broker(other).bootstrap, "--all-topic-partitions")
        self.assertEqual(r.returncode, 0, r.stderr)
        names = ", ".join(f"pref-{p}" for p in lost)
        self.assertIn(f"Successfully completed leader election (PREFERRED) for partitions {names}", r.stdout)
        wait_until(lambda: all_preferred(c.bootstrap, "pref", n), 20, "every partition led by its first replica")

        # Nothing left to do: with --topic each is named as already elected.
        r = elect(c.bootstrap, "--topic", "pref", "--output", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(sorted(x["partition"] for x in out["results"]), sorted(f"pref-{i}" for i in range(n)))
        self.assertEqual({x["error"] for x in out["results"]}, {"ELECTION_NOT_NEEDED"})
        r = elect(c.bootstrap, "--all-topic-partitions")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("No partition needed a leader election (PREFERRED)", r.stdout)

        # An unknown partition, and one whose preferred replica is down: both named, exit 1.
        down = leaders(c.bootstrap, "pref", n)[1][1][0]
        c.broker(down).stop(timeout=30)
        rest = ",".join(c.broker(i).bootstrap for i in (1, 2, 3) if i != down)
        wait_until(lambda: leaders(rest, "pref", n)[1][0] not in (-1, down), 30, "partition 1 led elsewhere")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"partitions": [{"topic": "pref", "partition": 1}, {"topic": "pref", "partition": 99},
                                      {"topic": "nosuch", "partition": 0}]}, f)
        self.addCleanup(os.unlink, f.name)
        r = elect(rest, "--path-to-json-file", f.name)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("Error completing leader election (PREFERRED) for partition: pref-1:", r.stdout)
        self.assertIn("PREFERRED_LEADER_NOT_AVAILABLE", r.stdout)
        self.assertIn("for partition: pref-99:", r.stdout)
        self.assertIn("for partition: nosuch-0:", r.stdout)
        self.assertIn("UNKNOWN_TOPIC_OR_PARTITION", r.stdout)
        self.assertIn("3 partition(s) could not be elected", r.stderr)

    def test_auto_leader_rebalance_returns_leaderships(self):
        c = self.cluster(overrides={"auto.leader.rebalance.enable": "true",
                                    "leader.imbalance.check.interval.seconds": "1",
                                    "leader.imbalance.per.broker.percentage": "0"})
        create_replicated(c, "auto", 6)
        moved = leaders(c.bootstrap, "auto", 6)[0][0]
        c.broker(moved).restart(same_port=True)
        wait_until(lambda: all_preferred(c.bootstrap, "auto", 6), 40,
                   f"broker {moved}'s leaderships back after its restart, unasked")

    def test_unclean_election_of_an_out_of_sync_replica(self):
        c = self.cluster(overrides={"auto.leader.rebalance.enable": "false"})
        create_replicated(c, "lossy", 1, rf=2, config={"unclean.leader.election.enable": "false"})
        leader, replicas, _ = leaders(c.bootstrap, "lossy", 1)[0]
        follower = next(r for r in replicas if r != leader)
        clients.produce(c.bootstrap, "lossy", [{"value": b"a", "key": None, "headers": None, "partition": 0,
                                                "ts": 0}])
        # The follower dies (the ISR shrinks to the leader), the leader takes a write
        # alone, then dies too: the only in-sync replica is gone.
        c.broker(follower).kill9()
        others = ",".join(c.broker(i).bootstrap for i in (1, 2, 3) if i != follower)
        wait_until(lambda: leaders(others, "lossy", 1)[0][2] == [leader], 30, "the ISR shrunk to the leader")
        clients.produce(others, "lossy", [{"value": b"b", "key": None, "headers": None, "partition": 0, "ts": 0}])
        c.broker(leader).kill9()
        c.broker(follower).start(port=c.broker(follower).port)
        third = ",".join(c.broker(i).bootstrap for i in (1, 2, 3) if i != leader)
        wait_until(lambda: (p := partition_md(third, "lossy", 0)) is not None and p.leader == -1, 30,
                   "the partition offline: its only in-sync replica is down")
        # A preferred election cannot help; the topic forbids unclean elections; the
        # operator asks for one.
        r = elect(third, "--topic", "lossy", "--election-type", "UNCLEAN")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Successfully completed leader election (UNCLEAN) for partitions lossy-0", r.stdout)
        wait_until(lambda: (p := partition_md(third, "lossy", 0)) is not None and p.leader == follower, 20,
                   f"broker {follower} leads")
        # It has what it had: the write the dead leader took alone is not there.
        cons = clients.consumer(third)
        self.addCleanup(clients.bounded_close, cons)
        self.assertEqual(cons.get_watermark_offsets(TopicPartition("lossy", 0), timeout=10), (0, 1))
        got = clients.consume(third, "lossy", {0: 1}, timeout=30)[0]
        self.assertEqual([m["value"] for m in got], [b"a"])
        # Asked again: a live leader, no election.
        r = elect(third, "--topic", "lossy", "--partition", "0", "--election-type", "unclean")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Valid replica already elected for partitions lossy-0", r.stdout)

    def test_single_node_needs_no_election(self):
        b = self.broker()
        clients.create_topic(b.bootstrap, "solo", 2)
        r = elect(b.bootstrap, "--topic", "solo")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Valid replica already elected for partitions solo-0, solo-1", r.stdout)
        r = elect(b.bootstrap, "--all-topic-partitions", "--election-type", "unclean")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("No partition needed a leader election (UNCLEAN)", r.stdout)
        r = elect(b.bootstrap, "--topic", "solo", "--partition", "5")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("for partition: solo-5:", r.stdout)


if __name__ == "__main__":
    harness.main()
