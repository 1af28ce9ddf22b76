"""The faults the suite injects into a LabCluster, one at a time.

Each fault picks its target when injected (the current leader of a random
partition, the controller, a random broker), holds for a while, then heals. The
runner waits for the cluster to recover (every partition led, full ISR) before
the next one: Kafka promises to survive n-1 failures, not overlapping ones
beyond that, and independent faults make each result attributable."""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
import time

import harness


class Fault:
    name = "fault"

    def __init__(self, cluster, topic: str, rng: random.Random):
        self.c = cluster
        self.topic = topic
        self.rng = rng
        self.target = None

    def hold_s(self) -> float:
        return 6.0

    def inject(self) -> str:
        raise NotImplementedError

    def handled(self) -> bool:
        """Whether the cluster has reacted to the fault (the runner heals only
        then, so every fault goes through a failover and the recovery check
        after the heal cannot read the state from before the fault)."""
        return self.broker_gone()

    def heal(self):
        raise NotImplementedError

    def broker_gone(self) -> bool:
        """The target's session ended, and the controller moved its leaderships and
        took it out of every ISR."""
        if self.target in self.c.registered():
            return False
        return all(l != self.target and self.target not in isr for l, isr in self.c.leaders(self.topic).values())

    # ---- targets -----------------------------------------------------------
    def random_leader(self) -> int:
        """The leader of a random partition, as the cluster currently reports it."""
        def pick():
            leaders = [l for l, _ in self.c.leaders(self.topic).values() if l > 0]
            return self.rng.choice(sorted(leaders)) if leaders else None
        return harness.wait_until(pick, 20, f"a leader of a partition of {self.topic}", interval=0.2)

    def controller(self) -> int:
        return harness.wait_until(lambda: max(self.c.controller(), 0), 20, "a controller", interval=0.2)


class KillLeader(Fault):
    name = "kill-leader"

    def pick(self) -> int:
        return self.random_leader()

    def inject(self) -> str:
        self.target = self.pick()
        self.c.kill9(self.target)
        return f"kill -9 broker {self.target}"

    def heal(self):
        self.c.restart(self.target)


class KillController(KillLeader):
    name = "kill-controller"

    def pick(self) -> int:
        return self.controller()


class KillRandom(KillLeader):
    name = "kill-random"

    def pick(self) -> int:
        return self.rng.randint(1, self.c.n)


class PauseLeader(Fault):
    """SIGSTOP past the ZooKeeper session: a zombie leader that wakes up after
    another was elected must not accept writes as leader."""
    name = "pause-leader"

    def hold_s(self) -> float:
        return 1.5 * self.c.session_timeout_ms / 1000

    def inject(self) -> str:
        self.target = self.random_leader()
        self.c.pause(self.target)
        return f"SIGSTOP broker {self.target} for {self.hold_s():.0f} s"

    def heal(self):
        self.c.resume(self.target)


class IsolateLeader(Fault):
    """The leader cut off from everyone: peers, ZooKeeper and clients."""
    name = "isolate-leader"

    def hold_s(self) -> float:
        return 1.5 * self.c.session_timeout_ms / 1000

    def inject(self) -> str:
        self.target = self.random_leader()
        self.c.lab.isolate(self.target)
        return f"isolate broker {self.target}"

    def heal(self):
        self.c.lab.heal(self.target)


class PartitionLeader(Fault):
    """The leader cut off from its followers only: it still reaches ZooKeeper
    and clients, so it stays leader, shrinks its ISR and must refuse acks=all
    writes below min.insync.replicas."""
    name = "partition-leader"

    def hold_s(self) -> float:
        return 8.0

    def inject(self) -> str:
        self.target = self.random_leader()
        others = [i for i in range(1, self.c.n + 1) if i != self.target]
        self.c.lab.partition([self.target], others)
        return f"partition broker {self.target} from brokers {others}"

    def handled(self) -> bool:
        """The leader (still in ZooKeeper) dropped its unreachable followers."""
        led = [isr for l, isr in self.c.leaders(self.topic).values() if l == self.target]
        return all(isr == [self.target] for isr in led)

    def heal(self):
        self.c.lab.heal_all()


