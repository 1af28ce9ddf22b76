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

Self-test: python3 tests/integration/zk.py
"""

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


class ZooKeeperNotInstalled(RuntimeError):
    pass


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
                 directory=None, port=None, host="127.0.0.1"):
        """directory/port: a fixed place (scripts/local-cluster); by default a fresh
        temp dir and a free port. host: the address it listens on (the fault
        suite's namespace address)."""
        self.host = host
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
        with open(os.path.join(self.dir, "conf", "zoo.cfg"), "w") as f:
            f.write("tickTime=%d\ninitLimit=10\nsyncLimit=5\n" % tick_time_ms)
            f.write("dataDir=%s\n" % os.path.join(self.dir, "data"))
            f.write("clientPortAddress=%s\nclientPort=%d\n" % (host, self.port))
            f.write("admin.enableServer=false\n4lw.commands.whitelist=*\n")
            f.write("minSessionTimeout=%d\nmaxSessionTimeout=%d\n" % (min_session_timeout_ms, max_session_timeout_ms))

    @property
    def connect_string(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, size=3000):
        try:
            with open(os.path.join(self.dir, "zk.log"), "rb") as f:
                data = f.read()
            return data[-size:].decode(errors="replace")
        except OSError:
            return ""

    def start(self):
        if self.running():
            return self
        conf = os.path.join(self.dir, "conf")
        cmd = [self._java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Dzookeeper.log.dir=" + self.dir, "-Dzookeeper.forceSync=no",
               "-cp", ":".join([conf, ZOOKEEPER_JAR, SLF4J_SIMPLE_JAR]),
               "org.apache.zookeeper.server.quorum.QuorumPeerMain", os.path.join(conf, "zoo.cfg")]
        log = open(os.path.join(self.dir, "zk.log"), "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise RuntimeError("ZooKeeper exited during startup (code %s); log:\n%s" % (code, self.log_tail()))
            # imok only says the process is up; srvr reports a Mode once it serves.
            if (four_letter_word(self.port, "ruok", host=self.host) == "imok"
                    and "Mode: " in four_letter_word(self.port, "srvr", host=self.host)):
                return self
            time.sleep(0.05)  # poll interval of a bounded wait for imok
        self.stop()
        raise RuntimeError("ZooKeeper did not answer ruok on %s within %.0f s; log:\n%s"
                           % (self.connect_string, START_TIMEOUT_S, self.log_tail()))

    def stop(self):
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

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        """Stops the server and removes its data dir."""
        self.stop()
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


if __name__ == "__main__":
    _self_test()
