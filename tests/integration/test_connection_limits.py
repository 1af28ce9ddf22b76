#!/usr/bin/python3
"""Connection-level hardening (issue 13), over raw loopback sockets against the real
broker: a size prefix reserves no memory, queued.max.request.bytes bounds the bytes of
buffered requests, Kafka's connection limits (max.connections, max.connections.per.ip
and its overrides, max.connection.creation.rate), the broker out of file descriptors,
and warnings a client can trigger stay a handful of lines however often it triggers
them. Every test checks that a well-behaved client is still served."""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Deadline, wait_until  # noqa: E402

MIB = 1024 * 1024


def api_versions_v0(correlation_id: int = 1) -> bytes:
    body = struct.pack(">hhih", 18, 0, correlation_id, 4) + b"test"
    return struct.pack(">i", len(body)) + body


def connect(port: int, source: str = "127.0.0.1", timeout: float = 10.0) -> socket.socket:
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed by the broker")
        buf += chunk
    return buf


def served(s: socket.socket, correlation_id: int = 1) -> bool:
    """Sends ApiVersions v0 on `s`; True when the answer (with our correlation id) comes
    back within the socket's timeout, False when the broker closed the connection or
    did not answer."""
    try:
        s.sendall(api_versions_v0(correlation_id))
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        body = recv_exact(s, size)
        return struct.unpack(">i", body[:4])[0] == correlation_id
    except (ConnectionError, socket.timeout, OSError):
        return False


def new_client_served(port: int, source: str = "127.0.0.1") -> bool:
    try:
        with connect(port, source, timeout=5.0) as s:
            return served(s)
    except OSError:
        return False


