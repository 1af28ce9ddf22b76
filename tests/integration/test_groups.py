#!/usr/bin/python3
"""Consumer groups with confluent_kafka (subscribe, not assign): join, consume
every message of a 3-partition topic exactly once, commit, and a new member of
the same group resumes from the committed offsets. Every client call is
bounded (commits are asynchronous and awaited with a deadline), because a
broker that stops answering must fail the test, not hang it.

Also: a 3-member group (child processes, group_member.py) under a running
producer with a clean leave, a kill -9 and a replacement (assignment exact,
nothing lost); committed offsets across broker SIGTERM and kill -9 restarts;
kafka-python, confluent_kafka and kcat -G commits; static membership
(group.instance.id) restart without a rebalance; and the coordinator's error
codes for bad JoinGroup/SyncGroup/Heartbeat/OffsetCommit on a raw socket."""

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
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402
from harness import Deadline  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from kafka import KafkaConsumer  # noqa: E402

import test_bad_input as raw  # noqa: E402  (wire encoders; its TestCase is not collected here)

PARTITIONS = 3
HERE = os.path.dirname(os.path.abspath(__file__))
KCAT = shutil.which("kcat") or "/usr/bin/kcat"


def group_consumer(bootstrap, group):
    return Consumer(clients.base_conf(bootstrap) | {
        "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "fetch.wait.max.ms": 100})


def poll_n(c, n, timeout):
    got = []
    d = Deadline(timeout)
    while len(got) < n and not d.expired():
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        got.append(m)
    return got


class Groups(harness.BrokerTestCase):
    # One broker per test: a hung group coordinator must not take the other test down.
    def setUp(self):
        # min session timeout 1000 (default 6000) so dead members are noticed fast.
        self.b = self.broker(name="groups", overrides={"group.initial.rebalance.delay.ms": "0",
                                                       "group.min.session.timeout.ms": "1000"})

    def tearDown(self):
        self.b.stop()  # exit code 0 within 10 s of SIGTERM

    def test_subscribe_consumes_everything_once(self):
        topic = "grp-all"
        clients.create_topic(self.b.bootstrap, topic, PARTITIONS)
        msgs = harness.make_messages(300, PARTITIONS, seed="grp-")
        clients.produce(self.b.bootstrap, topic, msgs, codec="lz4")
        c = group_consumer(self.b.bootstrap, "g-all")
        try:
            c.subscribe([topic])
            got = poll_n(c, 300, 30)
            extra = poll_n(c, 1, 1.0)  # nothing more (bounded look)
        finally:
            clients.bounded_close(c)
        self.assertEqual(len(got), 300)
        self.assertEqual(extra, [])
        by_p = {p: [(m.offset(), m.key(), m.value()) for m in got if m.partition() == p] for p in range(PARTITIONS)}
        exp = harness.by_partition(msgs, PARTITIONS)
        for p in range(PARTITIONS):
            self.assertTrue(by_p[p] == [(o, e["key"], e["value"]) for o, e in enumerate(exp[p])], f"partition {p}")

    def test_commit_then_resume(self):
        topic = "grp-resume"
        clients.create_topic(self.b.bootstrap, topic, PARTITIONS)
        msgs = harness.make_messages(120, PARTITIONS, seed="res-")
        clients.produce(self.b.bootstrap, topic, msgs)
        c = group_consumer(self.b.bootstrap, "g-resume")
        try:
            c.subscribe([topic])
            first = poll_n(c, 60, 30)
            self.assertEqual(len(first), 60)
            # Commit exactly what was consumed: next offset per partition.
            nxt = {}
            for m in first:
                nxt[m.partition()] = max(nxt.get(m.partition(), 0), m.offset() + 1)
            offs = [TopicPartition(topic, p, o) for p, o in nxt.items()]
            c.commit(offsets=offs, asynchronous=True)
            d = Deadline(15)
            committed = None
            while not d.expired():
                c.poll(0.1)
                committed = c.committed([TopicPartition(topic, p) for p in nxt], timeout=2)
                if all(tp.offset == nxt[tp.partition] for tp in committed):
                    break
            self.assertEqual({tp.partition: tp.offset for tp in committed}, nxt)
        finally:
            clients.bounded_close(c)
        # A new member resumes at the committed offsets and gets the other 60.
        c2 = group_consumer(self.b.bootstrap, "g-resume")
        try:
            c2.subscribe([topic])
            rest = poll_n(c2, 60, 30)
        finally:
            clients.bounded_close(c2)
        self.assertEqual(len(rest), 60)
        seen = {(m.partition(), m.offset()) for m in first} | {(m.partition(), m.offset()) for m in rest}
        self.assertEqual(len(seen), 120, "every message exactly once across the two members")
        for m in rest:
            self.assertGreaterEqual(m.offset(), nxt.get(m.partition(), 0))

    # ---- helpers for the new tests ------------------------------------------
    def wait_committed(self, group, topic, expected: dict, timeout=20):
        """Polls OffsetFetch (committed()) from a non-member consumer of `group`
        until it returns `expected` ({partition: offset}); returns what it saw."""
        c = group_consumer(self.b.bootstrap, group)
        seen = {}
        try:
            def ok():
                got = c.committed([TopicPartition(topic, p) for p in expected], timeout=5)
                seen.clear()
                seen.update({tp.partition: tp.offset for tp in got})
                return seen == expected
            try:
                harness.wait_until(ok, timeout, f"committed offsets of group {group} == {expected}", 0.2)
            except AssertionError as e:
                raise AssertionError(f"{e}; last seen {seen}")
        finally:
            clients.bounded_close(c)
        return seen

    def start_member(self, tmp, name, topic, group, session_ms=2000, instance_id=None):
        out = os.path.join(tmp, f"{name}.out")
        st = os.path.join(tmp, f"{name}.status")
        args = [sys.executable, os.path.join(HERE, "group_member.py"), self.b.bootstrap, topic, group,
                out, st, str(session_ms)] + ([instance_id] if instance_id else [])
        errf = open(os.path.join(tmp, f"{name}.stderr"), "w")
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf,
                             preexec_fn=harness._child_setup)
        errf.close()
        self.addCleanup(harness.free_child_cleanup, p)
        return {"name": name, "proc": p, "out": out, "status": st, "stderr": os.path.join(tmp, f"{name}.stderr")}

    @staticmethod
    def read_status(m):
        with open(m["status"]) as f:
            return json.load(f)

    @staticmethod
    def read_text(path):
        with open(path) as f:
            return f.read()

    @staticmethod
    def read_output(m):
        recs = []
        if os.path.exists(m["out"]):
            with open(m["out"]) as f:
                for line in f:
                    if line.endswith("\n"):
                        p, o, v = line.split()
                        recs.append((int(p), int(o), v))
        return recs

    # ---- 1. three members, producer running, clean leave, kill -9, replacement --
    def test_group_churn_under_load_no_loss(self):
        topic, group, parts, n = "grp-churn", "g-churn", 6, 6000
        clients.create_topic(self.b.bootstrap, topic, parts)
        tmp = self.b.tmp
        members = [self.start_member(tmp, f"m{i}", topic, group) for i in range(3)]

        def stable(live):
            """Union of the live members' assignments is exactly the partitions, no overlap."""
            owned = []
            for m in live:
                owned += self.read_status(m)["assigned"]
            return sorted(owned) == list(range(parts))

        def explain(live):
            return {m["name"]: self.read_status(m) for m in live}

        try:
            harness.wait_until(lambda: stable(members) and all(len(self.read_status(m)["assigned"]) == 2
                                                               for m in members),
                               30, "3 members sharing 6 partitions, 2 each")
        except AssertionError as e:
            raise AssertionError(f"{e}: {explain(members)}")

        produced, perr = [0], []

        def produce():
            p = Producer(clients.base_conf(self.b.bootstrap) | {"acks": "all", "linger.ms": 5,
                                                                "message.timeout.ms": 30000})
            cb = lambda err, msg: perr.append(str(err)) if err else None
            start = time.monotonic()
            for i in range(n):
                if i % 60 == 0:  # steady pace: 60 messages every 80 ms (~750/s, ~8 s)
                    delay = start + (i // 60) * 0.08 - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                p.produce(topic, value=f"v-{i:05d}".encode(), partition=i % parts, on_delivery=cb)
                p.poll(0)
                produced[0] = i + 1
            if p.flush(30):
                perr.append("not all delivered within 30 s of the last produce")

        t = threading.Thread(target=produce, daemon=True, name="churn-producer")
        t.start()
        total = lambda ms: sum(len(self.read_output(m)) for m in ms)
        harness.wait_until(lambda: total(members) >= 1000, 30, "1000 messages consumed")
        # m0 leaves cleanly (LeaveGroup) mid-run.
        members[0]["proc"].send_signal(signal.SIGTERM)
        self.assertEqual(members[0]["proc"].wait(20), 0, self.read_text(members[0]["stderr"]))
        self.assertTrue(self.read_status(members[0])["closed"])
        harness.wait_until(lambda: stable(members[1:]), 20, "m1+m2 own all partitions after m0 left")
        harness.wait_until(lambda: total(members) >= 3000, 30, "3000 messages consumed")
        # m1 dies without a word (session timeout 2 s) while owning partitions.
        self.assertTrue(self.read_status(members[1])["assigned"], explain(members[1:]))
        os.kill(members[1]["proc"].pid, signal.SIGKILL)
        members[1]["proc"].wait(10)
        repl = self.start_member(tmp, "m3", topic, group)
        live = [members[2], repl]
        t.join(60)
        self.assertFalse(t.is_alive(), "producer thread did not finish in 60 s")
        self.assertEqual(perr, [], "producer delivery errors")
        self.assertEqual(produced[0], n)

        allm = members + [repl]
        want = {f"v-{i:05d}" for i in range(n)}

        def all_seen():
            return want <= {v for m in allm for (_, _, v) in self.read_output(m)}

        try:
            harness.wait_until(all_seen, 60, "every produced value consumed by some member")
        except AssertionError as e:
            missing = want - {v for m in allm for (_, _, v) in self.read_output(m)}
            raise AssertionError(f"{e}: {len(missing)} missing, e.g. {sorted(missing)[:10]}; "
                                 f"members: {explain(allm)}")
        try:
            harness.wait_until(lambda: stable(live) and all(self.read_status(m)["assigned"] for m in live),
                               30, "m2 + replacement m3 own all 6 partitions, no overlap")
        except AssertionError as e:
            raise AssertionError(f"{e}: {explain(live)}")
        # Records are where they were produced: value v-i on partition i % 6,
        # and per partition the consumed offsets cover 0..1000 (duplicates allowed).
        per_p = {p: set() for p in range(parts)}
        for m in allm:
            for (p, o, v) in self.read_output(m):
                self.assertEqual(int(v[2:]) % parts, p, f"{v} read from partition {p}")
                per_p[p].add(o)
        for p in range(parts):
            self.assertEqual(per_p[p], set(range(n // parts)), f"offsets consumed on partition {p}")
        # Every member committed after processing: the group's committed
        # offsets reach the end of every partition.
        self.wait_committed(group, topic, {p: n // parts for p in range(parts)}, timeout=30)
        dups = sum(len(self.read_output(m)) for m in allm) - n
        sys.stderr.write(f"[churn: {dups} duplicate deliveries; commit errors "
                         f"{ {m['name']: self.read_status(m)['commit_errors'][:2] for m in allm} }] ")
        for m in live:
            m["proc"].send_signal(signal.SIGTERM)
        for m in live:
            self.assertEqual(m["proc"].wait(20), 0, self.read_text(m["stderr"]))

    # ---- 2. committed offsets across SIGTERM and kill -9 of the broker ---------
    def test_committed_offsets_survive_restart_and_kill9(self):
        topic, group = "grp-restart", "g-restart"
        clients.create_topic(self.b.bootstrap, topic, 1)
        msgs = harness.make_messages(100, 1, seed="rst-")
        clients.produce(self.b.bootstrap, topic, msgs)

        def consume_commit(expect_first, upto):
            c = group_consumer(self.b.bootstrap, group)
            try:
                c.subscribe([topic])
                got = poll_n(c, upto - expect_first, 30)
                self.assertTrue(got, "nothing consumed")
                self.assertEqual(got[0].offset(), expect_first, "first offset after resume")
                self.assertEqual([m.offset() for m in got], list(range(expect_first, upto)))
                c.commit(offsets=[TopicPartition(topic, 0, upto)], asynchronous=False)
                self.assertEqual(c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset, upto)
            finally:
                clients.bounded_close(c)

        consume_commit(0, 40)
        self.b.restart()  # SIGTERM, exit 0 asserted, same data dir
        consume_commit(40, 70)
        self.b.restart(kill=True)  # kill -9
        self.wait_committed(group, topic, {0: 70})
        consume_commit(70, 100)

    # ---- 3. kafka-python, confluent_kafka and kcat -G commit -------------------
    def test_three_clients_commit_as_group(self):
        topic = "grp-clients"
        clients.create_topic(self.b.bootstrap, topic, PARTITIONS)
        clients.produce(self.b.bootstrap, topic, harness.make_messages(90, PARTITIONS, seed="cl-"))

        def ends(pairs):
            e = {}
            for p, o in pairs:
                e[p] = max(e.get(p, 0), o + 1)
            return e

        # kafka-python
        kc = KafkaConsumer(topic, bootstrap_servers=self.b.bootstrap, group_id="g-kp",
                           auto_offset_reset="earliest", enable_auto_commit=False,
                           session_timeout_ms=6000, heartbeat_interval_ms=500, request_timeout_ms=15000,
                           consumer_timeout_ms=1000)
        got = []
        try:
            d = Deadline(30)
            while len(got) < 50 and not d.expired():
                for recs in kc.poll(timeout_ms=200, max_records=10).values():
                    got += [(r.partition, r.offset) for r in recs]
            self.assertGreaterEqual(len(got), 50)
            kc.commit()
        finally:
            kc.close(autocommit=False)
        self.assertEqual(len(set(got)), len(got))
        self.wait_committed("g-kp", topic, ends(got))

        # confluent_kafka
        c = group_consumer(self.b.bootstrap, "g-ck")
        try:
            c.subscribe([topic])
            ms = poll_n(c, 45, 30)
            self.assertEqual(len(ms), 45)
            c.commit(asynchronous=False)  # the consumed positions
        finally:
            clients.bounded_close(c)
        self.wait_committed("g-ck", topic, ends((m.partition(), m.offset()) for m in ms))

        # kcat -G (balanced consumer; auto commit of the consumed offsets on exit)
        r = subprocess.run([KCAT, "-b", self.b.bootstrap, "-X", "broker.address.family=v4",
                            "-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=6000",
                            "-G", "g-kcat", topic, "-c", "60", "-q", "-f", "%p %o\\n"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        pairs = [tuple(map(int, l.split())) for l in r.stdout.decode().splitlines() if l.strip()]
        self.assertEqual(len(pairs), 60, r.stdout[:500])
        self.wait_committed("g-kcat", topic, ends(pairs))
        # A fresh member of the kcat group resumes right after: gets the other 30.
        c = group_consumer(self.b.bootstrap, "g-kcat")
        try:
            c.subscribe([topic])
            rest = poll_n(c, 30, 30)
            extra = poll_n(c, 1, 1.0)
        finally:
            clients.bounded_close(c)
        self.assertEqual(len(rest) + len(extra), 30)
        self.assertEqual(set(pairs) | {(m.partition(), m.offset()) for m in rest},
                         {(p, o) for p in range(PARTITIONS) for o in range(30)})

    # ---- 4. static membership: restart within the session timeout, no rebalance --
    def test_static_member_restart_no_rebalance(self):
        topic, group = "grp-static", "g-static"
        clients.create_topic(self.b.bootstrap, topic, 4)
        events = []  # the dynamic member's rebalance callbacks
        dyn_assigned = []
        stop = threading.Event()
        dyn = Consumer(clients.base_conf(self.b.bootstrap) | {
            "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "session.timeout.ms": 10000, "heartbeat.interval.ms": 300, "fetch.wait.max.ms": 100})

        def on_assign(c, ps):
            events.append(("assign", sorted(tp.partition for tp in ps)))
            dyn_assigned[:] = sorted(tp.partition for tp in ps)

        def on_revoke(c, ps):
            events.append(("revoke", sorted(tp.partition for tp in ps)))
            dyn_assigned[:] = []

        dyn.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)

        def loop():
            while not stop.is_set():
                dyn.poll(0.1)

        t = threading.Thread(target=loop, daemon=True, name="dynamic-member")
        t.start()
        try:
            harness.wait_until(lambda: dyn_assigned == [0, 1, 2, 3], 30, "dynamic member owns all 4")

            def static_member():
                s_assigned = []
                s = Consumer(clients.base_conf(self.b.bootstrap) | {
                    "group.id": group, "group.instance.id": "static-1", "auto.offset.reset": "earliest",
                    "enable.auto.commit": False, "session.timeout.ms": 10000, "heartbeat.interval.ms": 300,
                    "fetch.wait.max.ms": 100})
                s.subscribe([topic], on_assign=lambda c, ps: s_assigned.__setitem__(
                    slice(None), sorted(tp.partition for tp in ps)))
                return s, s_assigned

            s, s_as = static_member()
            d = Deadline(30)
            while not d.expired() and not (s_as and len(s_as) + len(dyn_assigned) == 4):
                s.poll(0.1)
            self.assertEqual(sorted(s_as + dyn_assigned), [0, 1, 2, 3], f"events {events}")
            self.assertEqual(len(s_as), 2)
            first = list(s_as)
            before = list(events)
            clients.bounded_close(s)  # a static member sends no LeaveGroup
            s2, s2_as = static_member()
            d = Deadline(20)
            while not d.expired() and not s2_as:
                s2.poll(0.1)
            self.assertEqual(s2_as, first, "restarted static member gets its old assignment")
            d = Deadline(3)  # a bounded look: no rebalance follows either
            while not d.expired():
                s2.poll(0.1)
            self.assertEqual(events, before, "the dynamic member saw a rebalance during the static restart")
            self.assertEqual(s2_as, first)
            clients.bounded_close(s2)
        finally:
            stop.set()
            t.join(10)
            clients.bounded_close(dyn)

    # ---- 5. coordinator error codes on a raw socket ----------------------------
    def rpc(self, s, api_key, version, body, corr=[100]):
        corr[0] += 1
        s.sendall(raw.frame(raw.header_v1(api_key, version, corr[0]) + body))
        res = raw.recv_response(s)
        self.assertIsNotNone(res, f"connection closed instead of answering api {api_key} v{version}")
        self.assertEqual(res[0], corr[0])
        return raw.Reader(res[1])

    def join(self, s, version, group, member, session_ms=30000, ptype="consumer", instance=None, topic="t"):
        meta = struct.pack(">h", 0) + struct.pack(">i", 1) + raw.kstring(topic) + raw.kbytes(b"")
        body = raw.kstring(group) + struct.pack(">i", session_ms)
        if version >= 1:
            body += struct.pack(">i", 30000)
        body += raw.kstring(member)
        if version >= 5:
            body += raw.kstring(instance)
        body += raw.kstring(ptype) + struct.pack(">i", 1) + raw.kstring("range") + raw.kbytes(meta)
        r = self.rpc(s, 11, version, body)
        if version >= 2:
            r.take(">i")
        err, gen = r.take(">hi")
        proto, leader, mid = r.string(), r.string(), r.string()
        return {"error": err, "generation": gen, "protocol": proto, "leader": leader, "member_id": mid}

    def sync(self, s, group, gen, member, assignments=()):
        body = raw.kstring(group) + struct.pack(">i", gen) + raw.kstring(member) + struct.pack(">i", len(assignments))
        for m, a in assignments:
            body += raw.kstring(m) + raw.kbytes(a)
        r = self.rpc(s, 14, 1, body)
        r.take(">i")
        return r.take(">h")

    def heartbeat(self, s, group, gen, member):
        r = self.rpc(s, 12, 1, raw.kstring(group) + struct.pack(">i", gen) + raw.kstring(member))
        r.take(">i")
        return r.take(">h")

    def test_coordinator_error_codes(self):
        clients.create_topic(self.b.bootstrap, "grp-raw", 2)
        s = socket.create_connection(("127.0.0.1", self.b.port), timeout=10)
        self.addCleanup(s.close)
        g = "g-raw"
        # KIP-394: JoinGroup v4 with an empty member id -> 79 carrying a member id.
        j = self.join(s, 4, g, "")
        self.assertEqual(j["error"], 79, j)
        self.assertTrue(j["member_id"], j)
        mid = j["member_id"]
        j = self.join(s, 4, g, mid)
        self.assertEqual(j["error"], 0, j)
        self.assertEqual((j["member_id"], j["leader"], j["protocol"]), (mid, mid, "range"))
        gen = j["generation"]
        self.assertGreaterEqual(gen, 1)
        self.assertEqual(self.sync(s, g, gen, mid, [(mid, b"")]), 0)
        self.assertEqual(self.heartbeat(s, g, gen, mid), 0)
        # Unknown member id -> 25; stale (or future) generation -> 22.
        self.assertEqual(self.heartbeat(s, g, gen, "no-such-member"), 25)
        self.assertEqual(self.sync(s, g, gen, "no-such-member"), 25)
        self.assertEqual(self.heartbeat(s, g, gen + 7, mid), 22)
        self.assertEqual(self.sync(s, g, gen + 7, mid), 22)
        # The member rejoins with a changed subscription: a new generation; the old one is stale.
        j = self.join(s, 4, g, mid, topic="t2")
        self.assertEqual(j["error"], 0, j)
        self.assertGreater(j["generation"], gen, j)
        old, gen = gen, j["generation"]
        self.assertEqual(self.sync(s, g, gen, mid, [(mid, b"")]), 0)
        self.assertEqual(self.heartbeat(s, g, old, mid), 22)
        self.assertEqual(self.sync(s, g, old, mid), 22)
        self.assertEqual(self.heartbeat(s, g, gen, mid), 0)
        # A new member with another protocol type -> 23.
        j = self.join(s, 2, g, "", ptype="connect")
        self.assertEqual(j["error"], 23, j)
        self.assertEqual(self.heartbeat(s, g, gen, mid), 0, "the existing member is untouched")
        # JoinGroup v2 (kafka-python's) with an empty member id: 0 and a member id, never 79.
        j = self.join(s, 2, "g-raw-v2", "")
        self.assertEqual(j["error"], 0, j)
        self.assertTrue(j["member_id"])
        self.assertEqual(j["leader"], j["member_id"])
        # Session timeout below group.min.session.timeout.ms (1000 here) -> 26.
        for v in (2, 4):
            j = self.join(s, v, "g-raw-sess", "", session_ms=500)
            self.assertEqual(j["error"], 26, (v, j))
        # OffsetCommit v2 for an unknown topic and an unknown partition -> 3 each.
        body = raw.kstring("g-raw-commit") + struct.pack(">i", -1) + raw.kstring("") + struct.pack(">q", -1)
        body += struct.pack(">i", 2)
        body += raw.kstring("no-such-topic") + struct.pack(">i", 2)
        body += struct.pack(">iq", 0, 5) + raw.kstring("") + struct.pack(">iq", 1, 5) + raw.kstring("")
        body += raw.kstring("grp-raw") + struct.pack(">i", 2)
        body += struct.pack(">iq", 1, 5) + raw.kstring("") + struct.pack(">iq", 9, 5) + raw.kstring("")
        r = self.rpc(s, 8, 2, body)
        res = {}
        for _ in range(r.take(">i")):
            name = r.string()
            for _ in range(r.take(">i")):
                idx, err = r.take(">ih")
                res[(name, idx)] = err
        self.assertEqual(res, {("no-such-topic", 0): 3, ("no-such-topic", 1): 3,
                               ("grp-raw", 1): 0, ("grp-raw", 9): 3})
        self.assertEqual(self.heartbeat(s, g, gen, mid), 0, "still served on the same connection")


if __name__ == "__main__":
    harness.main()
