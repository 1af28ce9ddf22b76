"""A private network for fault injection: network namespaces joined by a bridge.

    lab = NetLab(nodes=4)          # namespaces <prefix>-n1..n4 on 10.88.0.1..4/24
    lab.up()
    lab.run(1, ["strata", "serve", ...])   # a command inside node 1's namespace
    lab.isolate(2); lab.heal(2)            # node 2 cut off from every other node
    lab.partition([1], [2, 3])             # 1 <-/-> 2 and 1 <-/-> 3, both ways
    lab.heal_all(); lab.down()

As /work/shared/reliability/netns-lab.sh (verified on these machines): a switch
namespace holds bridge br0; each node namespace gets a veth into it. The root
namespace is never touched, so no packet leaves the lab, and the prefix carries
the creating process's PID so two labs never share a name. Faults are nftables
tables inside the node namespaces (`inet fault` for isolation, `inet part` for
partitions), so healing is deleting a table. Deleting the namespaces removes
every interface and rule with them; processes still inside keep running, which is
why callers kill theirs by PID first.

Needs root, `ip` (iproute2) and `nft` (nftables), both installed by
`scripts/install-deps --test`.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess

SUBNET = "10.88.0"
_CLONE_NEWNET = 0x40000000


class NetLabUnavailable(RuntimeError):
    pass


def _sh(args: list, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=20)


class NetLab:
    def __init__(self, nodes: int, prefix: str | None = None):
        self.nodes = nodes
        self.prefix = prefix or f"sf{os.getpid()}"
        self.created: list[str] = []

    # ---- names -------------------------------------------------------------
    def ns(self, i: int) -> str:
        return f"{self.prefix}-n{i}"

    @property
    def switch(self) -> str:
        return f"{self.prefix}-sw"

    @staticmethod
    def address(i: int) -> str:
        return f"{SUBNET}.{i}"

    def enter(self, i: int):
        """Moves the calling thread into node i's network namespace (setns). Call
        it from the main thread before any other thread starts: threads started
        later inherit it, so every socket this process opens is inside the lab."""
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{self.ns(i)}", os.O_RDONLY)
        try:
            if libc.setns(fd, _CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns into {self.ns(i)}: {os.strerror(err)}")
        finally:
            os.close(fd)

    def prefix_cmd(self, i: int) -> list:
        """The argv prefix that runs a command inside node i's namespace."""
        return ["ip", "netns", "exec", self.ns(i)]

    # ---- lifecycle ---------------------------------------------------------
    @staticmethod
    def check_available():
        if os.geteuid() != 0:
            raise NetLabUnavailable("the fault suite needs root (network namespaces and nftables)")
        for tool in ("ip", "nft"):
            if shutil.which(tool) is None:
                raise NetLabUnavailable(f"`{tool}` not found: run scripts/install-deps --test")

    def up(self):
        self.check_available()
        try:
            _sh(["ip", "netns", "add", self.switch])
            self.created.append(self.switch)
            _sh(["ip", "-n", self.switch, "link", "add", "br0", "type", "bridge"])
            _sh(["ip", "-n", self.switch, "link", "set", "br0", "up"])
            for i in range(1, self.nodes + 1):
                ns = self.ns(i)
                _sh(["ip", "netns", "add", ns])
                self.created.append(ns)
                _sh(["ip", "link", "add", f"veth{i}", "netns", ns, "type", "veth",
                     "peer", "name", f"port{i}", "netns", self.switch])
                _sh(["ip", "-n", self.switch, "link", "set", f"port{i}", "master", "br0", "up"])
                _sh(["ip", "-n", ns, "addr", "add", f"{self.address(i)}/24", "dev", f"veth{i}"])
                _sh(["ip", "-n", ns, "link", "set", f"veth{i}", "up"])
                _sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        except Exception:
            self.down()
            raise
        return self

    def down(self):
        for ns in reversed(self.created):
            _sh(["ip", "netns", "del", ns], check=False)
        self.created.clear()

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()
        return False

    # ---- faults ------------------------------------------------------------
    def _nft(self, i: int, *args: str, check: bool = True):
        return _sh(self.prefix_cmd(i) + ["nft", *args], check=check)

    def isolate(self, i: int):
        """Drops every packet node i sends or receives on its link (its own
        loopback still works): cut off from brokers, clients and ZooKeeper."""
        self._nft(i, "add", "table", "inet", "fault")
        self._nft(i, "add chain inet fault in { type filter hook input priority 0; }")
        self._nft(i, "add chain inet fault out { type filter hook output priority 0; }")
        self._nft(i, "add", "rule", "inet", "fault", "in", "iifname", f"veth{i}", "drop")
        self._nft(i, "add", "rule", "inet", "fault", "out", "oifname", f"veth{i}", "drop")

    def heal(self, i: int):
        self._nft(i, "delete", "table", "inet", "fault", check=False)

    def partition(self, side_a: list, side_b: list):
        """Two-way split between the nodes of side_a and those of side_b; each
        keeps talking to nodes on neither list."""
        for a, b in ((a, b) for a in side_a for b in side_b):
            for x, y in ((a, b), (b, a)):
                self._nft(x, "add", "table", "inet", "part")
                self._nft(x, "add chain inet part in { type filter hook input priority 0; }")
                self._nft(x, "add chain inet part out { type filter hook output priority 0; }")
                self._nft(x, "add", "rule", "inet", "part", "in", "ip", "saddr", self.address(y), "drop")
                self._nft(x, "add", "rule", "inet", "part", "out", "ip", "daddr", self.address(y), "drop")

    def heal_all(self):
        for i in range(1, self.nodes + 1):
            self._nft(i, "delete", "table", "inet", "part", check=False)
            self._nft(i, "delete", "table", "inet", "fault", check=False)

    def rules(self, i: int) -> str:
        return self._nft(i, "list", "ruleset", check=False).stdout