def closed_by_broker(s: socket.socket, timeout: float = 5.0) -> bool:
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def proc_status(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmSize", "VmRSS"):
                out[k] = int(v.split()[0]) * 1024
    return out


def log_count(b, needle: str) -> int:
    return sum(1 for line in b.log_lines() if needle in line)


class RequestMemory(harness.BrokerTestCase):
    def test_a_size_prefix_alone_reserves_no_memory(self):
        # 400 connections each declare a 100 MiB request and send 20 bytes of it.
        # Before, each reserved the declared size at once: 40 GB of virtual memory.
        b = self.broker(overrides={"num.network.threads": "2"})
        base = proc_status(b.pid)
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for i in range(400):
            s = connect(b.port, f"127.0.0.{2 + i % 4}")
            s.sendall(struct.pack(">i", 100 * MIB) + b"\x00\x00\x00\x00" + b"x" * 16)
            socks.append(s)
        # A normal client is served meanwhile, and the broker's memory stays small while
        # it reads those prefixes (watched for a while: before, it jumped at once).
        deadline = Deadline(2.0)
        while not deadline.expired():
            self.assertTrue(new_client_served(b.port))
            now = proc_status(b.pid)
            self.assertLess(now["VmSize"] - base["VmSize"], 256 * MIB, (base, now))
            self.assertLess(now["VmRSS"] - base["VmRSS"], 64 * MIB, (base, now))
        self.assertTrue(b.alive())

    def test_queued_max_request_bytes_stops_reading_until_memory_is_freed(self):
        b = self.broker(overrides={"queued.max.request.bytes": str(1 * MIB), "num.network.threads": "2"})
        hogs = []
        try:
            # Eight partial 100 MiB requests with 512 KiB of body each hold the 1 MiB pool.
            for i in range(8):
                s = connect(b.port)
                s.sendall(struct.pack(">i", 100 * MIB) + b"y" * (512 * 1024))
                hogs.append(s)
            b.wait_for_log("request memory pool spent", timeout=10)
            # The broker reads nothing more while the pool is spent: no answer.
            waiting = connect(b.port, timeout=1.0)
            self.addCleanup(waiting.close)
            self.assertFalse(served(waiting))
            rss = proc_status(b.pid)["VmRSS"]
            self.assertLess(rss, 200 * MIB)
        finally:
            for s in hogs:
                s.close()
        # The hogs' buffers are freed with their connections: the broker reads again.
        wait_until(lambda: new_client_served(b.port), 10, "a client served once memory is freed")
        self.assertTrue(b.alive())


def kafka_string(v: str) -> bytes:
    b = v.encode()
    return struct.pack(">h", len(b)) + b


def join_group_v0(group: str, correlation_id: int) -> bytes:
    """JoinGroup v0: a new member of `group` with one (empty) protocol."""
    body = struct.pack(">hhi", 11, 0, correlation_id) + kafka_string("test")
    body += kafka_string(group) + struct.pack(">i", 30000) + kafka_string("") + kafka_string("consumer")
    body += struct.pack(">i", 1) + kafka_string("range") + struct.pack(">i", 0)
    return struct.pack(">i", len(body)) + body


def socket_count(pid: int) -> int:
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


class CondemnedConnections(harness.BrokerTestCase):
    def test_a_client_that_hangs_up_is_let_go_while_an_earlier_request_waits(self):
        # A pipelined JoinGroup parks (here for the 20 s initial rebalance delay), then a
        # request with an unknown API key condemns the connection: the JoinGroup is still
        # answered before the close if the client stays. When the client hangs up
        # instead, the broker must close its socket at once, not when the JoinGroup
        # completes (before: the fuzz load held 1,300 such sockets).
        b = self.broker(overrides={"group.initial.rebalance.delay.ms": "20000"})
        with connect(b.port) as warm:
            self.assertTrue(served(warm))
        wait_until(lambda: socket_count(b.pid) <= 2, 5.0, "the warm-up connection to close")
        base = socket_count(b.pid)
        s = connect(b.port)
        bad = struct.pack(">hhi", 9999, 0, 2) + kafka_string("test")
        s.sendall(join_group_v0("lingering-group", 1) + struct.pack(">i", len(bad)) + bad)
        wait_until(lambda: socket_count(b.pid) == base + 1, 5.0, "the broker to accept the connection")
        wait_until(lambda: log_count(b, "unsupported API key 9999") >= 1, 5.0, "the broker to condemn the connection")
        s.close()
        wait_until(lambda: socket_count(b.pid) == base, 5.0,
                   "the broker to close the socket of a client that hung up")
        self.assertTrue(new_client_served(b.port))


class ConnectionLimits(harness.BrokerTestCase):
    def test_max_connections_per_ip_and_overrides(self):
        b = self.broker(overrides={"max.connections.per.ip": "2",
                                   "max.connections.per.ip.overrides": "127.0.0.3:4"})
        held = []
        self.addCleanup(lambda: [s.close() for s in held])
        for source, limit in (("127.0.0.2", 2), ("127.0.0.3", 4)):
            for i in range(limit):
                s = connect(b.port, source)
                held.append(s)
                self.assertTrue(served(s), f"connection {i} from {source}")
            extra = connect(b.port, source)
            self.addCleanup(extra.close)
            self.assertTrue(closed_by_broker(extra), f"connection past the limit from {source}")
        # Another address is not affected.
        self.assertTrue(new_client_served(b.port, "127.0.0.4"))
        # A closed connection gives its place back.
        first = held.pop(0)
        first.close()
        wait_until(lambda: new_client_served(b.port, "127.0.0.2"), 5, "a new connection from 127.0.0.2")
        wait_until(lambda: log_count(b, "max.connections.per.ip (2) reached") >= 1, 5, "the refusal logged")

    def test_max_connections_leaves_new_connections_waiting(self):
        b = self.broker(overrides={"max.connections": "3"})
        held = [connect(b.port) for _ in range(3)]
        self.addCleanup(lambda: [s.close() for s in held])
        for s in held:
            self.assertTrue(served(s))
        # The fourth completes its TCP handshake (the listen backlog) but is not
        # accepted: no answer while three are open.
        waiting = connect(b.port, timeout=1.0)
        self.addCleanup(waiting.close)
        waiting.sendall(api_versions_v0(7))
        waiting.settimeout(1.0)
        with self.assertRaises(socket.timeout):
            waiting.recv(4)
        held.pop().close()
        # One closed: the waiting connection is accepted and its request answered.
        waiting.settimeout(10.0)
        size = struct.unpack(">i", recv_exact(waiting, 4))[0]
        self.assertEqual(struct.unpack(">i", recv_exact(waiting, size)[:4])[0], 7)

    def test_max_connection_creation_rate_delays_accepting(self):
        rate = 5
        b = self.broker(overrides={"max.connection.creation.rate": str(rate)})
        t0 = time.monotonic()
        n = 20
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for i in range(n):
            s = connect(b.port, timeout=10.0)
            socks.append(s)
            self.assertTrue(served(s, i + 1), f"connection {i}")
        elapsed = time.monotonic() - t0
        # A burst of one second's worth at once, then `rate` a second: at least
        # (n - rate) / rate seconds for all of them (a little slack for the clock).
        self.assertGreaterEqual(elapsed, (n - rate) / rate - 0.3)
        self.assertLess(elapsed, 20)


class OutOfDescriptors(harness.BrokerTestCase):
    def test_broker_survives_running_out_of_descriptors(self):
        limit = 96

        class LimitedBroker(harness.Broker):
            def command(self, port: int = 0) -> list:
                return ["prlimit", f"--nofile={limit}:{limit}", "--"] + super().command(port)

        b = LimitedBroker(overrides={"num.network.threads": "2"})
        self.addCleanup(b.close)
        keeper = connect(b.port)
        self.addCleanup(keeper.close)
        self.assertTrue(served(keeper))
        extra = []
        try:
            for _ in range(3 * limit):
                extra.append(connect(b.port, timeout=5.0))
            t0 = time.monotonic()
            wait_until(lambda: log_count(b, "too many open files") >= 1, 10, "the descriptor warning")
            # The broker keeps serving the client it has while out of descriptors.
            self.assertTrue(served(keeper, 2))
            # Past the limit, new connections are closed at once, not left waiting.
            self.assertTrue(closed_by_broker(extra[-1], 5.0))
            # Keep it out of descriptors for a while: the warning stays rate-limited.
            deadline = Deadline(2.5)
            while not deadline.expired():
                self.assertTrue(served(keeper, 3))
            lines = log_count(b, "too many open files")
            self.assertLessEqual(lines, 2 + int((time.monotonic() - t0) / 5), b.log_tail(30))
            self.assertIn(f"limit {limit}, from getrlimit", b.log_text())
        finally:
            for s in extra:
                s.close()
        wait_until(lambda: new_client_served(b.port), 10, "a new client served after the extra sockets closed")
        self.assertTrue(b.alive())


class ConnectionMemory(harness.BrokerTestCase):
    def test_memory_of_closed_connections_is_returned(self):
        # Issue 13: after rounds of 10,000 connections opened and closed, RSS crept from
        # 96 to 158 MB and never came back. Here: rounds of 4,000; once they are closed,
        # most of what they took must be given back (before: under 5%).
        b = self.broker(overrides={"num.network.threads": "2"})
        import urllib.request

        def active() -> int:
            with urllib.request.urlopen(b.admin_url + "/metrics", timeout=5) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith("strata_active_connections"):
                        return int(float(line.split()[-1]))
            raise AssertionError("no strata_active_connections")

        start = proc_status(b.pid)["VmRSS"]
        for rnd in range(3):
            socks = []
            try:
                for i in range(4000):
                    s = connect(b.port, f"127.0.0.{2 + rnd}")
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    s.sendall(api_versions_v0(i))
                    socks.append(s)
                for s in socks:
                    size = struct.unpack(">i", recv_exact(s, 4))[0]
                    recv_exact(s, size)
                peak = proc_status(b.pid)["VmRSS"]
            finally:
                for s in socks:
                    s.close()
            wait_until(lambda: active() == 0, 20, "every connection closed")
            bound = start + 0.7 * (peak - start)
            wait_until(lambda: proc_status(b.pid)["VmRSS"] <= bound, 10,
                       f"round {rnd + 1}: RSS back under {bound / MIB:.1f} MiB (start {start / MIB:.1f}, "
                       f"peak {peak / MIB:.1f}, now {proc_status(b.pid)['VmRSS'] / MIB:.1f})")
        self.assertTrue(new_client_served(b.port))


class LogFlood(harness.BrokerTestCase):
    def test_ten_thousand_bad_requests_log_a_handful_of_lines(self):
        b = self.broker(overrides={"socket.request.max.bytes": str(MIB)})
        bad = [
            struct.pack(">i", -1),                                        # bad size prefix
            struct.pack(">i", 2 * MIB),                                   # larger than socket.request.max.bytes
            struct.pack(">ihhih", 10, 999, 0, 1, 0),                      # unknown API key
            struct.pack(">ihhih", 10, 3, 4, 1, 100),                      # client id past the frame
            struct.pack(">ihhih", 10, 0, 99, 1, 0),                       # Produce v99
            struct.pack(">ihhih", 10, 3, 4, 1, 0) + b"\xff\xff",          # Metadata body cut short
        ]
        before = len(b.log_lines())
        deadline = Deadline(60)
        n = 10_000
        for i in range(n):
            self.assertFalse(deadline.expired(), f"{i} of {n} bad requests sent")
            with connect(b.port, f"127.0.0.{2 + i % 8}") as s:
                s.sendall(bad[i % len(bad)])
                self.assertTrue(closed_by_broker(s), f"bad request {i}")
        self.assertTrue(new_client_served(b.port))
        lines = [line for line in b.log_lines()[before:] if "closing connection" in line]
        # One line per cause, then one per 5 s per cause with a count.
        elapsed = 60 - deadline.remaining()
        self.assertLessEqual(len(lines), len(bad) * (2 + int(elapsed / 5)), "\n".join(lines[:20]))
        self.assertGreaterEqual(len(lines), 4)
        self.assertTrue(b.alive())


if __name__ == "__main__":
    harness.main()
