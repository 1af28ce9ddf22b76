#!/usr/bin/python3
"""`strata topic|group|cluster`: every admin subcommand run as the real binary
against a real broker, checking both what it prints (`--output json`, parsed)
and what another client (confluent_kafka AdminClient / Consumer) sees
afterwards. Also the failure paths: unreachable broker, a broker that never
answers, unknown topic and group, invalid partition counts, a reset of a group
with active members. Every subprocess and client call is bounded."""

import datetime
import json
import os
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import clients  # noqa: E402
import harness  # noqa: E402
from harness import Deadline, wait_until  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import ConfigResource  # noqa: E402

CMD_TIMEOUT = 60  # seconds for one CLI run (its own --timeout-ms is lower)


def strata(bootstrap, *args, timeout_ms=20000):
    """Runs `strata <args> --bootstrap-server B --timeout-ms T`; returns
    (exit code, stdout, stderr)."""
    cmd = [harness.STRATA_BIN, *args]
    if bootstrap is not None:
        cmd += ["--bootstrap-server", bootstrap, "--timeout-ms", str(timeout_ms)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=CMD_TIMEOUT, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def topic_configs(bootstrap, topic):
    a = clients.admin(bootstrap)
    res = clients.wait_futures(a.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)],
                                                  request_timeout=20), 30)
    (entries,) = res.values()
    if isinstance(entries, Exception):
        raise entries
    return {k: v.value for k, v in entries.items()}


def partition_count(bootstrap, topic):
    # Metadata for every topic: librdkafka's request for one named topic
    # would auto-create it (a producer-type handle allows auto-creation).
    md = clients.admin(bootstrap).list_topics(timeout=10).topics.get(topic)
    if md is None or md.error is not None:
        return None
    return len(md.partitions)


def produce_with_times(bootstrap, topic, counts, t0_ms):
    """counts: {partition: n}. Message j of a partition has timestamp t0 + j s."""
    p = Producer(clients.base_conf(bootstrap) | {"acks": "all", "linger.ms": 5, "message.timeout.ms": 30000})
    errors = []
    for part, n in counts.items():
        for j in range(n):
            p.produce(topic, key=f"k{j}".encode(), value=f"p{part}-m{j}".encode(), partition=part,
                      timestamp=t0_ms + j * 1000, on_delivery=lambda e, m: e and errors.append(e))
    left = p.flush(30)
    if left or errors:
        raise AssertionError(f"produce failed: {left} undelivered, errors {errors[:3]}")


def committed(bootstrap, group, topic, partitions):
    """Committed offsets read by a consumer that does not join the group."""
    c = Consumer(clients.base_conf(bootstrap) | {"group.id": group, "enable.auto.commit": False})
    try:
        tps = c.committed([TopicPartition(topic, p) for p in partitions], timeout=15)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        c.close()


def iso_utc(ms):
    dt = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class AdminTestCase(harness.BrokerTestCase):
    def setUp(self):
        self.b = self.broker(name="cli-admin", overrides={"group.initial.rebalance.delay.ms": "0",
                                                          "group.min.session.timeout.ms": "1000"})
        self.bs = self.b.bootstrap

    def tearDown(self):
        self.b.stop()

    def ok(self, *args):
        rc, out, err = strata(self.bs, *args)
        self.assertEqual(rc, 0, f"strata {' '.join(args)} failed: {err}")
        return out

    def ok_json(self, *args):
        return json.loads(self.ok(*args, "--output", "json"))

    def fails(self, *args, bootstrap=None, timeout_ms=20000):
        """Runs a command that must fail; returns its one-line error."""
        rc, out, err = strata(self.bs if bootstrap is None else bootstrap, *args, timeout_ms=timeout_ms)
        self.assertNotEqual(rc, 0, f"strata {' '.join(args)} succeeded: {out}")
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, f"expected one error line, got: {err!r}")
        prefix = f"strata {args[0]} {args[1]}: error: "
        self.assertTrue(lines[0].startswith(prefix), lines[0])
        return lines[0][len(prefix):]


