#!/usr/bin/python3
"""The admin HTTP listener of the real broker: /health, /metrics (parsed by a
strict Prometheus text parser and checked to move with real client traffic),
the JSON API (/v1/topics, /v1/topics/{name}, /v1/groups, /v1/groups/{id},
/v1/brokers), HTTP error codes on a raw socket, and the listener being off
when strata.admin.listener is empty.

The broker logs "admin listening on http://127.0.0.1:<port>"; the harness
reads the port from it (Broker.admin_url) and starts every broker with
strata.admin.listener=127.0.0.1:0."""

import json
import math
import os
import re
import signal
import socket
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import clients  # noqa: E402
import harness  # noqa: E402
from harness import Deadline  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402


# ---- HTTP -------------------------------------------------------------------

def http_get(url: str, method: str = "GET", timeout: float = 10):
    """(status, headers dict (lower-case names), body bytes); HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def get_json(url: str, expect_status: int = 200):
    status, headers, body = http_get(url)
    if status != expect_status:
        raise AssertionError(f"GET {url}: status {status}, expected {expect_status}: {body[:300]!r}")
    if not headers.get("content-type", "").startswith("application/json"):
        raise AssertionError(f"GET {url}: content type {headers.get('content-type')!r}")
    return json.loads(body.decode("utf-8"))


def raw_http(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Sends raw bytes and reads until the server closes (bounded)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        d = Deadline(timeout)
        while not d.expired():
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out


def status_of(response: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", response)
    if not m:
        raise AssertionError(f"not an HTTP response: {response[:200]!r}")
    return int(m.group(1))


# ---- a strict Prometheus text-format parser ----------------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_NAME_RE = re.compile(_NAME)
_LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def _parse_value(s: str) -> float:
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        raise ValueError(f"bad sample value {s!r}")
    return float(s)


def _parse_labels(line: str, i: int):
    """Parses {a="x",b="y"} starting at line[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if line[i] == "}":
            return labels, i + 1
        m = _LABEL_NAME_RE.match(line, i)
        if not m:
            raise ValueError(f"bad label name at {i}: {line!r}")
        name = m.group(0)
        i = m.end()
        if line[i:i + 2] != '="':
            raise ValueError(f"expected =\" after label {name}: {line!r}")
        i += 2
        val = []
        while True:
            c = line[i]
            if c == "\\":
                nxt = line[i + 1]
                if nxt == "\\":
                    val.append("\\")
                elif nxt == '"':
                    val.append('"')
                elif nxt == "n":
                    val.append("\n")
                else:
                    raise ValueError(f"bad escape \\{nxt} in label value: {line!r}")
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("raw newline in label value")
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise ValueError(f"duplicate label {name}: {line!r}")
        labels[name] = "".join(val)
        if line[i] == ",":
            i += 1
        elif line[i] != "}":
            raise ValueError(f"expected , or }} at {i}: {line!r}")


class Metrics:
    def __init__(self, samples: dict, types: dict):
        self.samples = samples  # {(name, frozenset(labels.items())): value}
        self.types = types      # {family: type}

    def get(self, name: str, **labels):
        return self.samples.get((name, frozenset(labels.items())))

    def value(self, name: str, default=None, **labels):
        v = self.get(name, **labels)
        return default if v is None else v

    def series(self, name: str):
        """[(labels dict, value)] of every sample named `name`."""
        return [(dict(k[1]), v) for k, v in self.samples.items() if k[0] == name]


def parse_prometheus(text: str) -> Metrics:
    """Text exposition format 0.0.4, strictly: HELP/TYPE syntax, a TYPE line at
    most once per family and before its samples, families contiguous, no
    duplicate series, label escaping, value syntax, and histogram buckets
    cumulative with +Inf == _count."""
    if not text.endswith("\n"):
        raise ValueError("the exposition must end with a newline")
    types, helps, samples = {}, {}, {}
    seen_families, current = set(), None

    def family_of(name):
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[:-len(suffix)] if name.endswith(suffix) else None
            if base and types.get(base) in ("histogram", "summary"):
                return base
        return name

    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}: {line!r}"
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not _NAME_RE.fullmatch(name):
                    raise ValueError(f"bad metric name in {where}")
                if parts[1] == "TYPE":
                    if len(parts) != 4 or parts[3] not in _TYPES:
                        raise ValueError(f"bad TYPE {where}")
                    if name in types:
                        raise ValueError(f"second TYPE for {name}: {where}")
                    if name in seen_families:
                        raise ValueError(f"TYPE after samples of {name}: {where}")
                    types[name] = parts[3]
                else:
                    if name in helps:
                        raise ValueError(f"second HELP for {name}: {where}")
                    h = parts[3] if len(parts) == 4 else ""
                    if re.search(r"\\[^\\n]", h.replace("\\\\", "")):
                        raise ValueError(f"bad escape in HELP {where}")
                    helps[name] = h
            continue
        m = _NAME_RE.match(line)
        if not m:
            raise ValueError(f"bad sample {where}")
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = _parse_labels(line, i)
        if i >= len(line) or line[i] != " ":
            raise ValueError(f"expected a space before the value: {where}")
        rest = line[i + 1:].split(" ")
        if len(rest) not in (1, 2):
            raise ValueError(f"bad value/timestamp {where}")
        value = _parse_value(rest[0])
        if len(rest) == 2 and not re.fullmatch(r"-?\d+", rest[1]):
            raise ValueError(f"bad timestamp {where}")
        fam = family_of(name)
        if fam not in types:
            raise ValueError(f"sample without a TYPE line: {where}")
        if fam != current:
            if fam in seen_families:
                raise ValueError(f"family {fam} is not contiguous: {where}")
            seen_families.add(fam)
            current = fam
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise ValueError(f"duplicate series {where}")
        samples[key] = value

    # Histograms: per label set, buckets non-decreasing in le, +Inf == _count.
    for fam, t in types.items():
        if t != "histogram":
            continue
        groups = {}
        for (name, labels), v in samples.items():
            if name == fam + "_bucket":
                d = dict(labels)
                le = d.pop("le", None)
                if le is None:
                    raise ValueError(f"{fam}_bucket without le")
                groups.setdefault(frozenset(d.items()), []).append((_parse_value(le), v))
        for lbl, buckets in groups.items():
            buckets.sort()
            counts = [c for _, c in buckets]
            if counts != sorted(counts):
                raise ValueError(f"{fam}{dict(lbl)}: buckets not cumulative: {buckets}")
            if buckets[-1][0] != math.inf:
                raise ValueError(f"{fam}{dict(lbl)}: no +Inf bucket")
            count = samples.get((fam + "_count", lbl))
            if count != buckets[-1][1]:
                raise ValueError(f"{fam}{dict(lbl)}: _count {count} != +Inf bucket {buckets[-1][1]}")
            if (fam + "_sum", lbl) not in samples:
                raise ValueError(f"{fam}{dict(lbl)}: no _sum")
    return Metrics(samples, types)


