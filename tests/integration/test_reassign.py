#!/usr/bin/python3
"""Partition reassignment (KIP-455, ZooKeeper mode) on a real cluster: a real ZooKeeper
and four real brokers, driven by `strata topic reassign|reassignments` (the
AlterPartitionReassignments / ListPartitionReassignments client), an acks=all
idempotent confluent_kafka producer, and kazoo for /admin/reassign_partitions.

Every wait is on a condition; each test starts its own cluster and kills every process
it started by PID (Cluster.close)."""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
import clients  # noqa: E402
from cluster import Cluster  # noqa: E402
from test_cluster import partition_md  # noqa: E402
from test_cluster_faults import Load, check_acked_once  # noqa: E402

from confluent_kafka.admin import NewTopic  # noqa: E402

CLI_TIMEOUT = 60
PAUSED: set = set()  # brokers stopped with SIGSTOP: alive, but they answer nothing


def serving(c: Cluster) -> list:
    return [b for b in c.brokers if b.alive() and b not in PAUSED]


def bootstrap(c: Cluster) -> str:
    return ",".join(b.bootstrap for b in serving(c))


def cli(c: Cluster, *args, timeout_ms: int = 30000):
    """Runs `strata topic <args>` against the cluster; returns (rc, stdout, stderr)."""
    cmd = [harness.STRATA_BIN, "topic", *args, "--bootstrap-server", bootstrap(c), "--timeout-ms", str(timeout_ms)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def plan_file(tc, moves: dict) -> str:
    """A kafka-reassign-partitions.sh plan for {(topic, partition): [replicas] }."""
    fd, path = tempfile.mkstemp(prefix="reassign-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"version": 1, "partitions": [
            {"topic": t, "partition": p, "replicas": r, "log_dirs": ["any"] * len(r)}
            for (t, p), r in moves.items()]}, f)
    tc.addCleanup(os.unlink, path)
    return path


def ongoing(c: Cluster) -> dict:
    """{(topic, partition): {"replicas", "adding_replicas", "removing_replicas"}} from
    ListPartitionReassignments."""
    rc, out, err = cli(c, "reassignments", "--output", "json")
    if rc != 0:
        raise AssertionError(f"strata topic reassignments: {err}")
    return {(r["topic"], r["partition"]): r for r in json.loads(out)["reassignments"]}


def has_log(b: harness.Broker, topic: str, partition: int) -> bool:
    return os.path.isdir(os.path.join(b.data_dir, f"{topic}-{partition}"))


def create_on_three(c: Cluster, topic: str, partitions: int = 1, config: dict | None = None):
    """Creates `topic` (replication factor 3) while only brokers 1-3 exist, so every
    partition is on [1,2,3] in some order; waits for a full ISR on every broker and
    returns the replica lists."""
    a = clients.admin(c.bootstrap)
    res = clients.wait_futures(a.create_topics([NewTopic(topic, partitions, 3, config=config or {})],
                                               operation_timeout=30, request_timeout=30), 40)
    if res[topic] is not None:
        raise AssertionError(f"creating {topic}: {res[topic]!r}")
    wait_until(lambda: all((p := partition_md(b.bootstrap, topic, i)) is not None and p.leader >= 0
                           and len(p.isrs) == 3 for i in range(partitions) for b in c.brokers if b.alive()),
               30, f"{topic}: every partition led with a full ISR, on every broker")
    return [list(partition_md(c.bootstrap, topic, i).replicas) for i in range(partitions)]


def add_broker(c: Cluster) -> harness.Broker:
    """Starts broker n+1 with the cluster's settings; Cluster.close stops it."""
    o = dict(c.brokers[0].overrides)
    o["broker.id"] = str(len(c.brokers) + 1)
    b = harness.Broker(overrides=o, name=f"b{len(c.brokers) + 1}", start=False)
    c.brokers.append(b)
    b.start()
    c.wait_for_brokers(len(c.brokers))
    return b


def controller_id(c: Cluster) -> int:
    return clients.admin(bootstrap(c)).list_topics(timeout=5).controller_id


