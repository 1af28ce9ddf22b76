#!/usr/bin/python3
"""Strata as a cluster under faults (issue 14): a real ZooKeeper and three real
brokers on loopback (cluster.py), driven by real clients (librdkafka through
confluent_kafka, kafka-python's protocol classes for requests pinned to one broker,
KafkaJS, kcat).

  - a leader paused (SIGSTOP) past its ZooKeeper session is fenced: once resumed it
    refuses writes as leader, and its divergent tail is truncated on every replica;
  - a leader of an epoch in which it wrote nothing, paused past its session, rejoins
    the ISR once resumed;
  - controlled shutdown (SIGTERM) of a leader under an idempotent acks=all producer;
  - the group coordinator's broker killed during a consumer group's life;
  - ZooKeeper restarted under an acks=all producer;
  - a broker restarted at once after kill -9 waits for its old session to expire;
  - KafkaJS and kcat through any bootstrap broker.

Each test starts its own cluster and kills every process it started by PID at the
end (Cluster.close; SIGSTOPped brokers are resumed first)."""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Deadline, wait_until  # noqa: E402
import clients  # noqa: E402
from cluster import Cluster  # noqa: E402
from test_cluster import create_replicated, partition_md  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402

NOT_LEADER_OR_FOLLOWER = 6
FETCH_WAIT_MS = 200
KCAT = shutil.which("kcat") or "/usr/bin/kcat"
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


# ---- requests pinned to one broker (kafka-python's protocol classes) ----------

def raw_connect(bootstrap: str, timeout: float = 10.0) -> socket.socket:
    host, port = bootstrap.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.settimeout(timeout)
    return s


def raw_send(s: socket.socket, request, correlation_id: int = 1):
    from kafka.protocol.parser import KafkaProtocol
    proto = KafkaProtocol(client_id="strata-it-faults")
    proto._correlation_id = correlation_id - 1
    proto.send_request(request)
    s.sendall(proto.send_bytes())
    return proto


def raw_receive(s: socket.socket, proto):
    """The response to the request sent on `proto`, or None if the broker closed."""
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            return None
        if not data:
            return None
        got = proto.receive_bytes(data)
        if got:
            return got[0][1]


def produce_request(topic: str, partition: int, values: list, acks: int):
    from kafka.protocol.produce import ProduceRequest
    from kafka.record.memory_records import MemoryRecordsBuilder
    b = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    now = int(time.time() * 1000)
    for v in values:
        b.append(now, None, v)
    b.close()
    return ProduceRequest[3](transactional_id=None, required_acks=acks, timeout=10000,
                             topics=[(topic, [(partition, b.buffer())])])


def produce_error(resp) -> int:
    return resp.topics[0][1][0][1]


def find_coordinator(bootstrap: str, group: str) -> int:
    """FindCoordinator through the first broker of `bootstrap`. v0: kafka-python's
    v1 response schema lacks throttle_time_ms and misreads every field after it."""
    from kafka.protocol.commit import GroupCoordinatorRequest
    with raw_connect(bootstrap.split(",")[0]) as s:
        resp = raw_receive(s, raw_send(s, GroupCoordinatorRequest[0](group)))
    if resp is None or resp.error_code != 0:
        raise AssertionError(f"FindCoordinator({group}) through {bootstrap}: {resp}")
    return resp.coordinator_id


# ---- a replica's log as stored on disk (Kafka's segment format) ---------------

def _varint(buf: bytes, pos: int):
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7


def replica_log(b: harness.Broker, topic: str, partition: int) -> list:
    """[(offset, value)] of every record in the replica's segments (uncompressed v2
    batches), read from its data dir: what that replica would serve as leader."""
    d = os.path.join(b.data_dir, f"{topic}-{partition}")
    out = []
    for name in sorted(f for f in os.listdir(d) if f.endswith(".log")):
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        pos = 0
        while pos + 61 <= len(data):
            base, length = struct.unpack_from(">qi", data, pos)
            if length <= 0 or pos + 12 + length > len(data):
                break  # the end of what is written
            attrs = struct.unpack_from(">h", data, pos + 21)[0]
            assert attrs & 0x7 == 0, "compressed batch: the tests produce uncompressed"
            count = struct.unpack_from(">i", data, pos + 57)[0]
            rp = pos + 61
            for _ in range(count):
                _, rp = _varint(data, rp)  # record length
                rp += 1  # attributes
                _, rp = _varint(data, rp)  # timestamp delta
                delta, rp = _varint(data, rp)
                klen, rp = _varint(data, rp)
                rp += max(klen, 0)
                vlen, rp = _varint(data, rp)
                out.append((base + delta, data[rp:rp + vlen] if vlen >= 0 else None))
                rp += max(vlen, 0)
                nh, rp = _varint(data, rp)
                for _ in range(nh):
                    hk, rp = _varint(data, rp)
                    rp += hk
                    hv, rp = _varint(data, rp)
                    rp += max(hv, 0)
            pos += 12 + length
    return out


