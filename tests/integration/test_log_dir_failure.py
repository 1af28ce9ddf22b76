#!/usr/bin/python3
"""A log directory that fails while the broker runs (KIP-112, Kafka's JBOD failure
handling; issue 15).

The failing directory is an ext4 file system on a loop device, shut down with
EXT4_IOC_SHUTDOWN (what xfstests' `godown` does): from that moment every write, read,
fsync and open on it fails with EIO, including on descriptors the broker already
holds, as a dying disk would. `chmod 000` would not stop a root broker, and a full
disk (ENOSPC) is not a failure of the directory in Strata (the log works again when
space returns). The tests need root and loop devices, and skip without them.

- cluster: three brokers with two log dirs each, a topic RF 3; broker 1's second
  directory fails under an acks=all idempotent producer: broker 1 keeps leading the
  partitions of its first directory, the controller moves the others' leadership
  away and takes broker 1 out of their ISRs, Metadata names broker 1 an offline
  replica, DescribeLogDirs reports the directory's KAFKA_STORAGE_ERROR; restarted with
  the directory still broken, broker 1 reports those replicas offline again and
  rejoins the ISRs of the others; the producer never gets an error, and every
  acknowledged message is read back.
- single node, two dirs: the failed directory's partitions answer KAFKA_STORAGE_ERROR,
  the others are served.
- single node, one dir: with no directory left the broker stops with exit code 1."""

import fcntl
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Deadline, wait_until  # noqa: E402
import clients  # noqa: E402
from cluster import Cluster  # noqa: E402
from test_bad_input import Reader, frame, header_v1  # noqa: E402
from test_cluster import create_replicated, partition_md  # noqa: E402
from test_topic_limits import KAFKA_STORAGE_ERROR, Conn  # noqa: E402

from confluent_kafka import KafkaError, Producer, TopicPartition  # noqa: E402

EXT4_IOC_SHUTDOWN = 0x8004587D  # _IOR('X', 125, __u32)
EXT4_GOING_FLAGS_NOLOGFLUSH = 2


