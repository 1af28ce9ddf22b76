#!/usr/bin/python3
"""`strata produce` and `strata consume` against a real broker, checked
through another client (confluent_kafka):

- produce: keys (separator), fixed and per-line headers, every codec, acks,
  --partition, --file; byte-exact keys/values/headers and the partition
  librdkafka's partitioner picks; the stderr summary; a failed delivery.
- consume: --from-beginning with every --format placeholder, the default
  format, --offset (one partition, all, negative), --from-timestamp (ms and
  ISO 8601), from the end (waits for the "reading" line, then produces),
  --group commits (confluent_kafka committed()) and resumes.
- errors: unreachable broker (one line, nonzero, within the timeout), unknown
  topic with auto-create off, partition out of range, bad --format.
"""

import datetime
import os
import socket
import subprocess
import sys
import threading
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import clients  # noqa: E402
import harness  # noqa: E402
from harness import Deadline  # noqa: E402

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

STRATA = harness.STRATA_BIN
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def run(args, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs `strata args...` to completion (bounded: killed by subprocess.run on timeout)."""
    return subprocess.run([STRATA] + args, input=stdin if stdin is not None else b"", capture_output=True,
                          timeout=timeout)


def one_line(tc, text: bytes, what: str) -> str:
    s = text.decode("utf-8", "replace")
    tc.assertTrue(s.endswith("\n") and s.count("\n") == 1, f"{what}: expected exactly one line, got {s!r}")
    return s.rstrip("\n")


def free_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StderrWatcher:
    """Drains a child's stderr on a thread so the test can wait for a line."""

    def __init__(self, proc):
        self.lines = []
        self.cond = threading.Condition()
        self.t = threading.Thread(target=self._drain, args=(proc,), daemon=True)
        self.t.start()

    def _drain(self, proc):
        for raw in iter(proc.stderr.readline, b""):
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace"))
                self.cond.notify_all()

    def wait_for(self, needle: str, timeout: float):
        d = Deadline(timeout)
        with self.cond:
            while not any(needle in l for l in self.lines):
                if d.expired():
                    raise AssertionError(f"no stderr line containing {needle!r} within {timeout} s: {self.lines}")
                self.cond.wait(min(0.2, d.remaining() + 0.001))


class ProduceConsume(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        # A short initial rebalance delay keeps the --group tests quick.
        cls.b = harness.Broker(name="cli-produce-consume", overrides={"group.initial.rebalance.delay.ms": "0"})
        cls.bs = cls.b.bootstrap

    @classmethod
    def tearDownClass(cls):
        cls.stop_shared_broker()

    def topic(self, name, partitions=3):
        clients.create_topic(self.bs, name, partitions)
        return name

    def read_all(self, topic, partitions, expected_total, timeout=30):
        """Every record of the topic via confluent_kafka, per partition."""
        c = clients.consumer(self.bs)
        got = {p: [] for p in range(partitions)}
        eof = set()
        try:
            c.assign([TopicPartition(topic, p, -2) for p in range(partitions)])
            d = Deadline(timeout)
            while not d.expired():
                if sum(len(v) for v in got.values()) >= expected_total and len(eof) == partitions:
                    break
                m = c.poll(0.2)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == clients.KafkaError._PARTITION_EOF:
                        eof.add(m.partition())
                    continue
                eof.discard(m.partition())
                got[m.partition()].append({"offset": m.offset(), "key": m.key(), "value": m.value(),
                                           "headers": list(m.headers() or []), "ts": m.timestamp()[1]})
        finally:
            c.close()
        self.assertEqual(sum(len(v) for v in got.values()), expected_total, f"records in {topic}")
        return got

    # ---- produce ------------------------------------------------------------

    def test_produce_keys_headers_every_codec(self):
        # Every byte value but '\n' occurs in a value, a key with the
        # separator inside its value, an empty value, and a line without the
        # separator (a null key).
        binary = bytes(b for b in range(256) if b != 0x0A)
        lines = [(f"key-{i}".encode(), f"value {i}\twith : colons ünïcode ".encode()) for i in range(40)]
        lines += [(b"bin", binary), (b"empty", b""), (None, b"no separator here"), (b"", b"empty key")]
        stdin = b"".join((k + b":" if k is not None else b"") + v + b"\n" for k, v in lines)
        for codec in CODECS:
            with self.subTest(codec=codec):
                t = self.topic(f"produce-{codec}")
                r = run(["produce", t, "-b", self.bs, "--key-separator", ":", "--compression", codec,
                         "--acks", "all", "--header", "h1=one", "--header", "h2=x=y", "--header", "empty="],
                        stdin)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(one_line(self, r.stderr, "stderr"), f"strata produce: {len(lines)} messages to {t}")
                self.assertEqual(r.stdout, b"")
                got = self.read_all(t, 3, len(lines))
                hdrs = [("h1", b"one"), ("h2", b"x=y"), ("empty", b"")]
                # Non-empty keys: librdkafka's default partitioner (CRC-32 of
                # the key); per partition in input order. Null and empty keys
                # go to a random partition.
                by_p = {p: [] for p in range(3)}
                for k, v in lines:
                    if k:
                        by_p[zlib.crc32(k) % 3].append((k, v, hdrs))
                for p in range(3):
                    keyed = [(m["key"], m["value"], m["headers"]) for m in got[p] if m["key"]]
                    self.assertEqual(keyed, by_p[p], f"partition {p}")
                    self.assertEqual([m["offset"] for m in got[p]], list(range(len(got[p]))))
                unkeyed = sorted([(m["key"], m["value"], m["headers"]) for p in range(3) for m in got[p]
                                  if not m["key"]], key=lambda x: x[1])
                self.assertEqual(unkeyed, [(b"", b"empty key", hdrs), (None, b"no separator here", hdrs)])

    def test_produce_per_line_headers_partition_file_acks(self):
        t = self.topic("produce-file")
        path = os.path.join(self.b.tmp, "input.txt")
        with open(path, "wb") as f:
            f.write(b"a=1,b=2\tk1|v1\n\tk2|v2\nonly=\tnokey\nc=3\tk4|last line without newline")
        for acks, part in (("0", 0), ("1", 1), ("all", 2)):
            with self.subTest(acks=acks):
                r = run(["produce", t, "--bootstrap-server", self.bs, "--file", path, "--parse-headers",
                         "-K", "|", "--partition", str(part), "--acks", acks, "--linger-ms", "0",
                         "-H", "fixed=f"])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(one_line(self, r.stderr, "stderr"), f"strata produce: 4 messages to {t}")
        got = self.read_all(t, 3, 12)
        expect = [(b"k1", b"v1", [("fixed", b"f"), ("a", b"1"), ("b", b"2")]),
                  (b"k2", b"v2", [("fixed", b"f")]),
                  (None, b"nokey", [("fixed", b"f"), ("only", b"")]),
                  (b"k4", b"last line without newline", [("fixed", b"f"), ("c", b"3")])]
        for p in range(3):
            self.assertEqual([(m["key"], m["value"], m["headers"]) for m in got[p]], expect, f"partition {p}")

    def test_produce_bad_per_line_headers(self):
        t = self.topic("produce-badhdr", 1)
        r = run(["produce", t, "-b", self.bs, "--parse-headers"], b"a=1\tok\nno tab here\n")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("line 2: expected headers", one_line(self, r.stderr, "stderr"))
        self.assertEqual(sum(len(v) for v in self.read_all(t, 1, 1).values()), 1)

    def test_produce_delivery_failure(self):
        # The topic accepts batches of at most 200 bytes: the broker rejects
        # the big message, and the command must say so and fail.
        t = "produce-too-large"
        clients.create_topic(self.bs, t, 1, config={"max.message.bytes": "200"})
        r = run(["produce", t, "-b", self.bs], b"x" * 5000 + b"\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        line = one_line(self, r.stderr, "stderr")
        self.assertTrue(line.startswith(f"strata produce: error: 1 of 1 messages to '{t}' failed: "), line)
        self.assertIn("too large", line.lower())

    def test_produce_auto_creates_topic(self):
        r = run(["produce", "produce-autocreated", "-b", self.bs], b"hello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = self.read_all("produce-autocreated", 1, 1)
        self.assertEqual(got[0][0]["value"], b"hello")

    # ---- consume ------------------------------------------------------------

    def seed(self, topic, partitions=2, n=10, base_ts=None):
        base_ts = base_ts or harness.BASE_TS
        msgs = []
        for i in range(n):
            msgs.append({"partition": i % partitions, "key": None if i % 4 == 0 else f"k{i}".encode(),
                         "value": f"value {i} | tab\there".encode(),
                         "headers": [] if i % 3 == 0 else [("h", str(i).encode()), ("z", b"")],
                         "ts": base_ts + i * 1000})
        offsets = clients.produce(self.bs, topic, msgs)
        for m, o in zip(msgs, offsets):
            m["offset"] = o
        return msgs

    def test_consume_from_beginning_every_placeholder(self):
        t = self.topic("consume-fmt", 2)
        msgs = self.seed(t)
        r = run(["consume", t, "-b", self.bs, "--from-beginning", "--max-messages", str(len(msgs)), "-q",
                 "--format", "%T|%p|%o|%t|%k|%v|%h|%K|%S|%%|\\t"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")
        lines = r.stdout.decode().split("\n")
        self.assertEqual(lines[-1], "", "output ends with a newline")

        def expect(m):
            h = ",".join(f"{k}={v.decode()}" for k, v in m["headers"])
            k = m["key"].decode() if m["key"] is not None else ""
            return (f"{t}|{m['partition']}|{m['offset']}|{m['ts']}|{k}|{m['value'].decode()}|{h}|"
                    f"{len(m['key']) if m['key'] is not None else -1}|{len(m['value'])}|%|\t")
        self.assertEqual(sorted(lines[:-1]), sorted(expect(m) for m in msgs))
        # Order within a partition is offset order.
        for p in range(2):
            offs = [int(l.split("|")[2]) for l in lines[:-1] if l.split("|")[1] == str(p)]
            self.assertEqual(offs, sorted(offs))

    def test_consume_default_format_and_exit_at_end(self):
        t = self.topic("consume-default", 1)
        msgs = self.seed(t, partitions=1, n=5)
        r = run(["consume", t, "-b", self.bs, "--from-beginning", "--exit-at-end"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"".join(m["value"] + b"\n" for m in msgs))
        err = r.stderr.decode().splitlines()
        self.assertEqual(err, [f"strata consume: reading {t} partition 0", "strata consume: 5 messages"])
        # A format ending in \n gets no second newline.
        r = run(["consume", t, "-b", self.bs, "--from-beginning", "-e", "-q", "--format", "%o\\n"])
        self.assertEqual(r.stdout, b"0\n1\n2\n3\n4\n")

    def test_consume_from_offset(self):
        t = self.topic("consume-offset", 2)
        self.seed(t, n=12)  # 6 per partition
        fmt = ["-q", "-e", "--format", "%p:%o"]
        r = run(["consume", t, "-b", self.bs, "--partition", "1", "--offset", "3"] + fmt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(), "1:3\n1:4\n1:5\n")
        r = run(["consume", t, "-b", self.bs, "--offset", "4"] + fmt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.decode().split()), ["0:4", "0:5", "1:4", "1:5"])
        r = run(["consume", t, "-b", self.bs, "--offset", "-1"] + fmt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.decode().split()), ["0:5", "1:5"])

    def test_consume_from_timestamp(self):
        t = self.topic("consume-ts", 2)
        base = harness.BASE_TS
        self.seed(t, n=10, base_ts=base)  # message i has timestamp base + i s
        fmt = ["-q", "-e", "--format", "%t"]
        want = sorted(str(base + i * 1000) for i in range(5, 10))
        r = run(["consume", t, "-b", self.bs, "--from-timestamp", str(base + 4500)] + fmt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.decode().split()), want)
        iso = datetime.datetime.fromtimestamp((base + 5000) / 1000, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z")
        r = run(["consume", t, "-b", self.bs, "--from-timestamp", iso] + fmt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.decode().split()), want)
        # The same instant with a zone offset.
        local = datetime.datetime.fromtimestamp((base + 5000) / 1000,
                                                datetime.timezone(datetime.timedelta(hours=2)))
        r = run(["consume", t, "-b", self.bs, "--from-timestamp", local.strftime("%Y-%m-%dT%H:%M:%S+02:00")] + fmt)
        self.assertEqual(sorted(r.stdout.decode().split()), want)
        # After the last message: nothing, and --exit-at-end still exits.
        r = run(["consume", t, "-b", self.bs, "--from-timestamp", str(base + 60_000)] + fmt)
        self.assertEqual((r.returncode, r.stdout), (0, b""), r.stderr)
        r = run(["consume", t, "-b", self.bs, "--from-timestamp", "yesterday"] + fmt)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--from-timestamp expects", one_line(self, r.stderr, "stderr"))

    def test_consume_from_end(self):
        t = self.topic("consume-end", 2)
        self.seed(t, n=6)  # old messages: must not be printed
        proc = subprocess.Popen([STRATA, "consume", t, "-b", self.bs, "--max-messages", "3", "--timeout-ms",
                                 "30000", "--format", "%k=%v"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(harness.free_child_cleanup, proc)
        w = StderrWatcher(proc)
        w.wait_for("strata consume: reading", 20)
        new = [{"partition": i % 2, "key": f"new{i}".encode(), "value": f"fresh {i}".encode(), "headers": [],
                "ts": int(time.time() * 1000)} for i in range(3)]
        clients.produce(self.bs, t, new)
        # stderr belongs to the watcher thread (communicate() would race it for
        # the last line); three short lines of stdout fit in the pipe.
        proc.wait(timeout=30)
        out = proc.stdout.read()
        w.t.join(5)
        self.assertEqual(proc.returncode, 0, "".join(w.lines))
        self.assertEqual(sorted(out.decode().splitlines()), ["new0=fresh 0", "new1=fresh 1", "new2=fresh 2"])
        self.assertEqual(w.lines[-1], "strata consume: 3 messages\n")

    def committed(self, group, topic, partitions):
        c = Consumer(clients.base_conf(self.bs) | {"group.id": group})
        try:
            return {tp.partition: tp.offset
                    for tp in c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)}
        finally:
            c.close()

    def test_consume_group_commits(self):
        t = self.topic("consume-group", 2)
        self.seed(t, n=8)  # 4 per partition
        base = ["consume", t, "-b", self.bs, "--group", "g1", "--format", "%p:%o", "-q"]
        r = run(base + ["--from-beginning", "--max-messages", "5", "--timeout-ms", "20000"])
        self.assertEqual(r.returncode, 0, r.stderr)
        first = r.stdout.decode().split()
        self.assertEqual(len(first), 5)
        # Committed = one past the last printed offset of each partition.
        expect = {p: max([int(x.split(":")[1]) for x in first if x.startswith(f"{p}:")], default=-1) + 1
                  for p in range(2)}
        got = self.committed("g1", t, 2)
        self.assertEqual({p: o for p, o in got.items() if o >= 0}, {p: o for p, o in expect.items() if o > 0})
        # The next run resumes from the commits (not the beginning) and reads the rest.
        r = run(base + ["--from-beginning", "--exit-at-end", "--timeout-ms", "20000"])
        self.assertEqual(r.returncode, 0, r.stderr)
        second = r.stdout.decode().split()
        self.assertEqual(sorted(first + second), sorted(f"{i % 2}:{i // 2}" for i in range(8)))
        self.assertEqual(self.committed("g1", t, 2), {0: 4, 1: 4})
        # --offset overrides the committed offsets.
        r = run(base + ["--offset", "3", "--exit-at-end", "--timeout-ms", "20000"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.decode().split()), ["0:3", "1:3"])

    def test_consume_timeout_short_of_max_messages(self):
        t = self.topic("consume-short", 1)
        self.seed(t, partitions=1, n=2)
        # The idle clock starts with the command: 4 s leaves room for a slow
        # start on a loaded machine before the two messages arrive.
        r = run(["consume", t, "-b", self.bs, "--from-beginning", "--max-messages", "5", "--timeout-ms", "4000",
                 "-q"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, b"value 0 | tab\there\nvalue 1 | tab\there\n")
        self.assertEqual(one_line(self, r.stderr, "stderr"),
                         "strata consume: error: no message for 4000 ms: got 2 of 5 messages")

    # ---- errors -------------------------------------------------------------

    def test_unreachable_broker(self):
        bs = f"127.0.0.1:{free_port()}"
        for args, stdin in ((["produce", "t", "-b", bs], b"x\n"), (["consume", "t", "-b", bs, "-e"], None)):
            with self.subTest(cmd=args[0]):
                start = time.monotonic()
                r = run(args + ["--connect-timeout-ms", "2000"], stdin, timeout=30)
                elapsed = time.monotonic() - start
                self.assertNotEqual(r.returncode, 0)
                line = one_line(self, r.stderr, "stderr")
                self.assertTrue(line.startswith(f"strata {args[0]}: error: cannot connect to {bs} within 2000 ms"),
                                line)
                self.assertIn("refused", line.lower())
                self.assertLess(elapsed, 10, "gave up within the timeout (plus start-up and shutdown)")
                self.assertEqual(r.stdout, b"")

    def test_unknown_topic_without_auto_create(self):
        b = self.broker(name="cli-no-autocreate", overrides={"auto.create.topics.enable": "false"})
        for args, stdin in ((["produce", "missing", "-b", b.bootstrap], b"x\n"),
                            (["consume", "missing", "-b", b.bootstrap, "-e"], None)):
            with self.subTest(cmd=args[0]):
                r = run(args, stdin)
                self.assertEqual(r.returncode, 1)
                self.assertEqual(one_line(self, r.stderr, "stderr"),
                                 f"strata {args[0]}: error: topic 'missing' does not exist")
        md = clients.admin(b.bootstrap).list_topics(timeout=10)
        self.assertNotIn("missing", md.topics)

    def test_usage_errors(self):
        t = self.topic("usage", 2)
        r = run(["produce", t, "-b", self.bs, "--partition", "5"], b"x\n")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(one_line(self, r.stderr, "stderr"),
                         f"strata produce: error: partition 5 does not exist: topic '{t}' has 2 partitions")
        r = run(["consume", t, "-b", self.bs, "--format", "%q"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown placeholder %q", one_line(self, r.stderr, "stderr"))
        r = run(["produce", t, "-b", self.bs, "-H", "novalue"], b"x\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--header expects key=value", one_line(self, r.stderr, "stderr"))
        r = run(["consume", t, "--from-beginning", "--offset", "1"])
        self.assertNotEqual(r.returncode, 0)
        r = run(["consume", t, "--group", "g", "--partition", "1"])
        self.assertNotEqual(r.returncode, 0)
        r = run(["consume", "--help"])
        self.assertEqual(r.returncode, 0)
        for s in ("%k key", "%v value", "--from-timestamp", "--exit-at-end", "--bootstrap-server"):
            self.assertIn(s, r.stdout.decode())


if __name__ == "__main__":
    harness.main()