# ---- an acks=all producer running on its own thread -------------------------

class Load:
    """Produces b"<tag>%06d" to `topic` (partition 0) with acks=all + idempotence
    until stop(); records acknowledged values/offsets and delivery errors."""

    def __init__(self, bootstrap: str, topic: str, tag: bytes, extra: dict | None = None):
        self.p = Producer(clients.base_conf(bootstrap) | {"acks": "all", "enable.idempotence": True,
                                                          "message.timeout.ms": 60000, "linger.ms": 5} | (extra or {}))
        self.topic, self.tag = topic, tag
        self.acked, self.failed = [], []
        self._stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True, name=f"load-{topic}")
        self.t.start()

    def _cb(self, err, m):
        (self.failed if err is not None else self.acked).append((m.value(), err if err else m.offset()))

    def _run(self):
        i = 0
        while not self._stop.is_set():
            try:
                self.p.produce(self.topic, value=self.tag + b"%06d" % i, partition=0, on_delivery=self._cb)
                i += 1
            except BufferError:
                pass
            self.p.poll(0.002)
        self.p.flush(60)

    def wait_acked(self, n: int, timeout: float, what: str):
        wait_until(lambda: len(self.acked) >= n, timeout, f"{n} acknowledged ({what}); failed so far: "
                   f"{self.failed[:3]}")

    def stop(self, tc):
        self._stop.set()
        self.t.join(90)
        tc.assertFalse(self.t.is_alive(), "producer did not flush within 90 s")


def check_acked_once(tc, bootstrap: str, topic: str, load: Load):
    total = max(o for _, o in load.acked) + 1
    got = clients.consume(bootstrap, topic, {0: total}, timeout=60)[0]
    values = [r["value"] for r in got]
    tc.assertEqual(len(values), len(set(values)), "duplicates")
    missing = {v for v, _ in load.acked} - set(values)
    tc.assertEqual(missing, set(), f"{len(missing)} acknowledged message(s) missing")
    return values