class Topics(AdminTestCase):
    def test_create_list_describe_delete(self):
        out = self.ok_json("topic", "create", "orders", "--partitions", "3", "--replication-factor", "1",
                           "--config", "retention.ms=123456", "--config", "cleanup.policy=compact")
        self.assertEqual(out, {"topic": "orders", "created": True})
        wait_until(lambda: partition_count(self.bs, "orders") == 3, 20, "3 partitions in metadata")
        cfg = topic_configs(self.bs, "orders")
        self.assertEqual((cfg["retention.ms"], cfg["cleanup.policy"]), ("123456", "compact"))

        listed = self.ok_json("topic", "list")["topics"]
        self.assertIn({"name": "orders", "partitions": 3, "replication_factor": 1, "internal": False}, listed)
        self.assertNotIn("__consumer_offsets", [t["name"] for t in listed])

        produce_with_times(self.bs, "orders", {0: 5, 2: 1}, harness.BASE_TS)
        d = self.ok_json("topic", "describe", "orders")["topics"]
        self.assertEqual(len(d), 1)
        t = d[0]
        node = clients.admin(self.bs).list_topics(timeout=10).controller_id
        self.assertEqual((t["name"], t["partition_count"], t["replication_factor"]), ("orders", 3, 1))
        self.assertEqual([p["partition"] for p in t["partitions"]], [0, 1, 2])
        for p in t["partitions"]:
            self.assertEqual((p["leader"], p["replicas"], p["isr"], p["error"]), (node, [node], [node], None))
        # Only the overrides by default, with their source.
        self.assertEqual(sorted((c["name"], c["value"], c["source"]) for c in t["configs"]),
                         [("cleanup.policy", "compact", "DYNAMIC_TOPIC_CONFIG"),
                          ("retention.ms", "123456", "DYNAMIC_TOPIC_CONFIG")])
        sizes = [p["size_bytes"] for p in t["partitions"]]
        self.assertTrue(sizes[0] > sizes[2] > 0 and sizes[1] == 0, f"sizes {sizes}")
        self.assertEqual(t["size_bytes"], sum(sizes))

        every = self.ok_json("topic", "describe", "orders", "--all-configs")["topics"][0]["configs"]
        by_name = {c["name"]: c for c in every}
        self.assertGreater(len(every), 2)
        self.assertEqual(by_name["retention.ms"]["value"], "123456")
        self.assertIn("segment.bytes", by_name)
        self.assertNotEqual(by_name["segment.bytes"]["source"], "DYNAMIC_TOPIC_CONFIG")

        text = self.ok("topic", "describe", "orders")
        self.assertIn("Topic: orders", text)
        self.assertRegex(text, r"PARTITION +LEADER +EPOCH +REPLICAS +ISR")
        self.assertRegex(text, r"retention\.ms +123456 +DYNAMIC_TOPIC_CONFIG")

        err = self.fails("topic", "create", "orders", "--partitions", "1")
        self.assertIn("orders", err)
        self.assertIn("TOPIC_ALREADY_EXISTS", err)
        self.assertEqual(self.ok_json("topic", "create", "orders", "--if-not-exists"),
                         {"topic": "orders", "created": False})

        self.assertEqual(self.ok_json("topic", "delete", "orders"), {"topic": "orders", "deleted": True})
        wait_until(lambda: partition_count(self.bs, "orders") is None, 20, "orders gone from metadata")
        self.assertNotIn("orders", [t["name"] for t in self.ok_json("topic", "list")["topics"]])
        self.assertEqual(self.ok_json("topic", "delete", "orders", "--if-exists"),
                         {"topic": "orders", "deleted": False})

    def test_create_with_broker_defaults(self):
        self.ok("topic", "create", "dflt")
        wait_until(lambda: partition_count(self.bs, "dflt") is not None, 20, "dflt in metadata")
        d = self.ok_json("topic", "describe", "dflt")["topics"][0]
        self.assertEqual(d["partition_count"], partition_count(self.bs, "dflt"))
        self.assertEqual(d["configs"], [])

    def test_alter_config(self):
        self.ok("topic", "create", "cfg", "--partitions", "1")
        out = self.ok_json("topic", "alter-config", "cfg", "--set", "retention.ms=1000",
                           "--set", "max.message.bytes=2048")
        self.assertEqual(out["set"], {"retention.ms": "1000", "max.message.bytes": "2048"})
        cfg = topic_configs(self.bs, "cfg")
        self.assertEqual((cfg["retention.ms"], cfg["max.message.bytes"]), ("1000", "2048"))

        self.ok("topic", "alter-config", "cfg", "--delete", "retention.ms")
        cfg = topic_configs(self.bs, "cfg")
        self.assertEqual(cfg["retention.ms"], "604800000")  # back to the 7-day default
        self.assertEqual(cfg["max.message.bytes"], "2048")
        names = [c["name"] for c in self.ok_json("topic", "describe", "cfg")["topics"][0]["configs"]]
        self.assertEqual(names, ["max.message.bytes"])

        err = self.fails("topic", "alter-config", "cfg", "--set", "retention.ms=not-a-number")
        self.assertIn("INVALID_CONFIG", err)
        self.assertIn("--set", self.fails("topic", "alter-config", "cfg", "--set", "novalue"))
        self.assertIn("nothing to change", self.fails("topic", "alter-config", "cfg"))

    def test_add_partitions(self):
        self.ok("topic", "create", "grow", "--partitions", "2")
        self.assertEqual(self.ok_json("topic", "add-partitions", "grow", "--partitions", "5"),
                         {"topic": "grow", "partitions": 5})
        wait_until(lambda: partition_count(self.bs, "grow") == 5, 20, "5 partitions in metadata")
        self.assertEqual(self.ok_json("topic", "describe", "grow")["topics"][0]["partition_count"], 5)
        err = self.fails("topic", "add-partitions", "grow", "--partitions", "3")
        self.assertIn("grow", err)
        self.assertIn("INVALID_PARTITIONS", err)
        self.assertEqual(partition_count(self.bs, "grow"), 5)

    def test_unknown_topic(self):
        for args in (["topic", "describe", "nosuch"], ["topic", "delete", "nosuch"],
                     ["topic", "add-partitions", "nosuch", "--partitions", "4"],
                     ["topic", "alter-config", "nosuch", "--set", "retention.ms=1"]):
            err = self.fails(*args)
            self.assertIn("'nosuch'", err, args)
            self.assertIn("UNKNOWN_TOPIC_OR_PARTITION", err, args)
        # Describing does not create it (auto-creation is on by default).
        self.assertIsNone(partition_count(self.bs, "nosuch"))

    def test_help(self):
        for args in (["topic", "create"], ["topic", "describe"], ["group", "reset-offsets"], ["cluster", "info"]):
            rc, out, err = strata(None, *args, "--help")
            self.assertEqual(rc, 0, err)
            self.assertIn("--bootstrap-server", out)
            self.assertIn("--timeout-ms", out)
        rc, out, _ = strata(None, "group", "reset-offsets", "--help")
        for flag in ("--to-earliest", "--to-latest", "--to-offset", "--to-datetime", "--shift-by", "--execute"):
            self.assertIn(flag, out)


