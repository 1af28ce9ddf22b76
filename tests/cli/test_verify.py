#!/usr/bin/python3
"""`strata verify` against a real broker, and `strata verify check` on
tampered copies of a real history:

- a clean run (idempotent, acks=all) and a group run exit 0 with every
  acknowledged value read and no violation (summary JSON, history);
- check: the saved history passes again; a removed read is lost, a read at a
  second offset duplicated, a read of a value never sent a phantom (exit 1);
  a failed send never read is indeterminate, not lost (exit 0); an unfinished
  read is INCOMPLETE (exit 3);
- a real loss: DeleteRecords (raw request) below acknowledged values, then
  `verify check --reread` reads the topic again and reports them lost;
- bad flags and an unreachable broker: exit 2, one line, bounded time.
"""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402

STRATA = harness.STRATA_BIN
KEYS = ["sent", "acked", "failed", "read", "lost", "duplicated", "reordered", "phantom", "offset_conflicts",
        "commits_backwards", "indeterminate", "indeterminate_present", "indeterminate_absent",
        "longest_unavailable_ms", "violations", "read_complete", "duration_ms"]


def run(args, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([STRATA, "verify"] + args, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def one_line(tc, text: bytes) -> str:
    s = text.decode("utf-8", "replace")
    tc.assertTrue(s.endswith("\n") and s.count("\n") == 1, f"expected exactly one line, got {s!r}")
    return s.rstrip("\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kstring(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def delete_records(bootstrap: str, topic: str, partition: int, offset: int) -> tuple:
    """DeleteRecords v0 on the raw protocol (no Python client here has it).
    Returns (low watermark, error code) for the partition."""
    host, port = bootstrap.rsplit(":", 1)
    body = (struct.pack(">hhi", 21, 0, 7) + kstring("verify-test") + struct.pack(">i", 1) + kstring(topic) +
            struct.pack(">iiqi", 1, partition, offset, 10_000))
    with socket.create_connection((host, int(port)), timeout=15) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        buf = b""
        while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise AssertionError("DeleteRecords: connection closed")
            buf += chunk
    r = buf[4:]
    corr, _throttle, _ntopics = struct.unpack(">iii", r[:12])
    assert corr == 7
    (nlen,) = struct.unpack(">h", r[12:14])
    pos = 14 + nlen
    _nparts, part, low, err = struct.unpack(">iiqh", r[pos:pos + 18])
    assert part == partition
    return low, err


class VerifyTest(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker()
        cls.bs = cls.b.bootstrap
        cls.tmp = tempfile.mkdtemp(prefix="strata-verify-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        cls.stop_shared_broker()

    def path(self, name: str) -> str:
        return os.path.join(self.tmp, f"{self._testMethodName}-{name}")

    def verify_run(self, topic: str, *extra, expect_rc: int = 0) -> tuple:
        """A run with --history and --summary-json; returns (summary, history lines, stdout)."""
        h, s = self.path("history.jsonl"), self.path("summary.json")
        r = run(["-b", self.bs, "--topic", topic, "--create", "--history", h, "--summary-json", s] + list(extra),
                timeout=90)
        self.assertEqual(r.returncode, expect_rc, r.stdout.decode() + r.stderr.decode())
        with open(s) as f:
            summary = json.load(f)
        with open(h) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        return summary, lines, r.stdout.decode()

    def check(self, lines: list, expect_rc: int, *extra) -> dict:
        h, s = self.path("tampered.jsonl"), self.path("tampered-summary.json")
        with open(h, "w") as f:
            f.writelines(json.dumps(e) + "\n" for e in lines)
        r = run(["check", "--history", h, "--summary-json", s] + list(extra))
        self.assertEqual(r.returncode, expect_rc, r.stdout.decode() + r.stderr.decode())
        with open(s) as f:
            summary = json.load(f)
        self.assertIn("RESULT: ", r.stdout.decode())
        summary["_stdout"] = r.stdout.decode()
        return summary

    def assert_contract(self, summary: dict):
        for k in KEYS + ["idempotence"]:
            self.assertIsInstance(summary.get(k), int, k)
        for k in ("run_id", "acks"):
            self.assertIsInstance(summary.get(k), str, k)
        self.assertEqual(summary["violations"], sum(summary[k] for k in (
            "lost", "duplicated", "reordered", "phantom", "offset_conflicts", "commits_backwards")))

    # ---- runs ---------------------------------------------------------------

    def test_clean_run(self):
        summary, lines, out = self.verify_run("verify-clean", "--messages", "2000", "--rate", "0", "--acks", "all",
                                              "--idempotence", "--quiet")
        self.assert_contract(summary)
        self.assertEqual((summary["sent"], summary["acked"], summary["read"]), (2000, 2000, 2000), summary)
        self.assertEqual((summary["violations"], summary["failed"], summary["read_complete"]), (0, 0, 1), summary)
        self.assertEqual((summary["acks"], summary["idempotence"]), ("all", 1))
        self.assertEqual(out.strip().splitlines()[-1], "RESULT: OK")
        kinds = [e["type"] for e in lines]
        self.assertEqual(kinds[0], "run")
        self.assertEqual(kinds[-1], "end")
        self.assertEqual(kinds.count("send"), 2000)
        self.assertEqual(kinds.count("ack"), 2000)
        self.assertGreaterEqual(kinds.count("read"), 4000)
        # The final read: every value once more, read by a fresh consumer from the beginning.
        self.assertEqual(len([e for e in lines if e["type"] == "read" and e.get("final")]), 2000)
        self.assertEqual(kinds.count("position"), 6)  # 3 partitions, after the run's reads and the final read
        times = [e["time"] for e in lines]
        self.assertEqual(times, sorted(times))

    def test_group_run_records_commits(self):
        summary, lines, _ = self.verify_run("verify-group", "--messages", "1000", "--rate", "0", "--group",
                                            "verify-g", "--consumers", "2", "--quiet")
        self.assert_contract(summary)
        self.assertEqual((summary["acked"], summary["read"], summary["violations"]), (1000, 1000, 0), summary)
        commits = [e for e in lines if e["type"] == "commit"]
        self.assertTrue(commits, "no commit recorded")
        self.assertTrue(all(e["group"] == "verify-g" for e in commits))
        # The last commit of each partition is its end: every value was processed.
        ends = {e["partition"]: e["high_watermark"] for e in lines if e["type"] == "position"}
        last = {}
        for e in commits:
            last[e["partition"]] = max(last.get(e["partition"], 0), e["offset"])
        self.assertEqual(last, ends)

    # ---- check on tampered histories ------------------------------------------

    def test_check_tampered_history(self):
        summary, lines, _ = self.verify_run("verify-tamper", "--messages", "300", "--rate", "0", "--quiet")
        again = self.check(lines, 0)
        self.assertEqual({k: again[k] for k in KEYS}, {k: summary[k] for k in KEYS})

        # The final read (the log as it stands) decides what is there.
        reads = [i for i, e in enumerate(lines) if e["type"] == "read" and e.get("final")]
        first = lines[reads[0]]

        with self.subTest("a value missing from the final read is lost"):
            s = self.check(lines[:reads[0]] + lines[reads[0] + 1:], 1)
            self.assertEqual((s["lost"], s["violations"]), (1, 1), s)
            self.assertIn("RESULT: VIOLATIONS (lost=1)", s["_stdout"])

        with self.subTest("a read at a second offset is duplicated"):
            dup = dict(first, offset=10**9)
            s = self.check(lines[:-1] + [dup, lines[-1]], 1)
            self.assertEqual(s["duplicated"], 1, s)
            self.assertEqual(s["lost"], 0)

        with self.subTest("a read of a value never sent is a phantom"):
            ghost = dict(first, producer=99, seq=0, offset=10**9)
            s = self.check(lines[:-1] + [ghost, lines[-1]], 1)
            self.assertEqual((s["phantom"], s["violations"]), (1, 1), s)

        with self.subTest("a failed send never read is indeterminate, not lost"):
            t = lines[-1]["time"]
            send = {"type": "send", "time": t, "producer": 98, "seq": 0, "partition": 0}
            fail = dict(send, type="fail", error="_MSG_TIMED_OUT", code=-192)
            s = self.check(lines[:-1] + [send, fail, lines[-1]], 0)
            self.assertEqual((s["failed"], s["indeterminate"], s["indeterminate_absent"], s["lost"]), (1, 1, 1, 0), s)
            read = dict(first, producer=98, seq=0, offset=10**9)
            s = self.check(lines[:-1] + [send, fail, read, lines[-1]], 0)
            self.assertEqual((s["indeterminate_present"], s["phantom"], s["violations"]), (1, 0, 0), s)

        with self.subTest("an unfinished read is INCOMPLETE"):
            s = self.check(lines[:-1] + [dict(lines[-1], read_complete=0)], 3)
            self.assertEqual((s["read_complete"], s["violations"]), (0, 0), s)
            self.assertIn("RESULT: INCOMPLETE (", s["_stdout"])

    def test_real_loss_seen_by_reread(self):
        topic = "verify-loss"
        summary, lines, _ = self.verify_run(topic, "--partitions", "1", "--messages", "500", "--rate", "0",
                                            "--quiet")
        self.assertEqual(summary["violations"], 0)
        h = self.path("history.jsonl")
        # Nothing changed: a re-read finds everything.
        r = run(["check", "--history", h, "--reread", "-b", self.bs, "--quiet"])
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        # The broker deletes the first 100 acknowledged values.
        low, err = delete_records(self.bs, topic, 0, 100)
        self.assertEqual((low, err), (100, 0))
        s = self.path("reread.json")
        r = run(["check", "--history", h, "--reread", "-b", self.bs, "--quiet", "--summary-json", s])
        self.assertEqual(r.returncode, 1, r.stdout.decode() + r.stderr.decode())
        with open(s) as f:
            after = json.load(f)
        self.assertEqual((after["lost"], after["read"], after["acked"], after["read_complete"]), (100, 400, 500, 1))
        self.assertIn("RESULT: VIOLATIONS (lost=100)", r.stdout.decode())

    def test_stopped_broker_is_incomplete_not_lost(self):
        """The broker freezes (SIGSTOP) mid-run: sends fail (indeterminate,
        legal), reading cannot reach the end: INCOMPLETE, exit 3, in bounded
        time (no librdkafka call may hang the command)."""
        b = self.broker()
        s = self.path("summary.json")
        proc = subprocess.Popen([STRATA, "verify", "-b", b.bootstrap, "--topic", "frozen", "--create",
                                 "--messages", "300", "--rate", "100", "--delivery-timeout-ms", "2000",
                                 "--drain-timeout", "2", "--summary-json", s],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        stopped = False
        try:
            for line in proc.stderr:  # a progress line each second, until acks arrive
                if b" acked=" in line and b" acked=0 " not in line:
                    break
            os.kill(b.pid, signal.SIGSTOP)
            stopped = True
            start = time.monotonic()
            out, _ = proc.communicate(timeout=40)
            self.assertLess(time.monotonic() - start, 30)
        finally:
            if stopped:
                os.kill(b.pid, signal.SIGCONT)
            harness.free_child_cleanup(proc)
        self.assertEqual(proc.returncode, 3, out.decode())
        self.assertIn("RESULT: INCOMPLETE (", out.decode())
        with open(s) as f:
            summary = json.load(f)
        self.assert_contract(summary)
        self.assertEqual((summary["read_complete"], summary["violations"]), (0, 0), summary)
        self.assertGreater(summary["acked"], 0)
        self.assertGreater(summary["indeterminate"], 0)
        self.assertEqual(summary["failed"] + summary["acked"], summary["sent"])
        self.assertGreaterEqual(summary["longest_unavailable_ms"], 1000)

    # ---- errors -----------------------------------------------------------------

    def test_bad_flags(self):
        for args in (["--bogus"], ["-b", self.bs], ["--messages", "5", "--acks", "2"],
                     ["--messages", "5", "--producers", "0"], ["--messages", "5", "--idempotence", "--no-idempotence"],
                     ["--messages", "5", "-X", "no.such.property=1", "-b", self.bs],
                     ["check"], ["check", "--history", self.path("missing.jsonl")]):
            with self.subTest(args=args):
                r = run(args, timeout=30)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertTrue(one_line(self, r.stderr).startswith("strata verify: error: "))

    def test_unreachable_broker(self):
        bs = f"127.0.0.1:{free_port()}"
        for extra in ([], ["--create"]):
            with self.subTest(extra=extra):
                start = time.monotonic()
                r = run(["-b", bs, "--messages", "10", "--connect-timeout-ms", "2000"] + extra, timeout=30)
                self.assertEqual(r.returncode, 2, r.stderr)
                line = one_line(self, r.stderr)
                self.assertTrue(line.startswith(f"strata verify: error: cannot connect to {bs} within 2000 ms"), line)
                self.assertLess(time.monotonic() - start, 10)
                self.assertEqual(r.stdout, b"")


if __name__ == "__main__":
    harness.main()
