"""Test harness for Strata's integration tests (Python standard library only).

Starts the real broker binary (env STRATA_BIN, default <repo>/build/strata) on a
fresh temporary data directory and an ephemeral loopback port, waits for its
"listening on PLAINTEXT://127.0.0.1:<port>" and "started in" log lines, drains
its output to a log file in a background thread, and always cleans the process
up by PID (context manager, atexit, a whole-file watchdog, and PR_SET_PDEATHSIG
so that even a SIGKILLed test runner leaves no broker behind).

    with Broker(overrides={"num.partitions": "3"}) as b:
        ... b.bootstrap ...      # "127.0.0.1:<port>"
        b.restart()              # same data dir; the port changes
        b.admin_url              # "http://127.0.0.1:<port>" of the admin listener, or None
        b.stop()                 # SIGTERM, <= 10 s, exit code 0 asserted

Test files derive from BrokerTestCase (prints the broker log of the brokers
involved when a test fails) and end with `harness.main()`.
"""

from __future__ import annotations

import atexit
import ctypes
import faulthandler
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings

warnings.filterwarnings("ignore", category=ImportWarning)  # kafka-python's vendored six on 3.11

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STRATA_BIN = os.environ.get("STRATA_BIN", os.path.join(REPO, "build", "strata"))
# Whole-file bound: the watchdog kills every broker and exits the test process.
FILE_TIMEOUT_S = float(os.environ.get("STRATA_IT_TIMEOUT", "280"))
KEEP_TMP = os.environ.get("STRATA_IT_KEEP") == "1"

_LISTEN_RE = re.compile(r"listening on PLAINTEXT://[0-9.]+:(\d+)")

# Brokers listen on ports below the kernel's ephemeral range (32768-60999 here):
# a broker restarted on its port (restart(same_port=True)) would otherwise find it
# taken, now and then, as the source port of some client's outgoing connection.
_PORT_RANGE = (20000, 32000)


def pick_listen_port(host: str = "127.0.0.1") -> int:
    """A port of _PORT_RANGE free on `host` now (a random pick, checked by binding)."""
    import random
    import socket
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(*_PORT_RANGE)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {_PORT_RANGE} on {host}")
_ADMIN_RE = re.compile(r"admin listening on http://[0-9.]+:(\d+)")
_SSL_RE = re.compile(r"listening on SSL://[0-9.]+:(\d+)")

_PR_SET_PDEATHSIG = 1


def _child_setup():
    # Runs in the child between fork and exec: die with the test process.
    # (PDEATHSIG fires when the forking *thread* exits: brokers are started from
    # the main thread only.)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.end


