#!/usr/bin/python3
"""Strata on a 3-node ZooKeeper ensemble that loses a member (issue 14: "Reconnects
survive a ZooKeeper restart and the loss of one member of a 3-node ensemble").

Three real brokers (cluster.py) on a real 3-member ensemble (zk.ZooKeeperEnsemble),
an idempotent acks=all producer (librdkafka) on an RF3 topic with
min.insync.replicas=2. The ZooKeeper LEADER member is killed with SIGKILL; then:

  - produce keeps being acknowledged (the longest gap between two acks is bounded);
  - the brokers that were connected to the dead member move to another member and
    keep their sessions: /brokers/ids/<id> is still owned by the session it had
    before (checked with the `dump` and `cons` four-letter words), no broker logs
    a session expiry;
  - a broker killed after that (the partition leader) is still handled by the
    controller through the 2-member ensemble: a new leader, the producer goes on;
  - the ZooKeeper member rejoins; every acknowledged message is read back exactly
    once.

The brokers pick a member at random (the C client shuffles the connect string), so
before the fault the controller broker is restarted (the controllership moves) until
the controller is connected to the ZooKeeper leader: the kill then moves the
controller's session, and the controller handles the broker kill after that.

Every process started is killed by PID (Cluster.close, the zk/harness atexit hooks)."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
import clients  # noqa: E402
import zk  # noqa: E402
from cluster import Cluster  # noqa: E402
from test_cluster import create_replicated, partition_md  # noqa: E402
from test_cluster_faults import Load, check_acked_once  # noqa: E402

SESSION_TIMEOUT_MS = 6000
# Produce does not go through ZooKeeper: losing a ZooKeeper member must not stall it.
MAX_ACK_GAP_ZK_LOSS_S = 5.0
# A killed partition leader is noticed when its ZooKeeper session expires
# (SESSION_TIMEOUT_MS), then the controller elects a leader and the producer
# retries: the session timeout plus a margin for a loaded 2-core machine.
MAX_ACK_GAP_BROKER_KILL_S = SESSION_TIMEOUT_MS / 1000 + 9.0


class TimedLoad(Load):
    """Load that also records when each acknowledgement arrived."""

    def __init__(self, *a, **kw):
        self.ack_times = []
        super().__init__(*a, **kw)

    def _cb(self, err, m):
        if err is None:
            self.ack_times.append(time.monotonic())
        super()._cb(err, m)

    def longest_gap(self, since: float) -> float:
        """The longest time without an acknowledgement from `since` to now."""
        times = [since] + [t for t in list(self.ack_times) if t > since] + [time.monotonic()]
        return max(b - a for a, b in zip(times, times[1:]))


_EPHEMERAL_HEADER = re.compile(r"^(0x[0-9a-f]+):$")
_BROKER_ID = re.compile(r"/brokers/ids/(\d+)$")
_CONS_SID = re.compile(r"sid=(0x[0-9a-f]+)")


def broker_sessions(ens: zk.ZooKeeperEnsemble) -> dict:
    """{broker id: session id owning /strata/brokers/ids/<id>}, from the leader's `dump`."""
    leader = ens.leader()
    if leader is None:
        return {}
    out, sid = {}, None
    for line in zk.four_letter_word(ens.member(leader).port, "dump").splitlines():
        if m := _EPHEMERAL_HEADER.match(line.strip()):
            sid = m.group(1)
        elif sid and (m := _BROKER_ID.search(line.strip())):
            out[int(m.group(1))] = sid
    return out


def session_members(ens: zk.ZooKeeperEnsemble) -> dict:
    """{session id: index of the member it is connected to}, from every member's `cons`."""
    out = {}
    for i, m in enumerate(ens.members):
        if m.running():
            for sid in _CONS_SID.findall(zk.four_letter_word(m.port, "cons")):
                out[sid] = i
    return out


def broker_members(ens: zk.ZooKeeperEnsemble) -> dict:
    """{broker id: member index its ZooKeeper session is connected to} (None: not connected)."""
    where = session_members(ens)
    return {b: where.get(sid) for b, sid in broker_sessions(ens).items()}


