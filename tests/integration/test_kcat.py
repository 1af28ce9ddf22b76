#!/usr/bin/python3
"""kcat against a real strata broker: produce (-P, -K key delimiter, -H headers,
-Z nulls, -z codec) and consume (-C -e -o beginning -f) for every codec,
byte-exact and in order per partition; kcat -L lists the topic."""

import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402

KCAT = shutil.which("kcat") or "/usr/bin/kcat"
PARTITIONS = 3
PER_PARTITION = 120
HEADERS = [("h1", "v1"), ("trace-id", "abc-123"), ("h1", "again")]
# Output: a text line with partition, offset, key length, value length, headers;
# then exactly <key length> + <value length> raw bytes and a newline.
FMT = r"%p %o %K %S %T [%h]\n%k%s\n"


def line_value(p: int, j: int) -> bytes | None:
    """A value that kcat can carry in line mode: any byte but '\\n', binary ones included."""
    if j % 9 == 4:
        return None  # sent as an empty line body with -Z -> NULL
    n = 1 + (p * 131 + j * 17) % 900
    raw = bytes(((p * 7 + j * 13 + k * 31) & 0xFF) for k in range(n))
    v = raw.replace(b"\n", b"\x0b")
    return f"p{p}-j{j}:".encode() + v  # contains ':' after the key delimiter too


def line_key(p: int, j: int) -> bytes | None:
    return None if j % 10 == 7 else f"k-{p}-{j}".encode()


