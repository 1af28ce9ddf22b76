#!/usr/bin/python3
"""Growing and shrinking a running cluster (issue 16) under `strata verify`: real
ZooKeeper, real brokers (cluster.py), librdkafka clients inside verify (acks=all,
idempotent producers, a consumer group committing).

While verify writes and reads:
  - a 4th broker (a new broker.id) is started and `strata cluster rebalance
    --execute` spreads replicas and preferred leaders onto it;
  - `strata cluster decommission --broker 2 --execute` empties broker 2;
  - a partition's leader is moved away and back (`strata topic reassign` reorders
    its replicas, `strata cluster elect-leaders` puts the first one in the lead).
Then verify must report no violation and no failed send, every partition must end
with its whole replica set in the ISR, and broker 2 must hold no replica (its log
directories gone). The plan printed without --execute changes nothing.

Each test starts its own cluster and kills every process it started by PID at the
end (Cluster.close, and verify's own cleanup)."""

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

TOPIC = "grow"
PARTITIONS = 6


def strata(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([harness.STRATA_BIN, *args], capture_output=True, text=True, timeout=timeout)


def assignment(bootstrap: str, topic: str) -> dict:
    """{partition: (leader, replicas, sorted isr)}."""
    md = clients.admin(bootstrap).list_topics(topic=topic, timeout=10).topics[topic]
    return {p: (m.leader, list(m.replicas), sorted(m.isrs)) for p, m in md.partitions.items()}


def settled(bootstrap: str, topic: str) -> bool:
    """Every partition led, its ISR its whole replica set."""
    return all(l >= 0 and sorted(r) == isr for l, r, isr in assignment(bootstrap, topic).values())


class RebalanceTests(harness.BrokerTestCase):
    def test_grow_decommission_and_move_a_leader_under_verify(self):
        c = Cluster(3, overrides={"auto.leader.rebalance.enable": "false"})
        self.addCleanup(c.close)
        out = tempfile.mkdtemp(prefix="strata-it-rebalance-")
        self.addCleanup(lambda: harness.KEEP_TMP or __import__("shutil").rmtree(out, ignore_errors=True))
        summary_path = os.path.join(out, "summary.json")
        verify = subprocess.Popen(
            [harness.STRATA_BIN, "verify", "--bootstrap-server", c.bootstrap, "--topic", TOPIC, "--create",
             "--partitions", str(PARTITIONS), "--replication-factor", "3", "--min-insync-replicas", "2",
             "--acks", "all", "--producers", "2", "--rate", "300", "--duration", "35", "--group", "verifiers",
             "--delivery-timeout-ms", "60000", "--summary-json", summary_path, "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
            preexec_fn=harness._child_setup)
        self.addCleanup(lambda: verify.poll() is None and verify.kill())
        wait_until(lambda: TOPIC in clients.admin(c.bootstrap).list_topics(timeout=10).topics
                   and settled(c.bootstrap, TOPIC), 30, "verify's topic created and in sync")

        # A new broker joins; the plan (a dry run) changes nothing.
        b4 = c.add_broker()
        before = assignment(c.bootstrap, TOPIC)
        r = strata("cluster", "rebalance", "--bootstrap-server", c.bootstrap, "--topics", TOPIC)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Dry run: nothing was changed", r.stdout)
        self.assertEqual(assignment(c.bootstrap, TOPIC), before)
        # Executed: replicas and preferred leaders spread onto broker 4 (every topic,
        # __consumer_offsets included).
        r = strata("cluster", "rebalance", "--bootstrap-server", c.bootstrap, "--execute", "--progress-ms", "500")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("partition(s) moved", r.stdout)
        after = assignment(c.bootstrap, TOPIC)
        per_broker = {b: sum(b in reps for _, reps, _ in after.values()) for b in (1, 2, 3, 4)}
        self.assertTrue(all(n in (4, 5) for n in per_broker.values()), per_broker)  # 18 replicas over 4
        leaders = {b: sum(reps[0] == b for _, reps, _ in after.values()) for b in (1, 2, 3, 4)}
        self.assertTrue(all(n in (1, 2) for n in leaders.values()), leaders)
        wait_until(lambda: settled(c.bootstrap, TOPIC), 30, "every ISR full after the rebalance")
        self.assertTrue(os.listdir(b4.data_dir), "broker 4 holds no log")

        # Broker 2 is emptied while verify runs.
        r = strata("cluster", "decommission", "--bootstrap-server", c.bootstrap, "--broker", "2", "--execute",
                   "--progress-ms", "500")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("hold no replica now: they can be stopped", r.stdout)
        for t in (TOPIC, "__consumer_offsets"):
            self.assertFalse(any(2 in reps for _, reps, _ in assignment(c.bootstrap, t).values()), t)
        wait_until(lambda: not any(d.startswith(TOPIC + "-") for d in os.listdir(c.broker(2).data_dir)), 30,
                   "broker 2's logs of the topic deleted")

        # Partition 0's leader moves away and back.
        lead0, reps0, _ = assignment(c.bootstrap, TOPIC)[0]
        away = reps0[1:] + reps0[:1]

        def reorder(replicas):
            plan = os.path.join(out, "plan.json")
            with open(plan, "w") as f:
                json.dump({"version": 1, "partitions": [{"topic": TOPIC, "partition": 0, "replicas": replicas}]}, f)
            r = strata("topic", "reassign", "--bootstrap-server", c.bootstrap, "--reassignment-json-file", plan,
                       "--execute")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            wait_until(lambda: assignment(c.bootstrap, TOPIC)[0][1] == replicas, 30, f"partition 0 on {replicas}")
            r = strata("cluster", "elect-leaders", "--bootstrap-server", c.bootstrap, "--topic", TOPIC,
                       "--partition", "0")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            wait_until(lambda: assignment(c.bootstrap, TOPIC)[0][0] == replicas[0], 30,
                       f"broker {replicas[0]} leading partition 0")
        reorder(away)
        self.assertNotEqual(assignment(c.bootstrap, TOPIC)[0][0], lead0)
        reorder(reps0)

        # Nothing acknowledged lost, nothing failed, every ISR full.
        stdout, _ = verify.communicate(timeout=240)
        with open(summary_path) as f:
            summary = json.load(f)
        self.assertEqual(verify.returncode, 0, stdout)
        self.assertEqual(summary["violations"], 0, summary)
        self.assertEqual(summary["failed"], 0, summary)
        self.assertTrue(summary["read_complete"], summary)
        self.assertGreater(summary["acked"], 1000, summary)
        wait_until(lambda: settled(c.bootstrap, TOPIC) and settled(c.bootstrap, "__consumer_offsets"), 30,
                   "every partition's whole replica set in its ISR")
        sys.stderr.write(f"\nverify under rebalance: {summary['acked']} acked, longest unavailability "
                         f"{summary['longest_unavailable_ms']} ms\n")


if __name__ == "__main__":
    harness.main()
