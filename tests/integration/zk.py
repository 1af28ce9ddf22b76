#!/usr/bin/env python3
"""A standalone ZooKeeper for integration and cluster tests (standard library only).

Starts Debian's `zookeeper` package the way /work/shared/reliability/zk-standalone.sh
does (java QuorumPeerMain, slf4j-simple for logs) on 127.0.0.1, a free port and a
fresh temp data dir; waits (at most 30 s) for `ruok` -> `imok` and for `srvr` to
report a Mode (imok comes before the server serves requests); stops it by PID
(SIGTERM, then SIGKILL after 10 s). restart() keeps the port and the data dir, so
sessions and znodes survive it as they survive a real server restart.

    with ZooKeeper() as zk:
        broker_config["zookeeper.connect"] = zk.connect_string + "/strata"
        ...
        zk.restart()

Raises ZooKeeperNotInstalled (naming `scripts/install-deps --test`) if java or the
jars are missing: a test that needs ZooKeeper must fail, not skip.

A 3-node ensemble (ZooKeeperEnsemble) has the same interface where it makes
sense (connect_string lists every member, start, stop, close, context manager)
plus per-member control, for tests of "a ZooKeeper member is lost":

    with ZooKeeperEnsemble(3) as ens:            # start() waits for every member to serve
        conf["zookeeper.connect"] = ens.connect_string + "/strata"   # "127.0.0.1:p1,127.0.0.1:p2,..."
        i = ens.leader()                         # index (0-based) of the member in Mode: leader
        ens.member(i).kill9()                    # also stop() (SIGTERM), start(), restart(kill=False)
        ens.wait_for_quorum(timeout=30)          # until a leader and a majority serve again
        ens.member(i).start()                    # rejoins (same ports and data dir) and waits to serve
        ens.modes()                              # ["follower", "leader", None] (None: down or not serving)

Members are indexed from 0 (member(i) has myid i + 1). Each has a free client,
quorum and election port and its own data dir under the ensemble's temp dir;
restart keeps them. tickTime 500 ms as in /work/shared/reliability/zk-ensemble.sh
(a 3-node start takes 5-10 s on this machine, a leader re-election 1-3 s).
A member's start() waits until it serves (it needs a quorum: starting one
member while the others are down times out); start_process() does not wait.

Every ZooKeeper process (standalone or member) is stopped by PID: by close(),
by an atexit hook if a test dies, and by PR_SET_PDEATHSIG (SIGKILL) if the test
process is killed. PDEATHSIG fires when the *thread* that started the JVM exits:
start and restart members from the main thread.

Self-test: python3 tests/integration/zk.py  (standalone, then the ensemble)
"""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar"
SLF4J_SIMPLE_JAR = "/usr/share/java/slf4j-simple.jar"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
ENSEMBLE_START_TIMEOUT_S = 60.0  # three JVMs on 2 shared cores, then an election

_PR_SET_PDEATHSIG = 1
_live = set()  # every started ZooKeeper object, for the atexit hook


def _child_setup():
    # Between fork and exec: the JVM dies with the test process.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def _cleanup_all():
    for z in list(_live):
        try:
            z.close()
        except Exception:
            pass


atexit.register(_cleanup_all)


class ZooKeeperNotInstalled(RuntimeError):
    pass


def _free_port():
    return _free_ports(1)[0]


def _free_ports(n):
    """n distinct free ports on 127.0.0.1."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def four_letter_word(port, word, timeout=1.0, host="127.0.0.1"):
    """Sends a ZooKeeper four-letter command ('ruok', 'srvr', ...); returns the reply or ''."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(word.encode())
            chunks = []
            while True:
                b = s.recv(4096)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return ""