class ReassignTests(harness.BrokerTestCase):
    def cluster(self, n: int = 3, **kw) -> Cluster:
        c = Cluster(n, **kw)
        self.addCleanup(c.close)
        return c

    def pause(self, b: harness.Broker):
        os.kill(b.pid, signal.SIGSTOP)
        PAUSED.add(b)
        # Resumed before Cluster.close's SIGKILL reaps it (cleanups run last-in first).
        self.addCleanup(lambda pid=b.pid: b.alive() and os.kill(pid, signal.SIGCONT))
        self.addCleanup(PAUSED.discard, b)

    def resume(self, b: harness.Broker):
        os.kill(b.pid, signal.SIGCONT)
        PAUSED.discard(b)

    def wait_complete(self, c: Cluster, topic: str, partition: int, target: list, timeout: float = 40):
        """Until the move is done: nothing in progress, every live broker's metadata shows
        replicas == target (in order) and ISR == target."""
        def done():
            if (topic, partition) in ongoing(c):
                return False
            for b in serving(c):
                p = partition_md(b.bootstrap, topic, partition)
                if p is None or list(p.replicas) != target or sorted(p.isrs) != sorted(target) or p.leader < 0:
                    return False
            return True

        wait_until(done, timeout, f"{topic}-{partition} reassigned to {target} with a full ISR")

    # (1) A 3-replica partition moves onto broker 4 and off another while an acks=all
    # idempotent producer runs; nothing acknowledged is lost or duplicated.
    def test_move_under_load_loses_nothing_and_deletes_the_removed_replica(self):
        c = self.cluster()
        create_on_three(c, "moving", config={"min.insync.replicas": "2"})
        add_broker(c)
        leader = partition_md(c.bootstrap, "moving", 0).leader
        dropped = next(b for b in (3, 2, 1) if b != leader)
        target = [r for r in (1, 2, 3) if r != dropped] + [4]
        self.assertTrue(has_log(c.broker(dropped), "moving", 0))
        load = Load(c.bootstrap, "moving", b"m")
        load.wait_acked(300, 30, "before the move")
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan_file(self, {("moving", 0): target}),
                           "--execute")
        self.assertEqual(rc, 0, err)
        self.assertIn("Current partition replica assignment", out)
        self.assertIn("Successfully started partition reassignment for moving-0", out)
        self.wait_complete(c, "moving", 0, target)
        wait_until(lambda: not has_log(c.broker(dropped), "moving", 0), 20,
                   f"broker {dropped}'s replica of moving-0 deleted")
        self.assertTrue(has_log(c.broker(4), "moving", 0))
        n = len(load.acked)
        load.wait_acked(n + 300, 30, "after the move")
        load.stop(self)
        self.assertEqual(load.failed, [], f"{len(load.failed)} delivery failures")
        check_acked_once(self, c.broker(4).bootstrap, "moving", load)
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan_file(self, {("moving", 0): target}),
                           "--verify")
        self.assertEqual(rc, 0, err)
        self.assertIn("Reassignment of partition moving-0 is completed.", out)

    # (2) The leader's own replica moves away: leadership moves to a target replica.
    def test_leader_replica_moved_away_hands_leadership_over(self):
        c = self.cluster()
        create_on_three(c, "lead", config={"min.insync.replicas": "2"})
        add_broker(c)
        old = partition_md(c.bootstrap, "lead", 0).leader
        target = [4] + [r for r in (1, 2, 3) if r != old]
        load = Load(c.bootstrap, "lead", b"l")
        load.wait_acked(200, 30, "before the move")
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan_file(self, {("lead", 0): target}),
                           "--execute")
        self.assertEqual(rc, 0, err)
        self.wait_complete(c, "lead", 0, target)
        self.assertIn(partition_md(c.bootstrap, "lead", 0).leader, target)
        wait_until(lambda: not has_log(c.broker(old), "lead", 0), 20, f"the old leader {old}'s replica deleted")
        n = len(load.acked)
        load.wait_acked(n + 200, 30, "through the new leader")
        load.stop(self)
        self.assertEqual(load.failed, [], f"{len(load.failed)} delivery failures")
        check_acked_once(self, c.bootstrap, "lead", load)

    # (3) A move to a broker that cannot catch up (paused) is cancelled: the original
    # assignment is back. Also the API's per-partition errors and NOT_CONTROLLER.
    def test_cancel_restores_the_original_assignment_and_errors_are_kafkas(self):
        c = self.cluster()
        initial = create_on_three(c, "stuck")[0]
        add_broker(c)
        ctl = controller_id(c)
        x = 4  # the adding replica: paused, so it cannot catch up
        target = initial[:-1] + [x]
        self.pause(c.broker(x))
        plan = plan_file(self, {("stuck", 0): target})
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan, "--execute")
        self.assertEqual(rc, 0, err)
        cur = wait_until(lambda: ongoing(c).get(("stuck", 0)), 10, "stuck-0 listed as in progress")
        self.assertEqual(cur["adding_replicas"], [x])
        self.assertEqual(cur["removing_replicas"], [initial[-1]])
        self.assertEqual(sorted(cur["replicas"]), [1, 2, 3, 4])
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan, "--verify")
        self.assertIn("Reassignment of partition stuck-0 is still in progress.", out)
        # As Kafka's tool: another --execute needs --additional while a move runs.
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan, "--execute")
        self.assertEqual(rc, 1)
        self.assertIn("--additional", err)
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan, "--cancel")
        self.assertEqual(rc, 0, err)
        self.assertIn("Successfully cancelled partition reassignment for: stuck-0", out)
        self.wait_complete(c, "stuck", 0, initial)
        # Cancelling again: nothing is in progress.
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan, "--cancel")
        self.assertEqual(rc, 1)
        self.assertIn("NO_REASSIGNMENT_IN_PROGRESS", err)
        # An unknown broker, an unknown partition.
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan_file(self, {("stuck", 0): initial[:2] + [99]}),
                           "--execute")
        self.assertEqual(rc, 1)
        self.assertIn("INVALID_REPLICA_ASSIGNMENT", err)
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan_file(self, {("stuck", 7): [1, 2]}),
                           "--execute")
        self.assertEqual(rc, 1)
        self.assertIn("does not exist", err)
        # Duplicates are refused before anything is sent.
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan_file(self, {("stuck", 0): [initial[0]] * 2}),
                           "--execute")
        self.assertEqual(rc, 1)
        self.assertIn("duplicate replicas", err)
        # A broker that is not the controller answers NOT_CONTROLLER (41).
        other = c.broker(initial[0] if initial[0] != ctl else initial[1])
        self.assertEqual(list_reassignments_error(other), 41)
        self.assertEqual(list_reassignments_error(c.broker(ctl)), 0)

    # (4) The controller dies mid-move; the next controller finishes it from the topic
    # znode's adding/removing lists.
    def test_new_controller_completes_a_move_in_progress(self):
        c = self.cluster()
        initial = create_on_three(c, "handover")[0]
        add_broker(c)
        ctl = controller_id(c)
        x = 4
        # The controller's replica is the one removed: it is dead when the move completes.
        target = [r for r in initial if r != ctl] + [x]
        self.pause(c.broker(x))  # the adding replica cannot catch up yet
        rc, out, err = cli(c, "reassign", "--reassignment-json-file", plan_file(self, {("handover", 0): target}),
                           "--execute")
        self.assertEqual(rc, 0, err)
        wait_until(lambda: ("handover", 0) in ongoing(c), 10, "handover-0 in progress")
        c.broker(ctl).kill9()
        wait_until(lambda: controller_id(c) not in (-1, ctl), 30, "a new controller")
        self.resume(c.broker(x))
        self.wait_complete(c, "handover", 0, target, timeout=60)
        self.assertTrue(has_log(c.broker(x), "handover", 0))
        clients.roundtrip_ok(bootstrap(c), "handover", "after-failover")

    # (5) The pre-KIP-455 way: /admin/reassign_partitions, deleted once every move is done.
    def test_admin_reassign_partitions_znode(self):
        from kazoo.client import KazooClient
        c = self.cluster()
        create_on_three(c, "zkmove", 2)
        add_broker(c)
        # --generate proposes a plan over the listed brokers (Kafka's placement).
        fd, topics = tempfile.mkstemp(prefix="topics-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump({"version": 1, "topics": [{"topic": "zkmove"}]}, f)
        self.addCleanup(os.unlink, topics)
        rc, out, err = cli(c, "reassign", "--generate", "--topics-to-move-json-file", topics, "--broker-list",
                           "2,3,4", "--output", "json")
        self.assertEqual(rc, 0, err)
        proposed = json.loads(out)["proposed"]["partitions"]
        self.assertEqual(sorted(p["partition"] for p in proposed), [0, 1])
        for p in proposed:
            self.assertEqual(sorted(p["replicas"]), [2, 3, 4])
        zk = KazooClient(hosts=c.zk.connect_string + "/strata", timeout=10)
        zk.start(timeout=10)
        self.addCleanup(zk.close)
        self.addCleanup(zk.stop)
        zk.create("/admin/reassign_partitions", json.dumps({"version": 1, "partitions": [
            {"topic": "zkmove", "partition": 0, "replicas": [4, 2, 3]},
            {"topic": "zkmove", "partition": 1, "replicas": [2, 4, 1]}]}).encode())
        self.wait_complete(c, "zkmove", 0, [4, 2, 3])
        self.wait_complete(c, "zkmove", 1, [2, 4, 1])
        wait_until(lambda: zk.exists("/admin/reassign_partitions") is None, 20, "the znode deleted")
        # The topic znode is back to a plain assignment (version 3 with empty lists).
        data = json.loads(zk.get("/brokers/topics/zkmove")[0])
        self.assertEqual(data["partitions"], {"0": [4, 2, 3], "1": [2, 4, 1]})
        self.assertEqual(data["adding_replicas"], {})
        self.assertEqual(data["removing_replicas"], {})
        # The watch is armed again: a second request is honoured too.
        zk.create("/admin/reassign_partitions", json.dumps({"version": 1, "partitions": [
            {"topic": "zkmove", "partition": 0, "replicas": [1, 2, 3]}]}).encode())
        self.wait_complete(c, "zkmove", 0, [1, 2, 3])
        self.assertEqual(ongoing(c), {})
        wait_until(lambda: zk.exists("/admin/reassign_partitions") is None, 20, "the second znode deleted")


class ReassignUsageTests(harness.BrokerTestCase):
    """Mistakes in the command line or the plan are one line and exit 1, before anything
    is sent (the bootstrap server is never contacted)."""

    def run_cli(self, *args):
        p = subprocess.run([harness.STRATA_BIN, "topic", *args, "--bootstrap-server", "127.0.0.1:1"],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
        return p.returncode, p.stderr

    def plan(self, text: str) -> str:
        fd, path = tempfile.mkstemp(prefix="plan-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def test_bad_flags_and_plans_are_named(self):
        good = self.plan('{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2]}]}')
        cases = [
            (["reassign", "--reassignment-json-file", good], "exactly one of --execute, --verify, --cancel"),
            (["reassign", "--reassignment-json-file", good, "--execute", "--cancel"], "exactly one of"),
            (["reassign", "--execute"], "need --reassignment-json-file"),
            (["reassign", "--generate", "--broker-list", "1,2"], "--generate needs --topics-to-move-json-file"),
            (["reassign", "--reassignment-json-file", "/nonexistent/plan.json", "--execute"], "cannot open the file"),
            (["reassign", "--reassignment-json-file", self.plan("{not json"), "--execute"], "not JSON"),
            (["reassign", "--reassignment-json-file", self.plan('{"version":1}'), "--execute"],
             'missing "partitions"'),
            (["reassign", "--reassignment-json-file",
              self.plan('{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[]}]}'), "--execute"],
             "empty replica list"),
            (["reassign", "--reassignment-json-file",
              self.plan('{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1],'
                        '"log_dirs":["/data"]}]}'), "--execute"],
             'only "any" log dirs'),
            (["reassign", "--reassignment-json-file",
              self.plan('{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1]},'
                        '{"topic":"t","partition":0,"replicas":[2]}]}'), "--execute"],
             "listed more than once"),
        ]
        for args, want in cases:
            rc, err = self.run_cli(*args)
            self.assertEqual(rc, 1, (args, err))
            self.assertIn(want, err, args)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertTrue(err.startswith("strata topic reassign: error: "), err)
        for cmd in ("reassign", "reassignments"):
            p = subprocess.run([harness.STRATA_BIN, "topic", cmd, "--help"], capture_output=True, text=True,
                               timeout=CLI_TIMEOUT)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("--bootstrap-server", p.stdout)


def list_reassignments_error(b: harness.Broker) -> int:
    """ListPartitionReassignments v0 (flexible) sent by hand to `b`; its error code."""
    body = struct.pack(">hhih", 46, 0, 7, 4) + b"test" + b"\x00"  # header v2: key, version, id, client id, tags
    body += struct.pack(">i", 5000) + b"\x00" + b"\x00"  # timeout_ms, topics null, tags
    with socket.create_connection(("127.0.0.1", b.port), timeout=10) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        buf = b""
        while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
            chunk = s.recv(4096)
            if not chunk:
                raise AssertionError("connection closed")
            buf += chunk
    # size, correlation id, header tags (0), throttle_time_ms, error_code
    corr, = struct.unpack(">i", buf[4:8])
    assert corr == 7, corr
    _throttle, err = struct.unpack(">ih", buf[9:15])
    return err


if __name__ == "__main__":
    harness.main()