class IsolateLeaderFromCluster(Fault):
    """Jepsen's partition: the leader cut off from its followers and from
    ZooKeeper, while its clients still reach it. The controller elects another
    leader once the session expires; the old one cannot shrink its ISR (no
    ZooKeeper), so acks=all writes to it never complete, while acks=1 writes it
    acknowledges are lost."""
    name = "isolate-leader-keep-clients"

    def hold_s(self) -> float:
        return 1.5 * self.c.session_timeout_ms / 1000

    def inject(self) -> str:
        self.target = self.random_leader()
        others = [i for i in range(1, self.c.n + 1) if i != self.target] + [self.c.zk_node]
        self.c.lab.partition([self.target], others)
        return f"partition broker {self.target} from brokers and ZooKeeper (nodes {others}), clients still reach it"

    def heal(self):
        self.c.lab.heal_all()


class ShrinkIsrThenKillLeader(Fault):
    """The control for unclean election (Jepsen 2013's Kafka finding): the leader
    loses its followers while it still reaches ZooKeeper, so its ISR shrinks to
    itself and it acknowledges writes alone (min.insync.replicas=1); then it is
    killed. With unclean.leader.election.enable=true an out-of-sync follower
    takes over and those writes are gone."""
    name = "shrink-isr-kill-leader"

    def hold_s(self) -> float:
        return 0.0

    def inject(self) -> str:
        self.target = self.random_leader()
        others = [i for i in range(1, self.c.n + 1) if i != self.target]
        self.c.lab.partition([self.target], others)

        def isr_alone():
            ls = self.c.leaders(self.topic)
            led = [isr for l, isr in ls.values() if l == self.target]
            return bool(led) and all(isr == [self.target] for isr in led)
        harness.wait_until(isr_alone, 30, f"broker {self.target}'s ISRs to shrink to itself", interval=0.2)
        time.sleep(1.0)  # let it acknowledge writes alone for a while (the fault's purpose, not a wait)
        self.c.kill9(self.target)
        self.c.lab.heal_all()
        return f"partition broker {self.target} from {others} until its ISRs are itself, then kill -9"

    def heal(self):
        self.c.restart(self.target)


class KillZooKeeperLeader(Fault):
    """kill -9 of the ZooKeeper ensemble's leader member: the brokers' sessions move
    to the other members and nothing else may change (2 of 3 keep the quorum)."""
    name = "kill-zk-leader"

    def hold_s(self) -> float:
        return 3.0

    def inject(self) -> str:
        ens = self.c.ensemble
        self.target = harness.wait_until(lambda: ens.leader() is not None and ens.leader() + 1, 20,
                                         "a ZooKeeper leader") - 1
        ens.member(self.target).kill9()
        return f"kill -9 ZooKeeper member {self.target + 1} (the leader)"

    def handled(self) -> bool:
        ens = self.c.ensemble
        return ens.leader() not in (None, self.target) and len(self.c.registered()) == self.c.n

    def heal(self):
        self.c.ensemble.member(self.target).start()


class DiskFull(Fault):
    """The log dir of the broker on a small tmpfs filled to the last byte: its
    appends fail with ENOSPC, as a leader (clients get KAFKA_STORAGE_ERROR) and
    as a follower (it drops out of the ISR). Healed by freeing the space and
    restarting the broker, as Kafka needs too."""
    name = "disk-full"

    def hold_s(self) -> float:
        return 8.0

    def inject(self) -> str:
        self.target = self.c.small_disk_broker()
        self.filler = os.path.join(self.c.broker(self.target).data_dir, "fault-filler")
        with open(self.filler, "wb") as f:
            chunk = b"\0" * (1 << 20)
            try:
                while True:
                    f.write(chunk)
                    f.flush()
            except OSError:
                pass  # ENOSPC: full
        return f"fill broker {self.target}'s log dir (tmpfs) to the last byte"

    def handled(self) -> bool:
        return True  # nothing to wait for: the broker meets ENOSPC on its next write

    def heal(self):
        os.unlink(self.filler)
        self.c.bounce(self.target)


