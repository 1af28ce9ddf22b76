#!/usr/bin/python3
"""A Strata cluster for integration tests: a real ZooKeeper (zk.py) and n real
brokers (harness.Broker) on loopback, each with its own data dir and ports.

    with Cluster(3) as c:
        admin = AdminClient({"bootstrap.servers": c.bootstrap})
        ...
        c.brokers[0].kill9()

    with Cluster(3, zk_ensemble=3) as c:       # a 3-node ZooKeeper ensemble (zk.ZooKeeperEnsemble)
        c.zk.member(c.zk.leader()).kill9()

The default is one standalone ZooKeeper; `zk=` takes a started ZooKeeper or
ZooKeeperEnsemble the caller owns (not closed with the cluster). Brokers keep
their port across restarts (same_port), so the bootstrap list stays valid. Every process is stopped by PID when the cluster closes (and by the
harness's atexit cleanup if a test dies)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import zk as zk_mod  # noqa: E402


class Cluster:
    def __init__(self, n: int = 3, overrides: dict | None = None, session_timeout_ms: int = 6000,
                 zk: "zk.ZooKeeper | zk.ZooKeeperEnsemble | None" = None, zk_ensemble: int = 0,
                 log_dirs: int = 1, prepare=None):
        """zk: a started ZooKeeper/ZooKeeperEnsemble owned by the caller; else
        zk_ensemble=N starts an N-member ensemble, 0 (default) one standalone server.
        log_dirs: log directories per broker (harness.Broker.log_dirs); prepare(broker),
        when given, runs before each broker's first start (e.g. to mount a log dir)."""
        self._owns_zk = zk is None
        if zk is not None:
            self.zk = zk
        else:
            self.zk = zk_mod.ZooKeeperEnsemble(zk_ensemble) if zk_ensemble else zk_mod.ZooKeeper()
            try:
                self.zk.start()
            except Exception:
                self.zk.close()
                raise
        self.brokers: list[harness.Broker] = []
        self._settings = dict(session_timeout_ms=session_timeout_ms, overrides=overrides, log_dirs=log_dirs,
                              prepare=prepare)
        try:
            for _ in range(n):
                self._start_broker()
            self.wait_for_brokers(n)
        except Exception:
            self.close()
            raise

    def _start_broker(self) -> harness.Broker:
        s = self._settings
        i = len(self.brokers)
        o = {
            "broker.id": str(i + 1),
            "zookeeper.connect": self.zk.connect_string + "/strata",
            "zookeeper.session.timeout.ms": str(s["session_timeout_ms"]),
            "zookeeper.connection.timeout.ms": "10000",
            # Short enough for tests to see ISR changes, long enough not to flap
            # on a loaded 2-core machine.
            "replica.lag.time.max.ms": "10000",
            "group.initial.rebalance.delay.ms": "0",
        }
        o.update(s["overrides"] or {})
        b = harness.Broker(overrides=o, name=f"b{i + 1}", log_dirs=s["log_dirs"], start=False)
        self.brokers.append(b)
        if s["prepare"]:
            s["prepare"](b)
        b.start()
        return b

    def add_broker(self) -> harness.Broker:
        """Starts broker n+1 (a new broker.id, same settings) and waits until every
        broker knows it: a broker added to a running cluster."""
        b = self._start_broker()
        self.wait_for_brokers(len(self.brokers))
        return b

    def wait_for_brokers(self, n: int, timeout: float = 30.0):
        """Until every live broker's metadata lists n brokers and a controller (the
        controller's UpdateMetadata reached it)."""
        import clients

        def known(b):
            md = clients.admin(b.bootstrap).list_topics(timeout=5)
            return len(md.brokers) == n and md.controller_id >= 0

        harness.wait_until(lambda: all(known(b) for b in self.brokers if b.alive()), timeout,
                           f"every broker to know the {n} brokers and the controller")

    @property
    def bootstrap(self) -> str:
        return ",".join(b.bootstrap for b in self.brokers if b.alive())

    def broker(self, broker_id: int) -> harness.Broker:
        return self.brokers[broker_id - 1]

    def log_tails(self, n: int = 60) -> str:
        return "\n".join(b.log_tail(n) for b in self.brokers)

    def close(self):
        for b in self.brokers:
            try:
                b.close()
            except Exception:
                pass
        if self._owns_zk:
            self.zk.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