def run(args, input_bytes=None, timeout=60):
    return subprocess.run([KCAT] + args, input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


def parse(out: bytes) -> list:
    recs = []
    pos = 0
    head_re = re.compile(rb"(\d+) (\d+) (-?\d+) (-?\d+) (-?\d+) \[(.*?)\]\n")
    while pos < len(out):
        m = head_re.match(out, pos)
        if not m:
            raise AssertionError(f"unparseable kcat output at byte {pos}: {out[pos:pos + 80]!r}")
        p, o, kl, vl, ts = (int(x) for x in m.group(1, 2, 3, 4, 5))
        pos = m.end()
        key = out[pos:pos + max(kl, 0)] if kl >= 0 else None
        pos += max(kl, 0)
        value = out[pos:pos + max(vl, 0)] if vl >= 0 else None
        pos += max(vl, 0)
        if out[pos:pos + 1] != b"\n":
            raise AssertionError(f"record at offset {o} not followed by a newline: {out[pos:pos + 20]!r}")
        pos += 1
        hdr = m.group(6).decode()
        recs.append({"partition": p, "offset": o, "key": key, "value": value, "ts": ts,
                     "headers": [tuple(h.split("=", 1)) for h in hdr.split(",")] if hdr else []})
    return recs


class KcatTest(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker(name="kcat", overrides={"num.partitions": "3"})

    @classmethod
    def tearDownClass(cls):
        cls.stop_shared_broker()

    def produce_partition(self, topic, p, codec, n=PER_PARTITION):
        lines = []
        for j in range(n):
            k, v = line_key(p, j), line_value(p, j)
            lines.append((k or b"") + b":" + (v or b""))
        args = ["-b", self.b.bootstrap, "-P", "-t", topic, "-p", str(p), "-K", ":", "-Z", "-m", "10",
                "-X", "acks=all", "-X", "linger.ms=20"]
        for h, v in HEADERS:
            args += ["-H", f"{h}={v}"]
        if codec != "none":
            args += ["-z", codec]
        r = run(args, b"\n".join(lines) + b"\n")
        self.assertEqual(r.returncode, 0, f"kcat -P exited {r.returncode}: {r.stderr.decode(errors='replace')}")
        self.assertNotIn(b"ERROR", r.stderr, r.stderr.decode(errors="replace"))

    def consume_partition(self, topic, p, extra=None):
        args = ["-b", self.b.bootstrap, "-C", "-t", topic, "-p", str(p), "-o", "beginning", "-e", "-m", "10",
                "-f", FMT] + (extra or [])
        r = run(args)
        self.assertEqual(r.returncode, 0, f"kcat -C exited {r.returncode}: {r.stderr.decode(errors='replace')}")
        return parse(r.stdout)

    def roundtrip(self, codec):
        topic = f"kc-{codec}"
        clients.create_topic(self.b.bootstrap, topic, PARTITIONS)
        for p in range(PARTITIONS):
            self.produce_partition(topic, p, codec)
        for p in range(PARTITIONS):
            got = self.consume_partition(topic, p)
            self.assertEqual([r["offset"] for r in got], list(range(PER_PARTITION)), f"offsets of partition {p}")
            self.assertEqual({r["partition"] for r in got}, {p})
            exp = [{"key": line_key(p, j), "value": line_value(p, j), "headers": HEADERS} for j in range(PER_PARTITION)]
            proj = lambda rs: [(r["key"], r["value"], r["headers"]) for r in rs]  # noqa: E731
            self.assertTrue(proj(exp) == proj(got), f"partition {p}: " + harness.describe_mismatch(exp, got))
            self.assertTrue(all(r["ts"] > harness.BASE_TS for r in got), "CreateTime timestamps set by kcat")

    def test_none(self):
        self.roundtrip("none")

    def test_gzip(self):
        self.roundtrip("gzip")

    def test_snappy(self):
        self.roundtrip("snappy")

    def test_lz4(self):
        self.roundtrip("lz4")

    def test_zstd(self):
        self.roundtrip("zstd")

    def test_consume_from_offset_with_count(self):
        topic = "kc-offsets"
        clients.create_topic(self.b.bootstrap, topic, PARTITIONS)
        self.produce_partition(topic, 1, "lz4", n=50)
        got = self.consume_partition(topic, 1, ["-o", "17", "-c", "5"])
        self.assertEqual([r["offset"] for r in got], [17, 18, 19, 20, 21])
        self.assertEqual([r["key"] for r in got], [line_key(1, j) for j in range(17, 22)])
        # Relative from the end: the last 3.
        r = run(["-b", self.b.bootstrap, "-C", "-t", topic, "-p", "1", "-o", "-3", "-e", "-f", FMT, "-m", "10"])
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.assertEqual([x["offset"] for x in parse(r.stdout)], [47, 48, 49])

    def test_auto_create_on_produce(self):
        # README's quick start: the topic is created on first use with num.partitions (3 here).
        topic = "kc-auto"
        r = run(["-b", self.b.bootstrap, "-P", "-t", topic, "-K", ":", "-m", "10"], b"a:1\nb:2\nc:3\n")
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        got = []
        for p in range(PARTITIONS):
            got += self.consume_partition(topic, p)
        self.assertEqual(sorted((x["key"], x["value"]) for x in got), [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
        self.assertEqual(self.metadata_json(topic)["topics"][0]["partitions"].__len__(), 3)

    def metadata_json(self, topic):
        r = run(["-b", self.b.bootstrap, "-L", "-J", "-t", topic, "-m", "10"])
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        return json.loads(r.stdout)

    def test_list_metadata(self):
        topic = "kc-list"
        clients.create_topic(self.b.bootstrap, topic, 4)
        md = self.metadata_json(topic)
        self.assertEqual(len(md["brokers"]), 1)
        self.assertEqual(md["brokers"][0]["name"], f"{self.b.bootstrap}")
        (t,) = md["topics"]
        self.assertEqual(t["topic"], topic)
        self.assertNotIn("error", t)
        self.assertEqual(sorted(p["partition"] for p in t["partitions"]), [0, 1, 2, 3])
        for p in t["partitions"]:
            self.assertEqual(p["leader"], md["brokers"][0]["id"])
            self.assertEqual([r["id"] for r in p["replicas"]], [md["brokers"][0]["id"]])
            self.assertEqual([r["id"] for r in p["isrs"]], [md["brokers"][0]["id"]])
        # Plain text listing of all topics.
        r = run(["-b", self.b.bootstrap, "-L", "-m", "10"])
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        text = r.stdout.decode()
        self.assertIn(f'topic "{topic}" with 4 partitions:', text)
        self.assertRegex(text, rf"broker \d+ at 127\.0\.0\.1:{self.b.port}")


if __name__ == "__main__":
    harness.main()