class ZooKeeperEnsembleTests(harness.BrokerTestCase):
    def test_zookeeper_leader_member_lost_under_acks_all_load_then_a_broker_kill(self):
        t_start = time.monotonic()
        c = Cluster(3, zk_ensemble=3, session_timeout_ms=SESSION_TIMEOUT_MS)
        self.addCleanup(c.close)
        ens = c.zk
        zk_leader = ens.leader()
        self.assertIsNotNone(zk_leader, ens.modes())
        wait_until(lambda: len(broker_sessions(ens)) == 3 and None not in broker_members(ens).values(), 20,
                   "three broker sessions, each connected to a member")

        # The controller must be connected to the member that will be killed: its ZooKeeper
        # client then has to move, and it handles the broker kill afterwards. Restarting
        # the controller moves the controllership and reconnects the restarted broker.
        def controller():
            return clients.admin(c.bootstrap).list_topics(timeout=5).controller_id

        restarts = 0
        while broker_members(ens).get(ctl := controller()) != zk_leader and restarts < 20:
            restarts += 1
            b = c.broker(ctl)
            b.stop()  # controlled shutdown; closing its session removes its ephemerals at once
            b.restart(same_port=True)
            c.wait_for_brokers(3)
            wait_until(lambda: len(broker_sessions(ens)) == 3 and None not in broker_members(ens).values(), 20,
                       "the restarted broker's session connected")
        self.assertEqual(broker_members(ens).get(ctl), zk_leader,
                         f"the controller (broker {ctl}) not connected to the ZooKeeper leader after "
                         f"{restarts} restarts: {broker_members(ens)}")
        on_leader = sorted(b for b, m in broker_members(ens).items() if m == zk_leader)

        create_replicated(c, "zkens", 1, config={"min.insync.replicas": "2"})
        load = TimedLoad(c.bootstrap, "zkens", b"e")
        self.addCleanup(load._stop.set)
        load.wait_acked(300, 30, "before the ZooKeeper member loss")
        sessions = broker_sessions(ens)
        log_starts = {b.name: len(b.log_lines()) for b in c.brokers}

        # ---- the ZooKeeper leader member dies ----
        t_zk = time.monotonic()
        ens.member(zk_leader).kill9()
        new_zk_leader = ens.wait_for_quorum(30)
        reelect_s = time.monotonic() - t_zk
        self.assertNotEqual(new_zk_leader, zk_leader)
        n = len(load.acked)
        load.wait_acked(n + 300, 20, "after the ZooKeeper leader member's loss")
        # The brokers that were on the dead member reconnect elsewhere with the same session.
        wait_until(lambda: (bm := broker_members(ens)) and len(bm) == 3 and None not in bm.values()
                   and zk_leader not in bm.values(), 20,
                   "every broker's session connected to a live member")
        moved_s = time.monotonic() - t_zk
        self.assertEqual(broker_sessions(ens), sessions, "a broker registration changed session (expired?)")
        c.wait_for_brokers(3)
        zk_gap = load.longest_gap(t_zk)
        self.assertLess(zk_gap, MAX_ACK_GAP_ZK_LOSS_S, "produce stalled after the ZooKeeper member's loss")
        for b in c.brokers:
            expired = [ln for ln in b.log_lines()[log_starts[b.name]:] if "session" in ln and "expired" in ln]
            self.assertEqual(expired, [], f"{b.name} lost its ZooKeeper session")

        # ---- then the partition leader (a broker) dies ----
        self.assertEqual(controller(), ctl, "the controllership moved after the ZooKeeper member's loss")
        leader = partition_md(c.bootstrap, "zkens", 0).leader
        t_b = time.monotonic()
        c.broker(leader).kill9()
        wait_until(lambda: (m := partition_md(c.bootstrap, "zkens", 0)) is not None
                   and m.leader not in (-1, leader), 30, "a new partition leader elected by the controller")
        elect_s = time.monotonic() - t_b
        n = len(load.acked)
        load.wait_acked(n + 300, 30, "through the new partition leader")
        broker_gap = load.longest_gap(t_b)
        self.assertLess(broker_gap, MAX_ACK_GAP_BROKER_KILL_S, "produce stalled after the broker kill")

        # ---- the ZooKeeper member comes back ----
        t_r = time.monotonic()
        ens.member(zk_leader).start()
        ens.wait_for_quorum(30, all_members=True)
        rejoin_s = time.monotonic() - t_r
        n = len(load.acked)
        load.wait_acked(n + 200, 20, "after the ZooKeeper member rejoined")

        load.stop(self)
        self.assertEqual(load.failed, [], f"{len(load.failed)} delivery failure(s)")
        values = check_acked_once(self, c.bootstrap, "zkens", load)
        sys.stderr.write(
            f"\nZooKeeper leader member {zk_leader + 1} killed (brokers {on_leader} on it, controller {ctl}, "
            f"{restarts} restart(s) to get there): re-election "
            f"{reelect_s:.1f} s, sessions moved within {moved_s:.1f} s, longest ack gap {zk_gap:.2f} s; "
            f"broker {leader} killed: new leader in {elect_s:.1f} s, longest ack gap {broker_gap:.2f} s; "
            f"member rejoined in {rejoin_s:.1f} s; {len(values)} messages read back; "
            f"test {time.monotonic() - t_start:.0f} s\n")


if __name__ == "__main__":
    harness.main()