class ZooKeeper:
    def __init__(self, tick_time_ms=500, min_session_timeout_ms=1000, max_session_timeout_ms=60000,
                 directory=None, port=None, host="127.0.0.1", cmd_prefix=None, _ensemble_lines=None, _myid=None):
        """directory/port: a fixed place (scripts/local-cluster); by default a fresh
        temp dir and a free port. host: the address it listens on; cmd_prefix: argv
        run before java's (the fault suite's `ip netns exec NS`, which execs, so
        the PID is still the server's). (_ensemble_lines/_myid: used by
        ZooKeeperEnsemble.)"""
        self.host = host
        self.cmd_prefix = list(cmd_prefix or [])
        java = shutil.which("java")
        missing = [p for p in (ZOOKEEPER_JAR, SLF4J_SIMPLE_JAR) if not os.access(p, os.R_OK)]
        if java is None:
            missing.insert(0, "java (a JRE)")
        if missing:
            raise ZooKeeperNotInstalled(
                "ZooKeeper is not installed (missing: %s). Run `scripts/install-deps --test`." % ", ".join(missing))
        self._java = java
        self.dir = directory or tempfile.mkdtemp(prefix="strata-zk-")
        self.port = port or _free_port()
        self.proc = None
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "conf"), exist_ok=True)
        if _myid is not None:
            with open(os.path.join(self.dir, "data", "myid"), "w") as f:
                f.write("%d\n" % _myid)
        with open(os.path.join(self.dir, "conf", "zoo.cfg"), "w") as f:
            f.write("tickTime=%d\ninitLimit=10\nsyncLimit=5\n" % tick_time_ms)
            f.write("dataDir=%s\n" % os.path.join(self.dir, "data"))
            f.write("clientPortAddress=%s\nclientPort=%d\n" % (host, self.port))
            f.write("admin.enableServer=false\n4lw.commands.whitelist=*\n")
            f.write("minSessionTimeout=%d\nmaxSessionTimeout=%d\n" % (min_session_timeout_ms, max_session_timeout_ms))
            for line in _ensemble_lines or ():
                f.write(line + "\n")

    @property
    def connect_string(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def mode(self):
        """"standalone", "leader" or "follower" from `srvr`; None when down or not
        serving (an ensemble member without a quorum)."""
        for line in four_letter_word(self.port, "srvr", host=self.host).splitlines():
            if line.startswith("Mode: "):
                return line[6:].strip()
        return None

    def serving(self):
        # imok only says the process is up; srvr reports a Mode once it serves.
        return four_letter_word(self.port, "ruok", host=self.host) == "imok" and self.mode() is not None

    def log_tail(self, size=3000):
        try:
            with open(os.path.join(self.dir, "zk.log"), "rb") as f:
                data = f.read()
            return data[-size:].decode(errors="replace")
        except OSError:
            return ""

    def start_process(self):
        """Starts the JVM without waiting for it to serve."""
        if self.running():
            return self
        conf = os.path.join(self.dir, "conf")
        cmd = self.cmd_prefix + [self._java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Dzookeeper.log.dir=" + self.dir, "-Dzookeeper.forceSync=no",
               "-cp", ":".join([conf, ZOOKEEPER_JAR, SLF4J_SIMPLE_JAR]),
               "org.apache.zookeeper.server.quorum.QuorumPeerMain", os.path.join(conf, "zoo.cfg")]
        log = open(os.path.join(self.dir, "zk.log"), "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=_child_setup)
        finally:
            log.close()
        _live.add(self)
        return self

    def wait_serving(self, timeout=START_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                code = self.proc.returncode if self.proc else None
                self.proc = None
                raise RuntimeError("ZooKeeper on port %d exited during startup (code %s); log:\n%s"
                                   % (self.port, code, self.log_tail()))
            if self.serving():
                return self
            time.sleep(0.05)  # poll interval of a bounded wait for a Mode
        raise RuntimeError("ZooKeeper on %s did not serve within %.0f s; log:\n%s"
                           % (self.connect_string, timeout, self.log_tail()))

    def start(self, timeout=START_TIMEOUT_S):
        if self.running():
            return self
        self.start_process()
        try:
            return self.wait_serving(timeout)
        except Exception:
            self.stop()
            raise

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill9(self):
        """SIGKILL (a crash: no clean shutdown); waits for the process to be gone."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self, kill=False):
        """Stops (SIGKILL if kill, else SIGTERM) and starts again on the same port and data dir."""
        self.kill9() if kill else self.stop()
        return self.start()

    def close(self):
        """Stops the server and removes its data dir."""
        self.stop()
        _live.discard(self)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False


class ZooKeeperEnsemble:
    """n ZooKeeper servers (QuorumPeerMain) forming one ensemble on 127.0.0.1; see the
    module docstring. members[i] (or member(i)) is a ZooKeeper object: kill9, stop,
    start, restart, running, pid, port, mode."""

    def __init__(self, n=3, tick_time_ms=500, min_session_timeout_ms=1000, max_session_timeout_ms=60000,
                 host="127.0.0.1", cmd_prefix=None):
        if n < 1:
            raise ValueError("an ensemble needs at least one member")
        self.dir = tempfile.mkdtemp(prefix="strata-zkens-")
        # client, quorum, election: 3n distinct ports (picked while all are held, so the
        # kernel cannot hand out one twice; ZooKeeper refuses a repeated port).
        free = _free_ports(3 * n)
        ports = [tuple(free[3 * i:3 * i + 3]) for i in range(n)]
        servers = ["server.%d=%s:%d:%d" % (i + 1, host, q, e) for i, (_, q, e) in enumerate(ports)]
        self.members = []
        try:
            for i, (client, _, _) in enumerate(ports):
                self.members.append(ZooKeeper(tick_time_ms, min_session_timeout_ms, max_session_timeout_ms,
                                              directory=os.path.join(self.dir, "m%d" % (i + 1)), port=client,
                                              host=host, cmd_prefix=cmd_prefix, _ensemble_lines=servers, _myid=i + 1))
        except Exception:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        _live.add(self)

    @property
    def connect_string(self):
        """Every member: "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"."""
        return ",".join(m.connect_string for m in self.members)

    @property
    def quorum(self):
        return len(self.members) // 2 + 1

    def member(self, i):
        return self.members[i]

    def modes(self):
        return [m.mode() if m.running() else None for m in self.members]

    def leader(self):
        """Index of the member whose srvr says Mode: leader, or None."""
        for i, mode in enumerate(self.modes()):
            if mode == "leader":
                return i
        return None

    def has_quorum(self):
        modes = self.modes()
        return "leader" in modes and sum(m in ("leader", "follower") for m in modes) >= self.quorum

    def wait_for_quorum(self, timeout=30.0, all_members=False):
        """Until a leader and a majority (every running member if all_members) serve;
        returns the leader's index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            modes = self.modes()
            serving = sum(m in ("leader", "follower") for m in modes)
            want = sum(m.running() for m in self.members) if all_members else self.quorum
            if "leader" in modes and serving >= max(want, self.quorum):
                return modes.index("leader")
            time.sleep(0.05)  # poll interval of a bounded wait
        raise RuntimeError("ZooKeeper ensemble: no quorum within %.0f s (modes %s); last log lines:\n%s"
                           % (timeout, self.modes(), "\n".join(m.log_tail(1500) for m in self.members)))

    def start(self, timeout=ENSEMBLE_START_TIMEOUT_S):
        """Starts every member that is down and waits until all of them serve."""
        try:
            for m in self.members:
                m.start_process()
            self.wait_for_quorum(timeout, all_members=True)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self):
        for m in self.members:
            m.stop()

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        """Stops every member and removes the ensemble's dir."""
        for m in self.members:
            try:
                m.close()
            except Exception:
                pass
        _live.discard(self)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False


def _self_test():
    t0 = time.monotonic()
    with ZooKeeper() as zk:
        started = time.monotonic() - t0
        assert zk.running(), "not running after start()"
        assert four_letter_word(zk.port, "ruok") == "imok"
        srvr = four_letter_word(zk.port, "srvr")
        assert "Mode: standalone" in srvr, srvr
        pid = zk.pid
        t1 = time.monotonic()
        zk.restart()
        restarted = time.monotonic() - t1
        assert zk.pid != pid, "restart kept the old process"
        assert four_letter_word(zk.port, "ruok") == "imok"
        data_dir = zk.dir
        zk.stop()
        assert not zk.running()
        assert four_letter_word(zk.port, "ruok") == "", "still answering after stop()"
        try:
            os.kill(pid, 0)
            raise AssertionError("the first ZooKeeper process %d is still alive" % pid)
        except ProcessLookupError:
            pass
    assert not os.path.exists(data_dir), "data dir left behind"
    print("zk.py self-test passed: start %.1f s, restart %.1f s" % (started, restarted))
    _ensemble_self_test()


def _ensemble_self_test():
    t0 = time.monotonic()
    with ZooKeeperEnsemble(3) as ens:
        started = time.monotonic() - t0
        assert len(ens.connect_string.split(",")) == 3, ens.connect_string
        modes = ens.modes()
        assert sorted(modes) == ["follower", "follower", "leader"], modes
        old = ens.leader()
        pids = [m.pid for m in ens.members]
        t1 = time.monotonic()
        ens.member(old).kill9()
        assert ens.modes()[old] is None
        new = ens.wait_for_quorum(30)
        reelected = time.monotonic() - t1
        assert new != old, (new, old)
        t2 = time.monotonic()
        ens.member(old).start()
        rejoined = time.monotonic() - t2
        assert ens.member(old).mode() == "follower", ens.modes()
        assert ens.leader() == new
        d = ens.dir
        pids.append(ens.member(old).pid)
    for pid in pids:
        try:
            os.kill(pid, 0)
            raise AssertionError("ensemble member process %d is still alive" % pid)
        except ProcessLookupError:
            pass
    assert not os.path.exists(d), "ensemble dir left behind"
    print("zk.py ensemble self-test passed: start %.1f s, leader re-elected %.1f s after kill -9, "
          "member rejoined in %.1f s" % (started, reelected, rejoined))


if __name__ == "__main__":
    _self_test()