def wait_until(cond, timeout: float, what: str = "condition", interval: float = 0.02):
    """Polls cond() until it returns a truthy value (which is returned) or the
    deadline passes (AssertionError naming `what`)."""
    d = Deadline(timeout)
    last_exc = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except Exception as e:  # keep polling; report the last error on timeout
            last_exc = e
        if d.expired():
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}"
                                 + (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(min(interval, max(0.001, d.remaining())))


class BrokerStartError(AssertionError):
    pass


class Broker:
    """One strata broker process on a private temp dir."""

    _all: list["Broker"] = []
    _lock = threading.Lock()

    def __init__(self, overrides: dict | None = None, name: str = "strata", start: bool = True,
                 startup_timeout: float = 30.0, extra_args: list | None = None,
                 host: str = "127.0.0.1", cmd_prefix: list | None = None, log_dirs: int = 1):
        """host: the address the listeners bind; cmd_prefix: argv run before the
        broker's (the fault suite's `ip netns exec NS`, which execs, so the PID
        is still the broker's); log_dirs: how many log directories (data, data2, ...)."""
        self.name = name
        self.host = host
        self.cmd_prefix = list(cmd_prefix or [])
        self.overrides = dict(overrides or {})
        self.extra_args = list(extra_args or [])
        self.startup_timeout = startup_timeout
        self.tmp = tempfile.mkdtemp(prefix=f"strata-it-{name}-")
        self.data_dir = os.path.join(self.tmp, "data")
        # log.dirs: data_dir first (it holds the metadata file), then data2, data3, ...
        self.log_dirs = [self.data_dir] + [os.path.join(self.tmp, f"data{i + 1}") for i in range(1, log_dirs)]
        self.log_path = os.path.join(self.tmp, "broker.log")
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.admin_port: int | None = None  # set when the broker logs its admin listener
        self.ssl_port: int | None = None  # set when the broker logs an SSL listener
        self.exit_codes: list[int] = []
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self._reader: threading.Thread | None = None
        self._logf = open(self.log_path, "a", buffering=1)
        self._cleaned = False
        with Broker._lock:
            Broker._all.append(self)
        if start:
            self.start()

    # ---- lifecycle -------------------------------------------------------
    @property
    def bootstrap(self) -> str:
        assert self.port is not None, "broker not started"
        return f"{self.host}:{self.port}"

    @property
    def ssl_bootstrap(self) -> str:
        assert self.ssl_port is not None, "broker has no SSL listener"
        return f"127.0.0.1:{self.ssl_port}"

    @property
    def admin_url(self) -> str | None:
        return f"http://127.0.0.1:{self.admin_port}" if self.admin_port is not None else None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self, port: int = 0) -> list:
        cmd = self.cmd_prefix + [STRATA_BIN, "serve",
               "--override", f"listeners=PLAINTEXT://{self.host}:{port}",
               "--override", f"log.dirs={','.join(self.log_dirs)}"]
        # The admin HTTP listener on an ephemeral port unless the test sets
        # one (the default, 9644, would clash between brokers run in parallel).
        if "strata.admin.listener" not in self.overrides:
            cmd += ["--override", "strata.admin.listener=127.0.0.1:0"]
        for k, v in self.overrides.items():
            cmd += ["--override", f"{k}={v}"]
        return cmd + self.extra_args

    def start(self, port: int = 0):
        """Starts the broker (port 0: a free one below the ephemeral range, the default)."""
        assert not self.alive(), "broker already running"
        if not os.access(STRATA_BIN, os.X_OK):
            raise BrokerStartError(f"broker binary {STRATA_BIN} not found or not executable "
                                   "(build it, or set STRATA_BIN)")
        if port != 0 or self.cmd_prefix:
            return self._start(port)
        # Another test may take the picked port between the check and the broker's bind.
        for attempt in range(5):
            try:
                return self._start(pick_listen_port(self.host))
            except BrokerStartError as e:
                if "Address already in use" not in str(e) or attempt == 4:
                    raise

    def _start(self, port: int):
        with self._cond:
            first_line = len(self._lines)
        self._note(f"---- starting: {' '.join(self.command(port))}")
        self.port = None
        self.admin_port = None
        self.ssl_port = None
        self.proc = subprocess.Popen(self.command(port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.tmp, preexec_fn=_child_setup,
                                     close_fds=True)
        self._reader = threading.Thread(target=self._drain, args=(self.proc,), daemon=True,
                                        name=f"drain-{self.name}-{self.proc.pid}")
        self._reader.start()
        d = Deadline(self.startup_timeout)
        port = None
        with self._cond:
            while True:
                new = self._lines[first_line:]
                if port is None:
                    for i, l in enumerate(new):
                        m = _LISTEN_RE.search(l)
                        if m:
                            port = int(m.group(1))
                            started_idx = first_line + i
                            break
                if port is not None and any("started in" in l for l in self._lines[started_idx:]):
                    break
                if self.proc.poll() is not None and not self._reader_alive():
                    raise BrokerStartError(f"broker exited with {self.proc.returncode} during startup\n"
                                           + self.log_tail())
                if d.expired():
                    self._kill_now()
                    raise BrokerStartError(f"broker did not log 'listening on' + 'started in' within "
                                           f"{self.startup_timeout} s\n" + self.log_tail())
                self._cond.wait(timeout=min(0.2, d.remaining() + 0.001))
        self.port = port
        with self._cond:
            self.admin_port = next((int(m.group(1)) for m in map(_ADMIN_RE.search, self._lines[first_line:]) if m),
                                   None)
            self.ssl_port = next((int(m.group(1)) for m in map(_SSL_RE.search, self._lines[first_line:]) if m), None)
        return self

    def _reader_alive(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def _drain(self, proc):
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self._lines.append(line)
                try:
                    self._logf.write(line + "\n")
                except ValueError:
                    pass
                self._cond.notify_all()
        proc.stdout.close()
        with self._cond:
            self._cond.notify_all()

    def _note(self, s: str):
        with self._cond:
            self._lines.append(s)
            try:
                self._logf.write(s + "\n")
            except ValueError:
                pass

    def _reap(self, timeout: float) -> int:
        rc = self.proc.wait(timeout=timeout)
        if self._reader:
            self._reader.join(timeout=5)
        self.exit_codes.append(rc)
        self._note(f"---- pid {self.proc.pid} exited with {rc}")
        return rc

    def stop(self, timeout: float = 10.0, expect_rc: int | None = 0) -> int:
        """SIGTERM and wait (bounded); asserts the exit code (0 by default)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self._reap(timeout)
            except subprocess.TimeoutExpired:
                self._kill_now()
                raise AssertionError(f"broker pid {self.proc.pid} did not exit within {timeout} s of "
                                     f"SIGTERM\n" + self.log_tail())
        else:
            rc = self.proc.returncode
            if not self.exit_codes or self.exit_codes[-1] != rc:
                self._reap(1)
        if expect_rc is not None and rc != expect_rc:
            raise AssertionError(f"broker exited with {rc}, expected {expect_rc}\n" + self.log_tail())
        return rc

    def kill9(self):
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self._reap(10)

    def _kill_now(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self._reap(10)
            except Exception:
                pass

    def restart(self, kill: bool = False, same_port: bool = False):
        """Stops (SIGTERM, or SIGKILL with kill=True) and starts again on the same
        data dir. The port changes unless same_port: clients must then reconnect
        to the new .bootstrap."""
        old_port = self.port
        if self.alive():
            self.kill9() if kill else self.stop()
        return self.start(port=old_port if same_port else 0)

    def close(self):
        """Kills the process if still running and removes the temp dir."""
        if self._cleaned:
            return
        self._cleaned = True
        self._kill_now()
        try:
            self._logf.close()
        except Exception:
            pass
        if not KEEP_TMP:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- log -------------------------------------------------------------
    def log_lines(self) -> list:
        with self._cond:
            return list(self._lines)

    def log_text(self) -> str:
        return "\n".join(self.log_lines())

    def log_tail(self, n: int = 200) -> str:
        lines = self.log_lines()
        head = f"==== broker log ({self.name}, {self.log_path}, last {min(n, len(lines))} of {len(lines)} lines) ===="
        return "\n".join([head] + lines[-n:] + ["==== end of broker log ===="])

    def wait_for_log(self, pattern: str, timeout: float = 10.0, start: int = 0):
        rx = re.compile(pattern)
        return wait_until(lambda: next((l for l in self.log_lines()[start:] if rx.search(l)), None),
                          timeout, f"broker log line matching {pattern!r}")


def _cleanup_all():
    for b in list(Broker._all):
        try:
            b.close()
        except Exception:
            pass


atexit.register(_cleanup_all)


def _term_handler(signum, frame):
    _cleanup_all()
    os._exit(128 + signum)


class BrokerTestCase(unittest.TestCase):
    """Prints the log of every broker created by (or alive during) a test when it fails."""

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        first = len(Broker._all)
        alive_before = [b for b in Broker._all if b.alive()]
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            involved = alive_before + [b for b in Broker._all[first:] if b not in alive_before]
            for b in involved:
                sys.stderr.write("\n" + b.log_tail() + "\n")
            sys.stderr.flush()
        return out

    @classmethod
    def stop_shared_broker(cls):
        """tearDownClass of a suite sharing one broker (cls.b, from setUpClass):
        a clean stop (exit code 0 asserted), and the process and data cleaned
        up even if that fails."""
        try:
            cls.b.stop()
        finally:
            cls.b.close()

    def broker(self, **kw) -> Broker:
        """A broker for this test only, closed at the end of the test."""
        b = Broker(**kw)
        self.addCleanup(b.close)
        return b


def _watchdog(seconds: float):
    def fire():
        sys.stderr.write(f"\n*** integration test file exceeded {seconds} s: dumping stacks, "
                         f"killing brokers, exiting\n")
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        for b in list(Broker._all):
            if b.alive():
                sys.stderr.write(b.log_tail(80) + "\n")
        _cleanup_all()
        sys.stderr.flush()
        os._exit(3)

    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()


def main():
    signal.signal(signal.SIGTERM, _term_handler)
    _watchdog(FILE_TIMEOUT_S)
    unittest.main(verbosity=2)


# ---- small shared helpers -------------------------------------------------

def free_child_cleanup(proc: subprocess.Popen, timeout: float = 5.0):
    """Terminates a helper child process by PID (SIGTERM, then SIGKILL)."""
    if proc.poll() is None:
        try:
            proc.terminate()
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
        except ProcessLookupError:
            pass


def payload(i: int, size: int = 0, seed: str = "") -> bytes:
    """Deterministic, binary (all 256 byte values) payload for message i."""
    base = f"{seed}msg-{i:08d}|".encode()
    if size <= len(base):
        return base
    body = bytes(((i * 131 + j * 7) & 0xFF) for j in range(size - len(base)))
    return base + body


# ---- the message set every client test produces and checks ------------------

# Message timestamps: an hour before this run started, on the hour. Recent on
# purpose: time-based retention (retention.ms, 7 days by default) would
# rightly delete records with old timestamps.
BASE_TS = (int(time.time()) // 3600 * 3600 - 3600) * 1000


def make_messages(n: int, partitions: int, seed: str = "", big_every: int = 0) -> list:
    """n messages spread round-robin over `partitions`, with keys (some null),
    values (some null, some empty, binary, a few large when big_every > 0),
    headers (none, several, duplicate keys, empty value) and timestamps."""
    msgs = []
    for i in range(n):
        key = None if i % 5 == 0 else f"{seed}key-{i}".encode()
        if i % 7 == 3:
            value = None
        elif i % 11 == 4:
            value = b""
        elif big_every and i % big_every == big_every - 1:
            value = payload(i, 100_000, seed)
        else:
            value = payload(i, 20 + (i * 37) % 700, seed)
        if key is None and value is None:
            key = f"{seed}tombstone-{i}".encode()  # kafka-python refuses a record with neither
        if i % 4 == 0:
            headers = []
        else:
            headers = [("idx", str(i).encode()), ("bin", bytes([i % 256, 0, 255]))]
            if i % 4 == 2:
                headers.append(("idx", b"dup"))
            if i % 8 == 3:
                headers.append(("empty", b""))
        msgs.append({"i": i, "partition": i % partitions, "key": key, "value": value,
                     "headers": headers, "ts": BASE_TS + i})
    return msgs


def by_partition(msgs: list, partitions: int) -> dict:
    out = {p: [] for p in range(partitions)}
    for m in msgs:
        out[m["partition"]].append(m)
    return out


def describe_mismatch(expected: list, got: list, fields=("key", "value", "headers")) -> str:
    """First difference between two per-partition sequences of message dicts."""
    if len(expected) != len(got):
        msg = f"count differs: expected {len(expected)}, got {len(got)}"
    else:
        msg = "same count"
    for idx, (e, g) in enumerate(zip(expected, got)):
        for f in fields:
            if e.get(f) != g.get(f):
                ev, gv = e.get(f), g.get(f)
                short = lambda v: (repr(v[:60]) + f"...(len {len(v)})") if isinstance(v, (bytes, bytearray)) and len(v) > 60 else repr(v)
                return f"{msg}; first difference at position {idx} field {f}: expected {short(ev)}, got {short(gv)}"
    return msg


def known_bug(reason: str):
    """Skips a test that fails because of a documented broker bug. Set
    STRATA_IT_RUN_KNOWN_BUGS=1 to run those tests anyway (to check a fix)."""
    if os.environ.get("STRATA_IT_RUN_KNOWN_BUGS") == "1":
        return lambda f: f
    return unittest.skip(reason)
