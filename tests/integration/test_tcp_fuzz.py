#!/usr/bin/python3
"""Bounded TCP-level fuzz load (tcp_fuzz.py: mutated captured client frames
over 50 connections, some pipelining) against one broker, while a
well-behaved confluent_kafka client produces and consumes on its own topic.

Checks: the broker process stays up and keeps accepting connections; every
well-behaved round trip (produce acks=all, then consume that message) finishes
within ROUNDTRIP_DEADLINE; every acknowledged message reads back, in order, at
the end and again after a clean restart (exit code 0); the broker's RSS stays
under RSS_BOUND_KB during the load.

The seed is printed; replay a failure with STRATA_FUZZ_SEED=<seed>. The load
is bounded by FUZZ_FRAMES and FUZZ_SECONDS (env STRATA_FUZZ_FRAMES /
STRATA_FUZZ_SECONDS change them for a longer run by hand).

The broker runs with auto.create.topics.enable=false: with it on, every
mutated topic name in a Metadata or Produce request creates a topic, which is
Kafka's own behaviour (and costs a directory and a partition each), not a leak.
The frames of CreateTopics, DeleteTopics and CreatePartitions are left out of
the corpus for the same reason (a mutated API key can still produce them).
"""

import os
import random
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402
from harness import Deadline  # noqa: E402

from confluent_kafka import KafkaError, Producer, TopicPartition  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ_FRAMES = int(os.environ.get("STRATA_FUZZ_FRAMES", "400000"))
FUZZ_SECONDS = float(os.environ.get("STRATA_FUZZ_SECONDS", "35"))
CONNECTIONS = 50
ROUNDTRIP_DEADLINE = 10.0
# Measured on the 2-core machine: 10.9 MB at the start, 15.8 MB at most over
# the 35 s load (seed 11); 60 MB after 10 million frames (docs/RELIABILITY.md).
RSS_BOUND_KB = int(os.environ.get("STRATA_FUZZ_RSS_BOUND_KB", str(48 * 1024)))
GOOD_TOPIC = "fuzz-good"


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


class TcpFuzzTest(harness.BrokerTestCase):
    def test_fuzz_load_keeps_broker_serving(self):
        seed = int(os.environ.get("STRATA_FUZZ_SEED", str(random.randrange(1 << 31))))
        print(f"tcp fuzz seed {seed} (replay: STRATA_FUZZ_SEED={seed})", flush=True)
        b = self.broker(overrides={"auto.create.topics.enable": "false", "group.initial.rebalance.delay.ms": "0"})
        # The corpus' own topics exist, so mutated Produce/Fetch/ListOffsets reach real partitions too.
        clients.create_topic(b.bootstrap, GOOD_TOPIC, 1)
        clients.create_topic(b.bootstrap, "cap-ck", 2)
        clients.create_topic(b.bootstrap, "cap-kp", 2)
        rss_start = rss_kb(b.pid)

        # If the broker stops accepting connections, the driver writes each
        # connection's last 64 frames here (kept with STRATA_IT_KEEP=1).
        dump_dir = os.path.join(b.tmp, "fuzz-last-frames")
        driver = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "tcp_fuzz.py"), "--bootstrap", b.bootstrap,
             "--frames", str(FUZZ_FRAMES), "--seconds", str(FUZZ_SECONDS), "--connections", str(CONNECTIONS),
             "--seed", str(seed), "--exclude-api", "19,20,37", "--dump", dump_dir],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=harness._child_setup)
        try:
            acked, rss_max, slowest = self._well_behaved_client(b, driver)
            out, _ = driver.communicate(timeout=FUZZ_SECONDS + 30)
        finally:
            harness.free_child_cleanup(driver)
        out = out.decode(errors="replace")
        print(out.strip(), flush=True)
        print(f"RSS kB: start {rss_start}, max {rss_max}, end {rss_kb(b.pid)}; {len(acked)} round trips, "
              f"slowest {slowest:.2f} s", flush=True)
        self.assertEqual(driver.returncode, 0, f"fuzz driver failed (seed {seed}; last frames in {dump_dir}):\n{out}")
        self.assertIn('"frames"', out)
        self.assertTrue(b.alive(), f"broker died under the fuzz load (seed {seed})")
        self.assertGreater(len(acked), 3, "too few well-behaved round trips during the load")
        self.assertLess(rss_max, RSS_BOUND_KB, f"broker RSS {rss_max} kB over the bound {RSS_BOUND_KB} kB")

        self._check_all(b, acked, "after the load")
        b.stop()  # asserts exit code 0
        b.start()
        self._check_all(b, acked, "after a clean restart")
        clients.roundtrip_ok(b.bootstrap, GOOD_TOPIC, "after-restart")

    def _well_behaved_client(self, b, driver):
        """Produce one message, wait for its ack, consume it: repeatedly while
        the driver runs. Returns ([(offset, value)], max RSS kB, slowest s)."""
        p = Producer(clients.base_conf(b.bootstrap) | {"acks": "all", "linger.ms": 0,
                                                       "message.timeout.ms": int(ROUNDTRIP_DEADLINE * 1000)})
        c = clients.consumer(b.bootstrap)
        c.assign([TopicPartition(GOOD_TOPIC, 0, 0)])
        acked = []
        rss_max = 0
        slowest = 0.0
        i = 0
        try:
            while driver.poll() is None:
                rss_max = max(rss_max, rss_kb(b.pid))
                value = f"good-{i}".encode()
                t0 = time.monotonic()
                res = {}
                p.produce(GOOD_TOPIC, key=str(i).encode(), value=value, partition=0,
                          on_delivery=lambda err, m: res.update(err=err, off=None if err else m.offset()))
                left = p.flush(ROUNDTRIP_DEADLINE)
                self.assertEqual(left, 0, f"round trip {i}: produce not acknowledged within {ROUNDTRIP_DEADLINE} s")
                self.assertIsNone(res.get("err"), f"round trip {i}: produce failed: {res.get('err')}")
                self.assertEqual(res["off"], len(acked), f"round trip {i}: unexpected offset")
                d = Deadline(ROUNDTRIP_DEADLINE - (time.monotonic() - t0))
                got = None
                while got is None and not d.expired():
                    m = c.poll(min(0.2, d.remaining() + 0.01))
                    if m is None:
                        continue
                    if m.error():
                        self.assertFalse(m.error().fatal(), f"fatal consumer error {m.error()}")
                        if m.error().code() != KafkaError._PARTITION_EOF:
                            print(f"consumer: {m.error()}", flush=True)
                        continue
                    got = m
                self.assertIsNotNone(got, f"round trip {i}: message not consumed within {ROUNDTRIP_DEADLINE} s")
                self.assertEqual((got.offset(), got.value()), (res["off"], value), f"round trip {i}")
                acked.append((res["off"], value))
                slowest = max(slowest, time.monotonic() - t0)
                i += 1
                self.assertTrue(b.alive(), "broker died under the fuzz load")
                try:
                    driver.wait(0.05)  # paces the probe (the driver is the load); returns early when it ends
                except subprocess.TimeoutExpired:
                    pass
        finally:
            c.close()
        return acked, rss_max, slowest

    def _check_all(self, b, acked, when):
        got = clients.consume(b.bootstrap, GOOD_TOPIC, {0: len(acked)}, timeout=30)[0]
        self.assertEqual([(r["offset"], r["value"]) for r in got], acked,
                         f"well-behaved client's messages {when}")


if __name__ == "__main__":
    harness.main()
