"""A Strata cluster inside a NetLab: ZooKeeper and n brokers, each broker in its
own network namespace, so a broker can be cut off from its peers, from
ZooKeeper, or from clients.

Layout for n brokers (the lab needs n + 2 nodes): broker i runs in node i
(10.88.0.i:9092, the same port across restarts); node n + 1 is the client node:
`strata verify` and this process itself (the caller enters it with
NetLab.enter before any thread starts, so its clients reach every broker);
node n + 2 holds ZooKeeper (standalone, or every member of an ensemble), so a
broker can be cut off from ZooKeeper and its peers while clients still reach it. Leaders, ISRs and the
controller are read from ZooKeeper (kazoo), where the controller writes them.

Every process is started from the main thread and killed by PID (harness
Broker/ZooKeeper cleanup, also at exit)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402
import zk  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402  (python3-kazoo)

# kazoo logs every reconnect while the nemesis kills ZooKeeper members: expected.
logging.getLogger("kazoo").setLevel(logging.ERROR)

CHROOT = "/strata"

BROKER_PORT = 9092


class LabCluster:
    def __init__(self, lab, brokers: int = 3, overrides: dict | None = None, session_timeout_ms: int = 6000,
                 zk_ensemble: int = 0, small_disk: int = 0, fiu: int = 0):
        """zk_ensemble: 0 for one standalone ZooKeeper, else that many members (all
        in the ZooKeeper node, so losing one is a process fault, not a network one).
        small_disk: a broker whose log dir is a 64 MiB tmpfs (the disk-full fault
        fills it); fiu: a broker run under libfiu's fiu-run (the fsync fault)."""
        self.lab = lab
        self.n = brokers
        self.session_timeout_ms = session_timeout_ms
        self.client_node = brokers + 1
        self.zk_node = brokers + 2
        where = dict(host=lab.address(self.zk_node), cmd_prefix=lab.prefix_cmd(self.zk_node))
        self.ensemble = zk.ZooKeeperEnsemble(zk_ensemble, **where) if zk_ensemble else None
        self.zk = self.ensemble or zk.ZooKeeper(**where)
        self.brokers: list[harness.Broker] = []
        self.paused: set[int] = set()
        self._zk = None
        self.mounts: list[str] = []
        self._small_disk = small_disk
        self._fiu = fiu
        self.zk.start()
        try:
            for i in range(1, brokers + 1):
                o = {
                    "broker.id": str(i),
                    "zookeeper.connect": self.zk.connect_string + CHROOT,
                    "zookeeper.session.timeout.ms": str(session_timeout_ms),
                    "zookeeper.connection.timeout.ms": "10000",
                    "replica.lag.time.max.ms": "5000",
                    "group.initial.rebalance.delay.ms": "0",
                    "offsets.topic.replication.factor": str(min(3, brokers)),
                }
                o.update(overrides or {})
                prefix = lab.prefix_cmd(i) + (["fiu-run", "-x"] if i == fiu else [])
                b = harness.Broker(overrides=o, name=f"fault-b{i}", start=False, host=lab.address(i),
                                   cmd_prefix=prefix)
                self.brokers.append(b)
                if i == small_disk:
                    os.makedirs(b.data_dir, exist_ok=True)
                    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", b.data_dir], check=True)
                    self.mounts.append(b.data_dir)
                b.start(port=BROKER_PORT)
            self.wait_for_brokers()
        except Exception:
            self.close()
            raise

    # ---- views -------------------------------------------------------------
    @property
    def bootstrap(self) -> str:
        return ",".join(f"{self.lab.address(i)}:{BROKER_PORT}" for i in range(1, self.n + 1))

    def broker(self, broker_id: int) -> harness.Broker:
        return self.brokers[broker_id - 1]

    def zk_client(self):
        """A kazoo client on the cluster's ZooKeeper: the suite reads leaders, ISRs
        and the controller where the controller writes them, so a paused or
        partitioned broker's stale view never misleads the nemesis."""
        if self._zk is None:
            self._zk = KazooClient(hosts=self.zk.connect_string + CHROOT, timeout=5.0)
            self._zk.start(timeout=10)
        return self._zk

    def _json(self, path: str):
        data, _ = self.zk_client().get(path)
        return json.loads(data)

    def leaders(self, topic: str) -> dict:
        """partition -> (leader id, isr list), from the partition state znodes."""
        base = f"/brokers/topics/{topic}/partitions"
        zk_ = self.zk_client()
        if not zk_.exists(base):
            return {}
        out = {}
        for p in zk_.get_children(base):
            st = self._json(f"{base}/{p}/state")
            out[int(p)] = (st["leader"], list(st["isr"]))
        return out

    def replicas(self, topic: str) -> dict:
        """partition -> (replicas, adding replicas), from the topic znode (the
        controller's assignment; adding replicas while a reassignment runs)."""
        t = self._json(f"/brokers/topics/{topic}")
        adding = t.get("adding_replicas") or {}
        return {int(p): (list(r), list(adding.get(p, []))) for p, r in t["partitions"].items()}

    def controller(self) -> int:
        return self._json("/controller")["brokerid"] if self.zk_client().exists("/controller") else -1

    def registered(self) -> list:
        return sorted(int(i) for i in self.zk_client().get_children("/brokers/ids"))

    def wait_for_brokers(self, timeout: float = 30.0):
        harness.wait_until(lambda: self.registered() == list(range(1, self.n + 1)) and self.controller() > 0,
                           timeout, f"{self.n} brokers registered and a controller", interval=0.1)

    def wait_healthy(self, topic: str, timeout: float = 40.0):
        """Until every broker runs, and every partition of topic has a leader and
        its whole replica set in the ISR, no move under way: the cluster has
        recovered from the last fault."""
        def ok():
            if not all(b.alive() for b in self.brokers) or self.paused:
                return False
            if self.registered() != list(range(1, self.n + 1)):
                return False
            if self.ensemble is not None and None in self.ensemble.modes():
                return False
            ls = self.leaders(topic)
            reps = self.replicas(topic)
            return bool(ls) and all(l > 0 and not reps[p][1] and sorted(isr) == sorted(reps[p][0])
                                    for p, (l, isr) in ls.items())
        harness.wait_until(ok, timeout, f"topic {topic}: every partition led, with a full ISR", interval=0.25)

    # ---- process faults ----------------------------------------------------
    def small_disk_broker(self) -> int:
        assert self._small_disk, "this cluster has no broker on a small disk"
        return self._small_disk

    def fiu_broker(self) -> int:
        assert self._fiu, "this cluster runs no broker under fiu-run"
        return self._fiu

    def bounce(self, broker_id: int):
        """Stops the broker however it can be stopped (it may have exited on its
        own, e.g. with every log dir offline) and starts it again."""
        b = self.broker(broker_id)
        if b.alive():
            b.kill9()
        else:
            b.stop(expect_rc=None)
        b.start(port=BROKER_PORT)

    def kill9(self, broker_id: int):
        self.broker(broker_id).kill9()

    def restart(self, broker_id: int):
        b = self.broker(broker_id)
        if not b.alive():
            b.start(port=BROKER_PORT)

    def pause(self, broker_id: int):
        os.kill(self.broker(broker_id).pid, signal.SIGSTOP)
        self.paused.add(broker_id)

    def resume(self, broker_id: int):
        if broker_id in self.paused:
            self.paused.discard(broker_id)
            b = self.broker(broker_id)
            if b.alive():
                os.kill(b.pid, signal.SIGCONT)

    def log_tails(self, n: int = 40) -> str:
        return "\n".join(b.log_tail(n) for b in self.brokers)

    def close(self):
        for i in list(self.paused):
            self.resume(i)
        for b in self.brokers:
            try:
                b.close()
            except Exception:
                pass
        if self._zk is not None:
            try:
                self._zk.stop()
                self._zk.close()
            except Exception:
                pass
        self.zk.close()
        for m in self.mounts:
            subprocess.run(["umount", "-l", m], check=False)