class Failures(unittest.TestCase):
    """No broker needed: the error paths of the connection."""

    def test_unreachable_broker(self):
        port = free_port()
        for args in (["topic", "list"], ["group", "describe", "g"], ["cluster", "info"]):
            rc, out, err = strata(f"127.0.0.1:{port}", *args)
            self.assertNotEqual(rc, 0)
            self.assertEqual(err, f"strata {args[0]} {args[1]}: error: cannot connect to 127.0.0.1:{port}: "
                                  "Connection refused\n")
            self.assertEqual(out, "")

    def test_short_bootstrap_flag(self):
        # -b as in produce/consume (and kcat): same one-line error as --bootstrap-server.
        port = free_port()
        rc, out, err = strata(None, "topic", "list", "-b", f"127.0.0.1:{port}", "--timeout-ms", "5000")
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, f"strata topic list: error: cannot connect to 127.0.0.1:{port}: Connection refused\n")

    def test_default_bootstrap_is_localhost_9092(self):
        rc, out, _ = strata(None, "topic", "list", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("localhost:9092", out)

    def test_silent_broker_times_out(self):
        # Accepts connections (the kernel's backlog) but never answers.
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        try:
            start = time.monotonic()
            rc, out, err = strata(f"127.0.0.1:{srv.getsockname()[1]}", "topic", "list", timeout_ms=1500)
            elapsed = time.monotonic() - start
        finally:
            srv.close()
        self.assertNotEqual(rc, 0)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("timed out after", err)
        self.assertLess(elapsed, 10)

    def test_bad_bootstrap(self):
        rc, out, err = strata("no-port-here", "topic", "list")
        self.assertNotEqual(rc, 0)
        self.assertIn("invalid bootstrap server 'no-port-here'", err)


class Cluster(AdminTestCase):
    def test_info(self):
        info = self.ok_json("cluster", "info")
        md = clients.admin(self.bs).list_topics(timeout=10)
        self.assertEqual(info["cluster_id"], md.cluster_id)
        self.assertEqual(info["controller_id"], md.controller_id)
        self.assertEqual([(b["node_id"], b["host"], b["port"]) for b in info["brokers"]],
                         [(b.id, b.host, b.port) for b in md.brokers.values()])
        self.assertEqual(info["brokers"][0]["port"], self.b.port)
        self.assertTrue(info["brokers"][0]["controller"])
        apis = {a["name"]: (a["min"], a["max"]) for a in info["brokers"][0]["api_versions"]}
        self.assertEqual(apis["Metadata"], (0, 12))  # docs/COMPATIBILITY.md
        self.assertEqual(apis["CreatePartitions"], (0, 3))
        text = self.ok("cluster", "info", "--api-versions")
        self.assertIn(f"Cluster id: {md.cluster_id}", text)
        self.assertRegex(text, rf"\n{md.controller_id} +127\.0\.0\.1 +{self.b.port} +- +yes")
        self.assertRegex(text, r"\n3 +Metadata +0 +12\n")


class Groups(AdminTestCase):
    TOPIC = "events"
    COUNTS = {0: 10, 1: 20, 2: 30}

    def setUp(self):
        super().setUp()
        self.ok("topic", "create", self.TOPIC, "--partitions", "3")
        wait_until(lambda: partition_count(self.bs, self.TOPIC) == 3, 20, "topic in metadata")
        self.t0 = harness.BASE_TS
        produce_with_times(self.bs, self.TOPIC, self.COUNTS, self.t0)

    def member(self, group):
        """A subscribed consumer that has its assignment (all 3 partitions)."""
        c = Consumer(clients.base_conf(self.bs) | {
            "group.id": group, "client.id": "lag-checker", "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
        c.subscribe([self.TOPIC])
        d = Deadline(30)
        while len(c.assignment()) < 3:
            self.assertFalse(d.expired(), "consumer got no assignment within 30 s")
            c.poll(0.1)
        return c

    def describe(self, group):
        return self.ok_json("group", "describe", group)

    def committed(self, group):
        return committed(self.bs, group, self.TOPIC, [0, 1, 2])

    def reset(self, group, *args):
        return self.ok_json("group", "reset-offsets", group, *args)

    def test_describe_lag_reset_delete(self):
        g = "lag-group"
        c = self.member(g)
        try:
            c.commit(offsets=[TopicPartition(self.TOPIC, 0, 4), TopicPartition(self.TOPIC, 1, 15),
                              TopicPartition(self.TOPIC, 2, 30)], asynchronous=False)
            d = self.describe(g)
            self.assertEqual((d["group"], d["state"], d["protocol_type"]), (g, "Stable", "consumer"))
            self.assertIn(d["protocol"], ("range", "roundrobin"))
            self.assertEqual(len(d["members"]), 1)
            m = d["members"][0]
            self.assertEqual(m["client_id"], "lag-checker")
            self.assertTrue(m["member_id"].startswith("lag-checker"), m["member_id"])
            self.assertEqual(m["assignment"], [{"topic": self.TOPIC, "partition": p} for p in range(3)])
            rows = [(o["topic"], o["partition"], o["current_offset"], o["log_end_offset"], o["lag"], o["member_id"])
                    for o in d["offsets"]]
            self.assertEqual(rows, [(self.TOPIC, 0, 4, 10, 6, m["member_id"]),
                                    (self.TOPIC, 1, 15, 20, 5, m["member_id"]),
                                    (self.TOPIC, 2, 30, 30, 0, m["member_id"])])
            self.assertEqual(d["total_lag"], 11)
            text = self.ok("group", "describe", g)
            self.assertRegex(text, r"Group: lag-group +State: Stable")
            self.assertRegex(text, rf"\n{self.TOPIC} +0 +4 +10 +6 +")

            # Kafka's rule: no reset while the group has members, not even a dry run.
            for extra in ([], ["--execute"]):
                err = self.fails("group", "reset-offsets", g, "--topic", self.TOPIC, "--to-earliest", *extra)
                self.assertIn("lag-group", err)
                self.assertIn("active", err)
                self.assertIn("Stable", err)
            self.assertEqual(self.committed(g), {0: 4, 1: 15, 2: 30})
            err = self.fails("group", "delete", g)
            self.assertIn("NON_EMPTY_GROUP", err)
        finally:
            clients.bounded_close(c)
        wait_until(lambda: self.describe(g)["state"] == "Empty", 20, "group Empty after the member left")
        d = self.describe(g)
        self.assertEqual((d["members"], d["total_lag"]), ([], 11))

        listed = {x["group"]: x for x in self.ok_json("group", "list")["groups"]}
        self.assertEqual((listed[g]["state"], listed[g]["protocol_type"]), ("Empty", "consumer"))

        # Dry run (the default): the plan, nothing committed.
        plan = self.reset(g, "--topic", self.TOPIC, "--to-earliest")
        self.assertFalse(plan["executed"])
        self.assertEqual([(p["partition"], p["current_offset"], p["new_offset"]) for p in plan["partitions"]],
                         [(0, 4, 0), (1, 15, 0), (2, 30, 0)])
        self.assertEqual(self.committed(g), {0: 4, 1: 15, 2: 30})
        self.assertIn("Dry run", self.ok("group", "reset-offsets", g, "--topic", self.TOPIC, "--to-earliest"))

        # One partition to an offset.
        out = self.reset(g, "--topic", f"{self.TOPIC}:0", "--to-offset", "7", "--execute")
        self.assertTrue(out["executed"])
        self.assertEqual(self.committed(g), {0: 7, 1: 15, 2: 30})
        # Shift back by 2 over every committed topic.
        self.reset(g, "--all-topics", "--shift-by", "-2", "--execute")
        self.assertEqual(self.committed(g), {0: 5, 1: 13, 2: 28})
        # Out of range is clamped to the log's end, as in Kafka.
        self.reset(g, "--topic", self.TOPIC, "--to-offset", "25", "--execute")
        self.assertEqual(self.committed(g), {0: 10, 1: 20, 2: 25})
        # To a time: message j has timestamp t0 + j s, so offset 6 (partition 0 has 10).
        self.reset(g, "--topic", self.TOPIC, "--to-datetime", iso_utc(self.t0 + 6000), "--execute")
        self.assertEqual(self.committed(g), {0: 6, 1: 6, 2: 6})
        # The same instant written with a +02:00 zone.
        local = datetime.datetime.fromtimestamp((self.t0 + 8000) / 1000, tz=datetime.timezone(datetime.timedelta(hours=2)))
        self.reset(g, "--topic", self.TOPIC, "--to-datetime", local.strftime("%Y-%m-%dT%H:%M:%S+02:00"), "--execute")
        self.assertEqual(self.committed(g), {0: 8, 1: 8, 2: 8})
        # A time after every record: the log end.
        self.reset(g, "--topic", self.TOPIC, "--to-datetime", iso_utc(self.t0 + 25000), "--execute")
        self.assertEqual(self.committed(g), {0: 10, 1: 20, 2: 25})
        self.reset(g, "--topic", self.TOPIC, "--to-latest", "--execute")
        self.assertEqual(self.committed(g), {0: 10, 1: 20, 2: 30})
        # A day back: before every record (they are at most ~2 h old).
        self.reset(g, "--topic", self.TOPIC, "--by-duration", "P1D", "--execute")
        self.assertEqual(self.committed(g), {0: 0, 1: 0, 2: 0})
        self.assertEqual(self.describe(g)["total_lag"], 60)

        # Argument errors are reported before anything is sent.
        self.assertIn("exactly one of", self.fails("group", "reset-offsets", g, "--topic", self.TOPIC))
        self.assertIn("--all-topics", self.fails("group", "reset-offsets", g, "--to-latest"))
        self.assertIn("--to-datetime", self.fails("group", "reset-offsets", g, "--topic", self.TOPIC,
                                                   "--to-datetime", "yesterday"))
        err = self.fails("group", "reset-offsets", g, "--topic", f"{self.TOPIC}:7", "--to-latest")
        self.assertIn(f"{self.TOPIC}-7 does not exist", err)
        err = self.fails("group", "reset-offsets", g, "--topic", "nosuch", "--to-latest")
        self.assertIn("UNKNOWN_TOPIC_OR_PARTITION", err)

        self.assertEqual(self.ok_json("group", "delete", g), {"group": g, "deleted": True})
        self.assertNotIn(g, [x["group"] for x in self.ok_json("group", "list")["groups"]])
        self.assertEqual(self.committed(g), {0: -1001, 1: -1001, 2: -1001})  # OFFSET_INVALID: nothing committed
        self.assertIn("GROUP_ID_NOT_FOUND", self.fails("group", "delete", g))

    def test_reset_offsets_of_a_new_group(self):
        # A group that never existed: --execute creates its offsets (Kafka does the same).
        g = "fresh-group"
        self.reset(g, "--topic", self.TOPIC, "--to-offset", "3", "--execute")
        self.assertEqual(self.committed(g), {0: 3, 1: 3, 2: 3})
        d = self.describe(g)
        self.assertEqual((d["state"], d["total_lag"]), ("Empty", 7 + 17 + 27))
        # A consumer of the group starts where the reset put it.
        c = Consumer(clients.base_conf(self.bs) | {"group.id": g, "enable.auto.commit": False,
                                                   "auto.offset.reset": "earliest"})
        try:
            c.assign([TopicPartition(self.TOPIC, 0)])  # no offset: the committed one
            msg = None
            d2 = Deadline(20)
            while msg is None and not d2.expired():
                m = c.poll(0.2)
                if m is not None and not m.error():
                    msg = m
            self.assertIsNotNone(msg, "no message within 20 s")
            self.assertEqual((msg.offset(), msg.value()), (3, b"p0-m3"))
        finally:
            c.close()

    def test_unknown_group(self):
        err = self.fails("group", "describe", "no-such-group")
        self.assertIn("'no-such-group' does not exist", err)
        err = self.fails("group", "reset-offsets", "no-such-group", "--all-topics", "--to-latest")
        self.assertIn("no committed offsets", err)


if __name__ == "__main__":
    harness.main()