class FailingFsync(Fault):
    """fsync fails with EIO on the broker run under libfiu (fiu-ctrl enables
    posix/io/sync/fsync in the running process). With
    log.flush.interval.messages=1 every append is fsynced: a failed fsync takes
    its log dir offline, and a broker with no log dir left stops; nothing it
    could not make durable is acknowledged. Healed by turning the failure off
    and restarting the broker."""
    name = "failing-fsync"

    def inject(self) -> str:
        self.target = self.c.fiu_broker()
        subprocess.run(["fiu-ctrl", "-c", "enable name=posix/io/sync/fsync", str(self.c.broker(self.target).pid)],
                       check=True, timeout=10)
        return f"fsync fails (EIO) on broker {self.target}"

    def heal(self):
        b = self.c.broker(self.target)
        if b.alive():
            subprocess.run(["fiu-ctrl", "-c", "disable name=posix/io/sync/fsync", str(b.pid)], check=False,
                           timeout=10)
        self.c.bounce(self.target)


class MovePartition(Fault):
    """A partition reassignment (KIP-455) through `strata topic reassign`: one
    replica of a random partition, the leader's as often as another, moves to a
    broker without one (the topic's replication factor is below the broker count).
    Handled once the controller has finished it."""
    name = "move-partition"

    def hold_s(self) -> float:
        return 0.0

    def start_move(self) -> str:
        reps = self.c.replicas(self.topic)
        p = self.rng.choice(sorted(reps))
        cur = reps[p][0]
        free = [b for b in range(1, self.c.n + 1) if b not in cur]
        out = self.rng.choice(cur)
        target = [self.rng.choice(free) if r == out else r for r in cur]
        self.target = (p, target)
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="strata-move-") as f:
            f.write('{"version":1,"partitions":[{"topic":"%s","partition":%d,"replicas":[%s]}]}'
                    % (self.topic, p, ",".join(map(str, target))))
            f.flush()
            r = subprocess.run([harness.STRATA_BIN, "topic", "reassign", "--bootstrap-server", self.c.bootstrap,
                                "--reassignment-json-file", f.name, "--execute"], capture_output=True, text=True,
                               timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"strata topic reassign failed: {r.stdout}{r.stderr}")
        return f"move {self.topic}-{p} from {cur} to {target}"

    def inject(self) -> str:
        return self.start_move()

    def moved(self) -> bool:
        p, target = self.target
        reps, adding = self.c.replicas(self.topic)[p]
        return reps == target and not adding

    def handled(self) -> bool:
        return self.moved()

    def heal(self):
        pass


class MoveThenKillController(MovePartition):
    """A move, and the controller killed (-9) while it runs: the next controller
    finishes it from the topic znode (once the killed broker is back, if it is one
    of the move's targets: the recovery check waits for the move to be done).
    Handled once another controller took over."""
    name = "move-kill-controller"

    def inject(self) -> str:
        what = self.start_move()
        self.killed = self.controller()
        self.c.kill9(self.killed)
        return f"{what}, then kill -9 the controller (broker {self.killed})"

    def handled(self) -> bool:
        return self.killed not in self.c.registered() and self.c.controller() not in (-1, self.killed)

    def heal(self):
        self.c.restart(self.killed)


FAULTS = {f.name: f for f in (KillLeader, KillController, KillRandom, PauseLeader, IsolateLeader,
                              PartitionLeader, IsolateLeaderFromCluster, ShrinkIsrThenKillLeader,
                              KillZooKeeperLeader, DiskFull, FailingFsync, MovePartition, MoveThenKillController)}