class ParserSelfTest(harness.BrokerTestCase):
    """The parser must reject what it claims to check, or the tests below prove nothing."""

    def test_rejects_malformed_expositions(self):
        good = "# HELP a_total x\n# TYPE a_total counter\na_total{t=\"q\\\"\\\\\\n\"} 1\n"
        self.assertEqual(parse_prometheus(good).get("a_total", t='q"\\\n'), 1.0)
        bad = [
            "a 1\n",                                                    # no TYPE
            "# TYPE a gauge\na 1",                                      # no final newline
            "# TYPE a gauge\na{t=\"x\"} 1\na{t=\"x\"} 2\n",             # duplicate series
            "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 2\n",  # not contiguous
            "# TYPE a gauge\na{t=\"\\q\"} 1\n",                          # bad escape
            "# TYPE a gauge\na one\n",                                  # bad value
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 0\nh_count 1\n",
            "# TYPE a bogus\na 1\n",
        ]
        for text in bad:
            with self.assertRaises(ValueError, msg=repr(text)):
                parse_prometheus(text)


# ---- the broker ----------------------------------------------------------------

class AdminHttp(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker(name="admin", overrides={"group.initial.rebalance.delay.ms": "0",
                                                        "group.min.session.timeout.ms": "1000"})
        if cls.b.admin_url is None:
            cls.b.close()
            raise AssertionError("the broker did not log 'admin listening on http://127.0.0.1:<port>'")

    @classmethod
    def tearDownClass(cls):
        cls.stop_shared_broker()

    def url(self, path: str) -> str:
        return self.b.admin_url + path

    def scrape(self) -> Metrics:
        status, headers, body = http_get(self.url("/metrics"))
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("content-type", "").startswith("text/plain; version=0.0.4"),
                        headers.get("content-type"))
        return parse_prometheus(body.decode("utf-8"))

    def topic_bytes_in(self, m, topic):
        return m.value("strata_topic_bytes_in_total", 0, topic=topic)

    # -- /health and basics

    def test_health_ready(self):
        self.assertEqual(get_json(self.url("/health")), {"status": "ready"})

    def test_metrics_parse_and_have_the_process_and_broker_families(self):
        m = self.scrape()
        for fam, t in [("process_cpu_seconds_total", "counter"), ("process_resident_memory_bytes", "gauge"),
                       ("strata_broker_up", "gauge"), ("strata_broker_start_time_seconds", "gauge"),
                       ("strata_requests_total", "counter"), ("strata_request_errors_total", "counter"),
                       ("strata_request_duration_seconds", "histogram"), ("strata_active_connections", "gauge"),
                       ("strata_partitions", "gauge"), ("strata_partition_log_size_bytes", "gauge"),
                       ("strata_topic_bytes_in_total", "counter"), ("strata_topic_messages_in_total", "counter"),
                       ("strata_topic_bytes_out_total", "counter"), ("strata_consumer_group_lag", "gauge")]:
            self.assertEqual(m.types.get(fam), t, fam)
        self.assertEqual(m.get("strata_broker_up"), 1.0)
        self.assertGreater(m.get("process_resident_memory_bytes"), 1e6)
        self.assertGreater(m.get("process_cpu_seconds_total"), 0)
        self.assertGreater(m.get("strata_broker_start_time_seconds"), 1.6e9)
        # Every supported API has a series, Produce included, before any produce.
        self.assertIsNotNone(m.get("strata_requests_total", api="Produce"))
        self.assertIsNotNone(m.get("strata_requests_total", api="ApiVersions"))

    # -- traffic

    def test_metrics_move_with_produce_and_fetch(self):
        topic, n = "adm-io", 50
        clients.create_topic(self.b.bootstrap, topic, 2)
        before = self.scrape()
        self.assertEqual(self.topic_bytes_in(before, topic), 0)
        msgs = harness.make_messages(n, 2, seed="io")
        payload = sum(len(x["key"] or b"") + len(x["value"] or b"") for x in msgs)
        # A producer that stays connected while we look at the connection gauge.
        p = Producer(clients.base_conf(self.b.bootstrap) | {"acks": "all", "linger.ms": 5})
        try:
            acked = []
            for x in msgs:
                p.produce(topic, key=x["key"], value=x["value"], partition=x["partition"],
                          on_delivery=lambda err, msg: acked.append(err))
            self.assertEqual(p.flush(30), 0)
            self.assertEqual(acked, [None] * n)
            during = self.scrape()
            self.assertGreaterEqual(during.get("strata_active_connections"), 1)
        finally:
            del p
        after = self.scrape()
        self.assertGreaterEqual(self.topic_bytes_in(after, topic) - self.topic_bytes_in(before, topic), payload)
        self.assertEqual(after.value("strata_topic_messages_in_total", 0, topic=topic)
                         - before.value("strata_topic_messages_in_total", 0, topic=topic), n)
        self.assertGreater(after.get("strata_requests_total", api="Produce"),
                           before.get("strata_requests_total", api="Produce"))
        self.assertEqual(after.get("strata_request_duration_seconds_count", api="Produce"),
                         after.get("strata_requests_total", api="Produce"))
        self.assertEqual(after.get("strata_request_errors_total", api="Produce"),
                         before.get("strata_request_errors_total", api="Produce"))
        size_before = sum(before.value("strata_partition_log_size_bytes", 0, topic=topic, partition=str(i))
                          for i in range(2))
        size_after = sum(after.value("strata_partition_log_size_bytes", 0, topic=topic, partition=str(i))
                         for i in range(2))
        self.assertGreaterEqual(size_after - size_before, payload)
        self.assertEqual(sum(after.get("strata_partition_log_end_offset", topic=topic, partition=str(i))
                             for i in range(2)), n)
        self.assertEqual(sum(1 for lbl, _ in after.series("strata_partition_log_size_bytes")
                             if lbl["topic"] == topic), 2)
        self.assertEqual(after.get("strata_partitions"), len(after.series("strata_partition_log_size_bytes")))

        # Fetch: consuming everything sends at least the payload out.
        clients.consume(self.b.bootstrap, topic, {0: n // 2, 1: n // 2}, timeout=60)
        fetched = self.scrape()
        self.assertGreaterEqual(fetched.value("strata_topic_bytes_out_total", 0, topic=topic)
                                - after.value("strata_topic_bytes_out_total", 0, topic=topic), payload)
        self.assertGreater(fetched.get("strata_requests_total", api="Fetch"),
                           after.get("strata_requests_total", api="Fetch"))

    def test_produce_errors_are_counted(self):
        # A batch larger than the topic's max.message.bytes passes librdkafka's
        # own (1 MB) check, reaches the broker and is answered MESSAGE_TOO_LARGE.
        topic = "adm-err"
        clients.create_topic(self.b.bootstrap, topic, 1, config={"max.message.bytes": "1000"})
        before = self.scrape()
        p = Producer(clients.base_conf(self.b.bootstrap) | {"acks": "all", "message.timeout.ms": 10000,
                                                            "retries": 0})
        errs = []
        p.produce(topic, value=b"x" * 5000, partition=0, on_delivery=lambda err, msg: errs.append(err))
        self.assertEqual(p.flush(15), 0)
        del p
        self.assertEqual(len(errs), 1)
        self.assertIsNotNone(errs[0])
        after = self.scrape()
        self.assertGreaterEqual(after.get("strata_request_errors_total", api="Produce")
                                - before.get("strata_request_errors_total", api="Produce"), 1)
        self.assertEqual(after.value("strata_topic_messages_in_total", 0, topic=topic), 0)

    def test_group_lag_is_exact(self):
        topic, group, n, read = "adm-lag", "adm-group", 30, 20
        clients.create_topic(self.b.bootstrap, topic, 1)
        clients.produce(self.b.bootstrap, topic, harness.make_messages(n, 1, seed="lag"))
        c = Consumer(clients.base_conf(self.b.bootstrap) | {
            "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "fetch.wait.max.ms": 100})
        try:
            c.subscribe([topic])
            got = []
            d = Deadline(60)
            while len(got) < read and not d.expired():
                for m in c.consume(num_messages=read - len(got), timeout=0.5):
                    if m.error() is None:
                        got.append(m)
            self.assertEqual(len(got), read)
            self.assertEqual([m.offset() for m in got], list(range(read)))
            committed = c.commit(offsets=[TopicPartition(topic, 0, read)], asynchronous=False)
            self.assertEqual([(tp.offset, tp.error) for tp in committed], [(read, None)])

            # While the member is in the group:
            groups = get_json(self.url("/v1/groups"))["groups"]
            mine = [g for g in groups if g["group_id"] == group]
            self.assertEqual(len(mine), 1, groups)
            self.assertEqual(mine[0]["members"], 1)
            self.assertEqual(mine[0]["protocol_type"], "consumer")
            self.assertEqual(mine[0]["state"], "Stable")
        finally:
            clients.bounded_close(c)
        m = self.scrape()
        self.assertEqual(m.get("strata_consumer_group_lag", group=group, topic=topic, partition="0"), n - read)
        detail = get_json(self.url(f"/v1/groups/{group}"))
        self.assertEqual(detail["group_id"], group)
        self.assertEqual(detail["offsets"], [{"topic": topic, "partition": 0, "committed_offset": read,
                                              "log_end_offset": n, "lag": n - read}])
        self.assertEqual(get_json(self.url("/v1/groups/no-such-group"), 404)["error"], "unknown group")

    # -- JSON API

    def test_topics_list_and_detail(self):
        topic = "adm-topics"
        clients.create_topic(self.b.bootstrap, topic, 3)
        clients.produce(self.b.bootstrap, topic, harness.make_messages(9, 3, seed="t"))
        topics = {t["name"]: t for t in get_json(self.url("/v1/topics"))["topics"]}
        self.assertIn(topic, topics)
        t = topics[topic]
        self.assertEqual((t["partitions"], t["replication_factor"], t["internal"]), (3, 1, False))
        self.assertRegex(t["id"], r"^[A-Za-z0-9_-]{22}$")
        self_id = get_json(self.url("/v1/brokers"))["brokers"][0]["id"]
        detail = get_json(self.url(f"/v1/topics/{topic}"))
        self.assertEqual((detail["name"], detail["id"], detail["partition_count"]), (topic, t["id"], 3))
        self.assertEqual([p["partition"] for p in detail["partitions"]], [0, 1, 2])
        for p in detail["partitions"]:
            self.assertEqual((p["log_start_offset"], p["log_end_offset"], p["high_watermark"]), (0, 3, 3), p)
            self.assertEqual((p["leader"], p["replicas"], p["isr"]), (self_id, [self_id], [self_id]), p)
            self.assertGreater(p["size_bytes"], 0)
        cfg = {c["name"]: c for c in detail["configs"]}
        self.assertIn("retention.ms", cfg)
        self.assertIn(cfg["retention.ms"]["source"], ("default", "static_broker", "topic"))
        err = get_json(self.url("/v1/topics/no-such-topic"), 404)
        self.assertEqual(err, {"error": "unknown topic"})

    def test_internal_topic_flagged(self):
        # __consumer_offsets exists once a group committed (test order independent: create it here).
        c = Consumer(clients.base_conf(self.b.bootstrap) | {"group.id": "adm-internal", "enable.auto.commit": False})
        try:
            clients.create_topic(self.b.bootstrap, "adm-int", 1)
            c.commit(offsets=[TopicPartition("adm-int", 0, 0)], asynchronous=False)
        finally:
            clients.bounded_close(c)
        topics = {t["name"]: t for t in get_json(self.url("/v1/topics"))["topics"]}
        self.assertIn("__consumer_offsets", topics)
        self.assertTrue(topics["__consumer_offsets"]["internal"])

    def test_brokers(self):
        brokers = get_json(self.url("/v1/brokers"))["brokers"]
        self.assertEqual(brokers, [{"id": 0, "host": "127.0.0.1", "port": self.b.port, "self": True}])

    # -- HTTP errors

    def test_http_error_codes(self):
        port = self.b.admin_port
        self.assertEqual(http_get(self.url("/no/such/path"))[0], 404)
        status, headers, _ = http_get(self.url("/metrics"), method="POST")
        self.assertEqual((status, headers.get("allow")), (405, "GET"))
        self.assertEqual(http_get(self.url("/v1/topics"), method="DELETE")[0], 405)
        self.assertEqual(status_of(raw_http(port, b"THIS IS NOT HTTP\r\n\r\n")), 400)
        self.assertEqual(status_of(raw_http(port, b"GET /health HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")), 431)
        self.assertEqual(status_of(raw_http(port, b"GET /v1/topics/%zz HTTP/1.1\r\nConnection: close\r\n\r\n")), 400)
        # The listener still serves after all that.
        self.assertEqual(get_json(self.url("/health")), {"status": "ready"})


class AdminLifecycle(harness.BrokerTestCase):
    def test_listener_off_when_setting_is_empty(self):
        b = self.broker(name="admin-off", overrides={"strata.admin.listener": ""})
        self.assertIsNone(b.admin_url)
        self.assertFalse(any("admin listening" in l for l in b.log_lines()))
        # The broker itself serves Kafka clients.
        clients.create_topic(b.bootstrap, "adm-off", 1)
        b.stop()

    def test_health_is_never_ready_after_sigterm(self):
        b = self.broker(name="admin-stop")
        url = b.admin_url + "/health"
        self.assertEqual(http_get(url)[0], 200)
        b.proc.send_signal(signal.SIGTERM)
        # Until the broker's main thread takes the signal /health may still say
        # ready; once it says shutting_down it must never say ready again.
        answers = []
        d = Deadline(15)
        while not d.expired():
            try:
                status, _, body = http_get(url, timeout=2)
                answers.append((status, json.loads(body)))
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                break  # the listener is gone: the broker is exiting
        first_down = next((i for i, a in enumerate(answers) if a != (200, {"status": "ready"})), len(answers))
        self.assertTrue(all(a == (503, {"status": "shutting_down"}) for a in answers[first_down:]), answers)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
