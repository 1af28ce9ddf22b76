#!/usr/bin/python3
"""Crash consistency: a confluent_kafka producer (acks=all) in a child process
records every acknowledged message id + partition + offset; the broker is killed
with SIGKILL while it runs (after a few thousand acks) and restarted on the same
data dir. Then every acknowledged message is present exactly once at its
acknowledged offset, each partition's offsets are contiguous from 0, every
record is intact (a message the producer sent, byte-exact, at most once), and
new produces continue after the recovered end."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import crash_producer  # noqa: E402
import harness  # noqa: E402

from confluent_kafka import TopicPartition  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PARTITIONS = 3
ACKS_BEFORE_KILL = 8000
MAX_MESSAGES = 200_000
PRODUCER_SECONDS = 90


def read_acks(path: str) -> list:
    """Complete lines only (the child may die mid-write)."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")[:-1]
    return [tuple(int(x) for x in l.split()) for l in lines]


def count_lines(path: str) -> int:
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


class CrashTest(harness.BrokerTestCase):
    def start_producer(self, b, topic, messages, seconds, codec, *extra):
        """Starts crash_producer.py against `b` in a scratch directory (removed
        at the end of the test), its output in producer.log there; returns
        (directory, path of its acks file, the child process)."""
        tmp = tempfile.mkdtemp(prefix="strata-it-crash-acks-")
        self.addCleanup(shutil.rmtree, tmp, True)
        ackfile = os.path.join(tmp, "acks.txt")
        child_log = open(os.path.join(tmp, "producer.log"), "wb")
        self.addCleanup(child_log.close)
        child = subprocess.Popen([sys.executable, os.path.join(HERE, "crash_producer.py"), b.bootstrap, topic,
                                  str(PARTITIONS), ackfile, str(messages), str(seconds), codec, *extra],
                                 stdin=subprocess.DEVNULL, stdout=child_log, stderr=subprocess.STDOUT,
                                 preexec_fn=harness._child_setup)
        self.addCleanup(harness.free_child_cleanup, child)
        return tmp, ackfile, child

    def crash_and_check(self, overrides: dict, codec: str):
        b = self.broker(name="crash", overrides=overrides)
        topic = "crash"
        clients.create_topic(b.bootstrap, topic, PARTITIONS)
        tmp, ackfile, child = self.start_producer(b, topic, MAX_MESSAGES, PRODUCER_SECONDS, codec)
        harness.wait_until(lambda: count_lines(ackfile) >= ACKS_BEFORE_KILL or child.poll() is not None, 60,
                           f"{ACKS_BEFORE_KILL} acknowledged messages")
        if child.poll() is not None:
            with open(os.path.join(tmp, "producer.log"), "rb") as f:
                self.fail(f"producer child exited early with {child.returncode}: {f.read().decode(errors='replace')}")
        b.kill9()  # mid-stream: the producer has messages in flight
        # Acks can only come from the dead broker: stop the producer now.
        harness.free_child_cleanup(child, timeout=5)
        acks = read_acks(ackfile)
        self.assertGreaterEqual(len(acks), ACKS_BEFORE_KILL)

        first_line = len(b.log_lines())
        b.start()  # same data dir, new port
        started = next(l for l in b.log_lines()[first_line:] if "started in" in l)
        c = clients.consumer(b.bootstrap)
        try:
            hwm = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in range(PARTITIONS)}
        finally:
            c.close()
        for p, (lo, hi) in hwm.items():
            self.assertEqual(lo, 0, f"log start offset of partition {p}")
        counts = {p: hi for p, (lo, hi) in hwm.items()}
        got = clients.consume(b.bootstrap, topic, counts, timeout=90)

        seen_ids = {}
        for p in range(PARTITIONS):
            self.assertEqual([r["offset"] for r in got[p]], list(range(counts[p])),
                             f"partition {p}: offsets not contiguous from 0")
            for r in got[p]:
                i = int(r["key"])
                self.assertEqual(i % PARTITIONS, p, f"message {i} found on partition {p}")
                self.assertEqual(r["value"], crash_producer.value_of(i), f"message {i} at {p}/{r['offset']} corrupt")
                self.assertNotIn(i, seen_ids, f"message {i} stored twice: {seen_ids.get(i)} and {(p, r['offset'])}")
                seen_ids[i] = (p, r["offset"])
        missing = [(i, p, off) for i, p, off in acks if seen_ids.get(i) != (p, off)]
        self.assertEqual(missing[:10], [], f"{len(missing)} of {len(acks)} acknowledged messages missing or moved "
                                           f"(id, acked partition, acked offset); found at: "
                                           f"{[seen_ids.get(i) for i, _, _ in missing[:10]]}")

        sys.stderr.write(f"\n  {len(acks)} acknowledged, {sum(counts.values())} stored after recovery "
                         f"{counts}; restart: {started.split(' info ')[-1]}\n")
        # The log takes new writes right after the recovered end.
        more = [dict(m, partition=m["i"] % PARTITIONS) for m in harness.make_messages(30, PARTITIONS, seed="post-")]
        offs = clients.produce(b.bootstrap, topic, more)
        nxt = dict(counts)
        for m, off in zip(more, offs):
            self.assertEqual(off, nxt[m["partition"]])
            nxt[m["partition"]] += 1
        # And a clean restart after recovery keeps everything.
        b.restart()
        got2 = clients.consume(b.bootstrap, topic, nxt, timeout=90)
        for p in range(PARTITIONS):
            self.assertEqual([(r["key"], r["value"]) for r in got2[p][:counts[p]]],
                             [(r["key"], r["value"]) for r in got[p]], f"partition {p} changed across restart")
        b.stop()
        return len(acks), counts

    def test_kill9_idempotent_producer_reconnects_same_port(self):
        """The broker comes back on the same port while an idempotent producer
        keeps retrying: every message ends up in the log exactly once, in order
        per partition, and the producer reports no failure."""
        total = 20_000
        b = self.broker(name="crash-idem", overrides={"log.segment.bytes": "262144"})
        topic = "crash-idem"
        clients.create_topic(b.bootstrap, topic, PARTITIONS)
        tmp, ackfile, child = self.start_producer(b, topic, total, 120, "none", "1")
        def producer_output():
            out = []
            for name in ("producer.log", "acks.txt.errors"):
                try:
                    with open(os.path.join(tmp, name), "rb") as f:
                        out.append(f"--- {name}:\n" + f.read().decode(errors="replace")[-3000:])
                except FileNotFoundError:
                    pass
            return "\n".join(out)

        harness.wait_until(lambda: count_lines(ackfile) >= 3000 or child.poll() is not None, 60, "3000 acks")
        if child.poll() is not None:
            self.fail(f"producer exited with {child.returncode} before the crash, "
                      f"after {count_lines(ackfile)} acks\n{producer_output()}")
        port = b.port
        b.kill9()
        acked_at_crash = count_lines(ackfile)
        self.assertLess(acked_at_crash, total, "everything was acknowledged before the crash: nothing tested")
        b.start(port=port)  # same port: the producer reconnects by itself
        try:
            rc = child.wait(timeout=110)
        except subprocess.TimeoutExpired:
            rc = None
        self.assertEqual(rc, 0, f"idempotent producer did not deliver everything\n{producer_output()}")
        acks = read_acks(ackfile)
        self.assertEqual(sorted(i for i, _, _ in acks), list(range(total)), "every id acknowledged once")
        c = clients.consumer(b.bootstrap)
        try:
            counts = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(PARTITIONS)}
        finally:
            c.close()
        self.assertEqual(sum(counts.values()), total, f"stored {counts}: duplicates or losses")
        got = clients.consume(b.bootstrap, topic, counts, timeout=90)
        for p in range(PARTITIONS):
            ids = [int(r["key"]) for r in got[p]]
            self.assertEqual(ids, list(range(p, total, PARTITIONS)), f"partition {p}: ids not exactly once in order")
            for r in got[p][:50]:
                self.assertEqual(r["value"], crash_producer.value_of(int(r["key"])))
        where = {i: (p, off) for i, p, off in acks}
        for p in range(PARTITIONS):
            for r in got[p]:
                self.assertEqual(where[int(r["key"])], (p, r["offset"]), "acknowledged offset")
        b.stop()

    def test_kill9_default_flush(self):
        # kill -9 (not a power cut): acknowledged appends are in the page cache and must survive.
        self.crash_and_check({"log.segment.bytes": "262144"}, "none")

    def test_kill9_flush_on_ack_lz4(self):
        self.crash_and_check({"strata.log.flush.on.ack": "true", "log.segment.bytes": "262144"}, "lz4")


if __name__ == "__main__":
    harness.main()