class ClusterFaultTests(harness.BrokerTestCase):
    def cluster(self, n: int = 3, **kw) -> Cluster:
        c = Cluster(n, **kw)
        self.addCleanup(c.close)
        return c

    def pause(self, b: harness.Broker):
        os.kill(b.pid, signal.SIGSTOP)
        # Resumed before Cluster.close's SIGKILL reaps it (cleanups run last-in first).
        self.addCleanup(lambda pid=b.pid: b.alive() and os.kill(pid, signal.SIGCONT))

    def test_paused_leader_is_fenced_and_its_divergent_tail_truncated(self):
        t0 = time.monotonic()
        c = self.cluster(overrides={"replica.fetch.wait.max.ms": str(FETCH_WAIT_MS)})
        create_replicated(c, "fenced", 1, config={"min.insync.replicas": "2"})
        leader = partition_md(c.bootstrap, "fenced", 0).leader
        followers = [i for i in (1, 2, 3) if i != leader]
        acked = list(clients.produce(c.bootstrap, "fenced", [
            {"value": b"before-%03d" % i, "key": None, "headers": None, "partition": 0, "ts": 0} for i in range(100)]))
        self.assertEqual(acked, list(range(100)))
        # The followers pause briefly (well under the session and replica lag
        # timeouts: the ISR stays full) while the leader takes acks=1 writes: a tail
        # only the leader has.
        for f in followers:
            self.pause(c.broker(f))
        # A fetch they sent before pausing is answered (empty) within
        # replica.fetch.wait.max.ms; paused, they send no other.
        time.sleep(4 * FETCH_WAIT_MS / 1000)
        with raw_connect(c.broker(leader).bootstrap) as s:
            resp = raw_receive(s, raw_send(s, produce_request("fenced", 0, [b"tail-%d" % i for i in range(5)], 1)))
        self.assertIsNotNone(resp)
        self.assertEqual(produce_error(resp), 0, resp)
        tail_offset = resp.topics[0][1][0][2]
        self.assertEqual(tail_offset, 100)
        # The leader pauses past its session; the followers resume and elect one of them.
        self.pause(c.broker(leader))
        for f in followers:
            os.kill(c.broker(f).pid, signal.SIGCONT)
        others = ",".join(c.broker(f).bootstrap for f in followers)
        new_leader = wait_until(lambda: (m := partition_md(others, "fenced", 0)) is not None
                                and m.leader in followers and m.leader, 30, "a new leader among the followers")
        # acks=all writes through the new leader take the offsets of the old tail.
        after = clients.produce(others, "fenced", [
            {"value": b"after-%03d" % i, "key": None, "headers": None, "partition": 0, "ts": 0} for i in range(50)],
            timeout=30)
        # The tail is divergent unless a follower's fetch got it before pausing (the
        # leader answers a fetch held across the pause): then it is simply replicated.
        diverged = after[0] == 100
        self.assertIn(after[0], (100, 105))
        # A write queued to the deposed leader while it is paused, read once it resumes:
        # it must not be accepted as leader.
        s = raw_connect(c.broker(leader).bootstrap)
        try:
            proto = raw_send(s, produce_request("fenced", 0, [b"deposed-write"], 1))
            os.kill(c.broker(leader).pid, signal.SIGCONT)
            resp = raw_receive(s, proto)
        finally:
            s.close()
        if resp is not None:
            self.assertEqual(produce_error(resp), NOT_LEADER_OR_FOLLOWER,
                             f"the deposed leader answered {resp} to an acks=1 produce")
        # It rejoins as a follower: truncates its tail, catches up, every replica the same.
        wait_until(lambda: sorted(partition_md(others, "fenced", 0).isrs) == [1, 2, 3], 40,
                   "the old leader back in the ISR")
        wait_until(lambda: len({tuple(replica_log(c.broker(i), "fenced", 0)) for i in (1, 2, 3)}) == 1, 20,
                   "the same log on every replica")
        log = replica_log(c.broker(new_leader), "fenced", 0)
        values = [v for _, v in log]
        self.assertEqual([o for o, _ in log], list(range(len(log))), "offsets not contiguous")
        tail = [] if diverged else [b"tail-%d" % i for i in range(5)]
        self.assertEqual(values[:150 + len(tail)], [b"before-%03d" % i for i in range(100)] + tail
                         + [b"after-%03d" % i for i in range(50)])
        self.assertNotIn(b"deposed-write", values, "the deposed leader's write survived")
        if diverged:
            self.assertFalse(any(v.startswith(b"tail-") for v in values), "the divergent tail survived")
        sys.stderr.write(f"\nfenced leader: {time.monotonic() - t0:.1f} s (divergent tail: {diverged})\n")

    def test_leader_that_wrote_nothing_in_its_epoch_rejoins_the_isr(self):
        """CI's faults_pause: a broker led an epoch, appended nothing in it, and was
        paused past its session. Its epoch cache ended with that epoch, which no other
        replica has; as a follower it named it as its last fetched epoch, the leader
        answered DivergingEpoch at its log end, nothing was cut, and it asked again
        forever, out of the ISR. A truncation that cuts no record drops such an epoch."""
        c = self.cluster(overrides={"replica.fetch.wait.max.ms": str(FETCH_WAIT_MS)})
        create_replicated(c, "quiet", 1, config={"min.insync.replicas": "2"})
        first = partition_md(c.bootstrap, "quiet", 0).leader
        msgs = [{"value": b"m-%03d" % i, "key": None, "headers": None, "partition": 0, "ts": 0} for i in range(30)]
        self.assertEqual(list(clients.produce(c.bootstrap, "quiet", msgs)), list(range(30)))
        # A controlled shutdown moves the leadership to another broker, which starts a
        # new epoch at offset 30 and is given nothing to write in it.
        c.broker(first).restart(same_port=True)
        md = wait_until(lambda: (m := partition_md(c.bootstrap, "quiet", 0)) is not None and m.leader != first
                        and sorted(m.isrs) == [1, 2, 3] and m, 40, "a new leader, and the first back in the ISR")
        quiet = md.leader
        # The quiet leader pauses past its session; the controller elects another.
        self.pause(c.broker(quiet))
        rest = ",".join(c.broker(i).bootstrap for i in (1, 2, 3) if i != quiet)
        wait_until(lambda: (m := partition_md(rest, "quiet", 0)) is not None and m.leader not in (-1, quiet), 30,
                   "a leader other than the paused one")
        after = [{"value": b"n-%03d" % i, "key": None, "headers": None, "partition": 0, "ts": 0} for i in range(20)]
        self.assertEqual(list(clients.produce(rest, "quiet", after, timeout=30)), list(range(30, 50)))
        os.kill(c.broker(quiet).pid, signal.SIGCONT)
        wait_until(lambda: sorted(partition_md(rest, "quiet", 0).isrs) == [1, 2, 3], 30,
                   f"broker {quiet}, leader of an epoch with no record, back in the ISR")
        wait_until(lambda: [v for _, v in replica_log(c.broker(quiet), "quiet", 0)]
                   == [m["value"] for m in msgs + after], 10, "the paused broker's log caught up")

    def test_controlled_shutdown_of_a_leader_under_idempotent_acks_all(self):
        c = self.cluster()
        create_replicated(c, "steady", 1, config={"min.insync.replicas": "2"})
        leader = partition_md(c.bootstrap, "steady", 0).leader
        load = Load(c.bootstrap, "steady", b"s")
        self.addCleanup(load._stop.set)
        load.wait_acked(300, 30, "before the shutdown")
        t0 = time.monotonic()
        c.broker(leader).stop(timeout=30)  # SIGTERM: controlled shutdown, exit code 0
        stop_s = time.monotonic() - t0
        n = len(load.acked)
        load.wait_acked(n + 300, 60, "after the shutdown")
        load.stop(self)
        self.assertEqual(load.failed, [], f"{len(load.failed)} delivery failure(s)")
        check_acked_once(self, c.bootstrap, "steady", load)
        sys.stderr.write(f"\ncontrolled shutdown of the leader: {stop_s:.1f} s\n")

    def test_group_moves_with_its_coordinator_and_resumes_from_commits(self):
        c = self.cluster()
        create_replicated(c, "work", 3)
        msgs = harness.make_messages(600, 3, seed="groups")
        clients.produce(c.bootstrap, "work", msgs)
        group = "faulty-group"
        conf = clients.base_conf(c.bootstrap) | {"group.id": group, "enable.auto.commit": False,
                                                 "auto.offset.reset": "earliest", "session.timeout.ms": 10000,
                                                 "heartbeat.interval.ms": 500}

        def consume_some(cons, n, timeout=40):
            got = []
            d = Deadline(timeout)
            while len(got) < n and not d.expired():
                m = cons.poll(0.2)
                if m is None or m.error():
                    continue
                got.append((m.partition(), m.offset(), m.value()))
            self.assertEqual(len(got), n, "messages consumed before the deadline")
            return got

        def positions(got):
            pos = {}
            for p, o, _ in got:
                pos[p] = max(pos.get(p, 0), o + 1)
            return pos

        def commit(cons, pos):
            tps = [TopicPartition("work", p, o) for p, o in sorted(pos.items())]
            wait_until(lambda: cons.commit(offsets=tps, asynchronous=False) or True, 30,
                       "a commit accepted")

        a = Consumer(conf)
        a.subscribe(["work"])
        seen = consume_some(a, 200)
        c1 = positions(seen)
        commit(a, c1)
        coord = find_coordinator(c.bootstrap, group)
        c.broker(coord).kill9()
        others = c.bootstrap
        new_coord = wait_until(lambda: (x := find_coordinator(others, group)) != coord and x, 30,
                               "FindCoordinator naming another broker")
        # The committed offsets survive (read through the new coordinator).
        wait_until(lambda: {tp.partition: tp.offset for tp in a.committed(
            [TopicPartition("work", p) for p in c1], timeout=5)} == c1, 30, "the commits through the new coordinator")
        more = consume_some(a, 200, timeout=60)
        seen += more
        c2 = positions(seen)
        commit(a, c2)
        clients.bounded_close(a)
        # Another member resumes exactly from the last commit.
        b = Consumer(conf)
        b.subscribe(["work"])
        total = sum(c2.get(p, 0) for p in range(3))
        rest = consume_some(b, 600 - total, timeout=60)
        clients.bounded_close(b)
        firsts = {}
        for p, o, _ in rest:
            firsts.setdefault(p, o)
        for p, o in firsts.items():
            self.assertEqual(o, c2.get(p, 0), f"partition {p}: resumed at {o}, committed {c2.get(p, 0)}")
        values = [v for _, _, v in seen] + [v for _, _, v in rest]
        order = lambda v: (v is not None, v or b"")  # noqa: E731 (null values sort first)
        self.assertEqual(sorted(values, key=order), sorted((m["value"] for m in msgs), key=order),
                         "lost or reprocessed messages")
        self.assertNotEqual(new_coord, coord)

    def test_zookeeper_restart_under_acks_all_load(self):
        c = self.cluster()
        create_replicated(c, "steady", 1, config={"min.insync.replicas": "2"})
        load = Load(c.bootstrap, "steady", b"z")
        self.addCleanup(load._stop.set)
        load.wait_acked(300, 30, "before the restart")
        t0 = time.monotonic()
        c.zk.restart()
        restart_s = time.monotonic() - t0
        n = len(load.acked)
        load.wait_acked(n + 300, 60, "after the restart")
        # The cluster still works through ZooKeeper: a topic created after the restart.
        create_replicated(c, "after-zk", 1, via=2)
        load.stop(self)
        self.assertEqual([e for _, e in load.failed if not e.retriable()], [], "non-retriable delivery errors")
        self.assertEqual(load.failed, [], f"{len(load.failed)} delivery failure(s)")
        check_acked_once(self, c.bootstrap, "steady", load)
        sys.stderr.write(f"\nZooKeeper restart: {restart_s:.1f} s\n")

    def test_broker_restarted_right_after_kill9_waits_for_its_old_session(self):
        # Found by the fault suite: the earlier run's ephemeral /brokers/ids/<id> lives
        # until ZooKeeper expires its session; the restart used to exit with "already
        # registered" instead of waiting for it.
        c = self.cluster(session_timeout_ms=4000)
        b = c.broker(3)
        mark = len(b.log_lines())
        b.kill9()
        t0 = time.monotonic()
        b.start(port=b.port)  # at once, same address
        waited = time.monotonic() - t0
        b.wait_for_log("still registered by an earlier session", timeout=1, start=mark)
        self.assertLess(waited, 4 + 2 + 5, "waited past the session timeout")
        c.wait_for_brokers(3)

    def test_kafkajs_and_kcat_through_any_broker(self):
        modules = os.path.join(JS_DIR, "node_modules")
        node = shutil.which("node")
        self.assertTrue(node and os.path.isdir(os.path.join(modules, "kafkajs")),
                        "node and tests/integration/js/node_modules are needed: run `scripts/install-deps --test`")
        c = self.cluster()
        create_replicated(c, "mixed", 3)
        n = 90
        # KafkaJS produces through broker 1 only, then reads everything back as a
        # group through broker 3 only (after kcat's messages land).
        script = r"""
const { Kafka, logLevel, Partitioners } = require('kafkajs')
const [mode, bootstrap, n] = process.argv.slice(1)
const kafka = new Kafka({ clientId: 'it-faults', brokers: [bootstrap], logLevel: logLevel.NOTHING })
async function main () {
  if (mode === 'produce') {
    const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true })
    await p.connect()
    const messages = []
    for (let i = 0; i < +n; i++) messages.push({ partition: i % 3, value: `js-${i}` })
    await p.send({ topic: 'mixed', acks: -1, messages })
    await p.disconnect()
    return
  }
  const c = kafka.consumer({ groupId: 'js-faults', sessionTimeout: 10000 })
  await c.connect()
  await c.subscribe({ topic: 'mixed', fromBeginning: true })
  const seen = []
  await new Promise((resolve) => {
    c.run({ eachMessage: async ({ partition, message }) => {
      seen.push([partition, +message.offset, message.value.toString()])
      if (seen.length >= +n) resolve()
    } })
  })
  await c.disconnect()
  process.stdout.write(JSON.stringify(seen))
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
"""

        def node_run(*args, timeout=60):
            r = subprocess.run([node, "-e", script, "--", *args], cwd=JS_DIR, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=timeout, env=os.environ | {"NODE_PATH": modules})
            self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace")[-2000:])
            return r.stdout

        node_run("produce", c.broker(1).bootstrap, str(n))
        # kcat produces through broker 2 only (acks=all), one partition each line.
        for p in range(3):
            lines = b"".join(b"kcat-%d-%d\n" % (p, i) for i in range(n // 3))
            r = subprocess.run([KCAT, "-P", "-b", c.broker(2).bootstrap, "-t", "mixed", "-p", str(p),
                                "-X", "acks=all", "-X", "broker.address.family=v4"], input=lines,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
        # kcat reads everything through broker 3 only.
        r = subprocess.run([KCAT, "-C", "-b", c.broker(3).bootstrap, "-t", "mixed", "-o", "beginning", "-e",
                            "-f", "%p %s\n", "-X", "broker.address.family=v4"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = sorted(r.stdout.decode().split("\n")[:-1])
        want = sorted([f"{i % 3} js-{i}" for i in range(n)] + [f"{p} kcat-{p}-{i}" for p in range(3)
                                                               for i in range(n // 3)])
        self.assertEqual(got, want)
        seen = json.loads(node_run("consume", c.broker(3).bootstrap, str(2 * n)))
        self.assertEqual(sorted(f"{p} {v}" for p, _, v in seen), want)


if __name__ == "__main__":
    harness.main()