# ---- the failing directory ------------------------------------------------------
def mount_ext4(path: str, size_mb: int = 64):
    img = path + ".img"
    subprocess.run(["truncate", "-s", f"{size_mb}M", img], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", img], check=True, stdout=subprocess.DEVNULL)
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-o", "loop", img, path], check=True)


def fail_fs(path: str):
    """Every later I/O on the file system fails with EIO."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", EXT4_GOING_FLAGS_NOLOGFLUSH))
    finally:
        os.close(fd)


def unmount(path: str, tmp: str):
    # Lazy: the broker may still hold descriptors; the loop device goes with the last.
    subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL)
    shutil.rmtree(tmp, ignore_errors=True)


def loop_mount_available() -> str | None:
    """None when the tests can run, else why not."""
    if os.geteuid() != 0:
        return "needs root (mount)"
    if shutil.which("mkfs.ext4") is None or shutil.which("losetup") is None:
        return "needs mkfs.ext4 and losetup"
    probe = harness.tempfile.mkdtemp(prefix="strata-it-loopprobe-")
    try:
        mount_ext4(os.path.join(probe, "m"), 8)
        return None
    except (subprocess.CalledProcessError, OSError) as e:
        return f"cannot mount an ext4 image on a loop device here ({e})"
    finally:
        unmount(os.path.join(probe, "m"), probe)


SKIP = loop_mount_available()


# ---- DescribeLogDirs v0 ------------------------------------------------------------
def describe_log_dirs_v0(corr: int) -> bytes:
    return frame(header_v1(35, 0, corr) + struct.pack(">i", -1))  # every topic


def parse_describe_log_dirs_v0(body: bytes) -> dict:
    """{log dir: (error, {topic: [partitions]})}"""
    r = Reader(body)
    r.take(">i")  # throttle_time_ms
    out = {}
    for _ in range(r.take(">i")):
        err = r.take(">h")
        d = r.string()
        topics = {}
        for _ in range(r.take(">i")):
            name = r.string()
            parts = []
            for _ in range(r.take(">i")):
                idx, _size, _lag, _future = r.take(">iqq?")
                parts.append(idx)
            topics[name] = sorted(parts)
        out[d] = (err, topics)
    assert r.p == len(body), "trailing bytes in the DescribeLogDirs v0 response"
    return out


def log_dirs_of(b: harness.Broker) -> dict:
    conn = Conn(b)
    try:
        return parse_describe_log_dirs_v0(conn.call(describe_log_dirs_v0))
    finally:
        conn.close()


def partitions_in(d: str, topic: str) -> list:
    return sorted(int(n.rsplit("-", 1)[1]) for n in os.listdir(d) if n.rsplit("-", 1)[0] == topic)


# ---- a producer that runs through the failure --------------------------------------
class BackgroundProducer:
    """acks=all, idempotent; sends to every partition in turn until stopped and records
    each acknowledgement (partition, offset, value, time) and each delivery error."""

    def __init__(self, bootstrap: str, topic: str, partitions: int):
        self.p = Producer(clients.base_conf(bootstrap) | {
            "acks": "all", "enable.idempotence": True, "linger.ms": 5, "message.timeout.ms": 30000,
            "retry.backoff.ms": 50, "topic.metadata.refresh.interval.ms": 1000})
        self.topic, self.partitions = topic, partitions
        self.acked: list = []  # (partition, offset, value, monotonic time)
        self.errors: list = []
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _cb(self, err, m):
        with self.lock:
            if err is not None:
                self.errors.append((m.partition(), m.value(), err))
            else:
                self.acked.append((m.partition(), m.offset(), m.value(), time.monotonic()))

    def _run(self):
        seq = 0
        while not self.stop_flag.is_set():
            for part in range(self.partitions):
                try:
                    self.p.produce(self.topic, value=f"{part}-{seq}".encode(), partition=part, on_delivery=self._cb)
                except BufferError:
                    pass
            seq += 1
            self.p.poll(0.02)  # serves the callbacks and paces the sender (~50 rounds/s)

    def acks_since(self, t: float) -> dict:
        with self.lock:
            out = {p: 0 for p in range(self.partitions)}
            for p, _o, _v, at in self.acked:
                if at >= t:
                    out[p] += 1
            return out

    def finish(self, timeout: float = 40) -> int:
        self.stop_flag.set()
        self.thread.join(10)
        return self.p.flush(timeout)


def read_all(bootstrap: str, topic: str, partitions: int, timeout: float = 30) -> dict:
    """{partition: {offset: value}} from the beginning to each partition's end."""
    c = clients.consumer(bootstrap)
    try:
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
        got = {p: {} for p in range(partitions)}
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        d = Deadline(timeout)
        while not d.expired() and any(len(got[p]) < ends[p] for p in got):
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF and m.error().fatal():
                    raise AssertionError(f"fatal consumer error: {m.error()}")
                continue
            got[m.partition()][m.offset()] = m.value()
        return got
    finally:
        c.close()


@unittest.skipIf(SKIP, SKIP or "")
class LogDirFailureTests(harness.BrokerTestCase):
    def test_cluster_moves_leadership_off_a_failed_log_dir_and_keeps_serving_the_other(self):
        t0 = time.monotonic()
        topic, n = "jbod", 6

        def prepare(b):
            if b.name == "b1":
                self.addCleanup(unmount, b.log_dirs[1], b.tmp)
                mount_ext4(b.log_dirs[1])

        c = Cluster(3, log_dirs=2, prepare=prepare)
        self.addCleanup(c.close)
        b1 = c.broker(1)
        create_replicated(c, topic, n, config={"min.insync.replicas": "2"})
        # Broker 1 created its replicas in partition order, each in the directory with
        # fewer partitions: they alternate between its two directories. It leads two of
        # the six partitions (p and p + 3): one in each.
        in_dir1, in_dir2 = partitions_in(b1.log_dirs[0], topic), partitions_in(b1.log_dirs[1], topic)
        self.assertEqual(sorted(in_dir1 + in_dir2), list(range(n)))
        leaders = {p: partition_md(c.bootstrap, topic, p).leader for p in range(n)}
        kept = [p for p in in_dir1 if leaders[p] == 1]
        moved = [p for p in in_dir2 if leaders[p] == 1]
        self.assertTrue(kept and moved, f"broker 1 should lead a partition in each dir: leaders {leaders}, "
                                        f"dir1 {in_dir1}, dir2 {in_dir2}")

        prod = BackgroundProducer(c.bootstrap, topic, n)
        self.addCleanup(prod.finish, 5)
        wait_until(lambda: min(prod.acks_since(0).values()) >= 20, 20, "20 acknowledged messages per partition")

        fail_fs(b1.log_dirs[1])
        t_fault = time.monotonic()
        b1.wait_for_log(r"log directory .*data2 is offline", 10)

        # The controller moves leadership of the failed directory's partitions away and
        # names broker 1 an offline replica of them (UpdateMetadata, then Metadata).
        def metadata(b):
            conn = Conn(b)
            try:
                return conn.metadata([topic])[topic][1]
            finally:
                conn.close()

        def moved_away():
            for b in c.brokers:
                md = metadata(b)
                for p in in_dir2:
                    err, leader, offline = md[p]
                    if err != 0 or leader in (-1, 1) or 1 not in offline:
                        return False
            return True
        wait_until(moved_away, 15, "leadership of broker 1's failed partitions moved, broker 1 an offline replica")
        t_moved = time.monotonic()
        for p in in_dir2:
            self.assertNotIn(1, partition_md(c.bootstrap, topic, p).isrs, f"partition {p}: broker 1 left the ISR")
        # The other directory is served as before: same leader, broker 1 still in sync.
        for p in kept:
            md = partition_md(c.bootstrap, topic, p)
            self.assertEqual(md.leader, 1, f"partition {p} (broker 1's healthy dir) kept its leader")
        for p in in_dir1:
            self.assertIn(1, partition_md(c.bootstrap, topic, p).isrs, f"partition {p}: broker 1 still in sync")
        # The producer goes on everywhere, on the new leaders too.
        wait_until(lambda: min(prod.acks_since(t_moved).values()) >= 20, 20,
                   "20 more acknowledged messages per partition after the leadership moved")
        self.assertTrue(b1.alive(), "broker 1 keeps running with one directory left")

        dirs = log_dirs_of(b1)
        d1, d2 = os.path.abspath(b1.log_dirs[0]), os.path.abspath(b1.log_dirs[1])
        self.assertEqual(dirs[d2][0], KAFKA_STORAGE_ERROR, dirs)
        self.assertEqual(dirs[d1][0], 0, dirs)
        self.assertEqual(dirs[d1][1].get(topic), in_dir1, dirs)

        # Restarted with the directory still broken, broker 1 reports its replicas there
        # offline again (LeaderAndIsr answered KAFKA_STORAGE_ERROR) and does not create
        # empty logs for them in the healthy directory; its healthy replicas rejoin.
        b1.restart(same_port=True)
        c.wait_for_brokers(3)
        wait_until(lambda: all(1 in metadata(b)[p][2] for b in c.brokers for p in in_dir2), 20,
                   "broker 1 an offline replica of the failed dir's partitions after its restart")
        wait_until(lambda: all(1 in partition_md(c.bootstrap, topic, p).isrs for p in in_dir1), 30,
                   "broker 1 back in the ISRs of its healthy dir's partitions")
        self.assertEqual(partitions_in(b1.log_dirs[0], topic), in_dir1, "no empty replica in the healthy dir")
        for p in in_dir2:
            self.assertNotIn(1, partition_md(c.bootstrap, topic, p).isrs, f"partition {p}")

        left = prod.finish()
        self.assertEqual(left, 0, "messages still in flight after the flush")
        self.assertEqual(prod.errors[:3], [], f"{len(prod.errors)} delivery error(s)")
        got = read_all(c.bootstrap, topic, n)
        missing = [(p, o, v) for p, o, v, _ in prod.acked if got[p].get(o) != v]
        self.assertEqual(missing[:5], [], f"{len(missing)} of {len(prod.acked)} acknowledged messages not read back")
        if os.environ.get("STRATA_IT_SHOW_LOGS") == "1":
            print(c.log_tails(400), file=sys.stderr)
        after = sum(1 for *_x, at in prod.acked if at >= t_fault)
        print(f"\n  {len(prod.acked)} acked ({after} after the fault), leadership moved "
              f"{t_moved - t_fault:.2f} s after the fault, test {time.monotonic() - t0:.1f} s", file=sys.stderr)

    def test_single_node_serves_the_partitions_of_the_other_dir(self):
        b = harness.Broker(name="jbod1", log_dirs=2, start=False)
        self.addCleanup(b.close)
        self.addCleanup(unmount, b.log_dirs[1], b.tmp)
        mount_ext4(b.log_dirs[1])
        b.start()
        clients.create_topic(b.bootstrap, "single", 4)
        in_dir1, in_dir2 = partitions_in(b.log_dirs[0], "single"), partitions_in(b.log_dirs[1], "single")
        self.assertTrue(in_dir1 and in_dir2, (in_dir1, in_dir2))
        conn = Conn(b)
        self.addCleanup(conn.close)
        for p in range(4):
            self.assertEqual(conn.produce("single", p, b"before"), 0)
        fail_fs(b.log_dirs[1])
        # The first write into the failed directory meets the error and answers it.
        self.assertEqual(conn.produce("single", in_dir2[0], b"during"), KAFKA_STORAGE_ERROR)
        b.wait_for_log(r"log directory .*data2 is offline", 10)
        for p in in_dir2:
            self.assertEqual(conn.produce("single", p, b"after"), KAFKA_STORAGE_ERROR)
        for p in in_dir1:
            self.assertEqual(conn.produce("single", p, b"after"), 0)
        wait_until(lambda: all(conn.metadata(["single"])["single"][1][p][0] == KAFKA_STORAGE_ERROR
                               for p in in_dir2), 10, "Metadata: the failed dir's partitions offline")
        md = conn.metadata(["single"])["single"][1]
        for p in in_dir1:
            self.assertEqual(md[p][0], 0)
        for p in in_dir2:
            self.assertEqual(md[p][2], [0], "this broker is the partition's offline replica")
        dirs = log_dirs_of(b)
        self.assertEqual(dirs[os.path.abspath(b.log_dirs[1])][0], KAFKA_STORAGE_ERROR, dirs)
        got = clients.consume(b.bootstrap, "single", {p: 2 for p in in_dir1}, timeout=20)
        for p in in_dir1:
            self.assertEqual([r["value"] for r in got[p]], [b"before", b"after"])
        conn.close()
        b.stop()  # a clean exit: the healthy directory is flushed and marked clean

    def test_broker_stops_when_its_last_log_dir_fails(self):
        b = harness.Broker(name="jbod0", start=False)
        self.addCleanup(b.close)
        self.addCleanup(unmount, b.log_dirs[0], b.tmp)
        mount_ext4(b.log_dirs[0])
        b.start()
        clients.create_topic(b.bootstrap, "only", 1)
        conn = Conn(b)
        self.addCleanup(conn.close)
        self.assertEqual(conn.produce("only", 0, b"before"), 0)
        fail_fs(b.log_dirs[0])
        try:
            err = conn.produce("only", 0, b"during")
            self.assertEqual(err, KAFKA_STORAGE_ERROR)  # never acknowledged
        except (AssertionError, OSError) as e:
            if "closed" not in str(e) and not isinstance(e, OSError):
                raise
        wait_until(lambda: not b.alive(), 15, "the broker to stop")
        self.assertEqual(b.stop(expect_rc=None), 1, b.log_tail())
        lines = [l for l in b.log_lines() if "every log directory is offline" in l]
        self.assertEqual(len(lines), 1, b.log_tail())


if __name__ == "__main__":
    unittest.main(verbosity=2)
