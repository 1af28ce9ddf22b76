#!/usr/bin/python3
"""Malformed and hostile input on raw sockets. For each bad input the broker
answers with the Kafka error code or closes that connection within a deadline,
while a well-behaved confluent_kafka producer + consumer on other connections
keeps being served (a message produced and consumed after every bad input), and
the broker process is alive (and exits 0 on SIGTERM) at the end."""

import os
import socket
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402
from harness import Deadline  # noqa: E402

from confluent_kafka import KafkaError, Producer, TopicPartition  # noqa: E402

MAX_REQUEST = 1_048_576
DEADLINE = 10.0

# ---- CRC32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven -----
_CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


# ---- Kafka wire encoding ------------------------------------------------------
def varint(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)  # zigzag
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def kstring(s: str | None) -> bytes:
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def kbytes(b: bytes | None) -> bytes:
    if b is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(b)) + b


def header_v1(api_key: int, version: int, corr: int, client_id: str = "bad-input-test") -> bytes:
    return struct.pack(">hhi", api_key, version, corr) + kstring(client_id)


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def record(offset_delta: int, key: bytes | None, value: bytes | None, headers=()) -> bytes:
    body = bytes([0]) + varint(0) + varint(offset_delta)
    body += varint(-1) if key is None else varint(len(key)) + key
    body += varint(-1) if value is None else varint(len(value)) + value
    body += varint(len(headers))
    for hk, hv in headers:
        body += varint(len(hk)) + hk + varint(len(hv)) + hv
    return varint(len(body)) + body


def record_batch(records: list, ts: int = harness.BASE_TS) -> bytes:
    """A magic-2 batch at base offset 0, uncompressed, with a correct CRC32C."""
    recs = b"".join(record(i, k, v, h) for i, (k, v, h) in enumerate(records))
    after_crc = struct.pack(">hiqqqhii", 0, len(records) - 1, ts, ts, -1, -1, -1, len(records)) + recs
    crc = crc32c(after_crc)
    after_len = struct.pack(">ibI", -1, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(after_len)) + after_len


def raw_batch(attrs: int, count: int, last_delta: int, records_bytes: bytes, magic: int = 2,
              ts: int = harness.BASE_TS) -> bytes:
    """A batch with arbitrary header fields and record bytes, and a correct CRC32C."""
    after_crc = struct.pack(">hiqqqhii", attrs, last_delta, ts, ts, -1, -1, -1, count) + records_bytes
    after_len = struct.pack(">ibI", -1, magic, crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(after_len)) + after_len


def produce_v3(corr: int, topic: str, partition: int, batch: bytes, acks: int = -1) -> bytes:
    body = kstring(None) + struct.pack(">hi", acks, 10000)
    body += struct.pack(">i", 1) + kstring(topic) + struct.pack(">i", 1) + struct.pack(">i", partition) + kbytes(batch)
    return frame(header_v1(0, 3, corr) + body)


class Reader:
    def __init__(self, b: bytes):
        self.b, self.p = b, 0

    def take(self, fmt: str):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v if len(v) > 1 else v[0]

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.b[self.p:self.p + n].decode()
        self.p += n
        return s


def parse_produce_v3(body: bytes) -> dict:
    r = Reader(body)
    out = {}
    for _ in range(r.take(">i")):
        name = r.string()
        for _ in range(r.take(">i")):
            idx, err, base, log_append = r.take(">ihqq")
            out[(name, idx)] = (err, base)
    r.take(">i")  # throttle_time_ms
    assert r.p == len(body), f"{len(body) - r.p} trailing bytes in the Produce v3 response"
    return out


# ---- socket helpers -----------------------------------------------------------
def recv_exact(s: socket.socket, n: int, d: Deadline) -> bytes | None:
    buf = b""
    while len(buf) < n:
        s.settimeout(max(0.01, d.remaining()))
        try:
            chunk = s.recv(n - len(buf))
        except (ConnectionResetError, BrokenPipeError):
            return None
        except socket.timeout:
            raise AssertionError(f"no data and no close within the deadline (have {len(buf)} of {n} bytes)")
        if not chunk:
            return None
        buf += chunk
    return buf


def recv_response(s: socket.socket, timeout: float = DEADLINE) -> tuple | None:
    """(correlation id, body) of the next response, or None if the broker closed."""
    d = Deadline(timeout)
    size = recv_exact(s, 4, d)
    if size is None:
        return None
    (n,) = struct.unpack(">i", size)
    data = recv_exact(s, n, d)
    if data is None:
        raise AssertionError("connection closed in the middle of a response")
    return struct.unpack_from(">i", data)[0], data[4:]


class BadInputTest(harness.BrokerTestCase):
    PROBE_TOPIC = "probe"
    TARGET_TOPIC = "target"
    POISON_TOPIC = "poison"  # batches Kafka would reject go here, never to the others

    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker(name="bad-input", overrides={"socket.request.max.bytes": str(MAX_REQUEST)})
        clients.create_topic(cls.b.bootstrap, cls.PROBE_TOPIC, 1)
        clients.create_topic(cls.b.bootstrap, cls.TARGET_TOPIC, 2)
        clients.create_topic(cls.b.bootstrap, cls.POISON_TOPIC, 1)
        # The well-behaved client: one producer and one consumer, kept for the whole file.
        cls.producer = Producer(clients.base_conf(cls.b.bootstrap) | {"acks": "all", "linger.ms": 0,
                                                                      "message.timeout.ms": 20000})
        cls.consumer = clients.consumer(cls.b.bootstrap)
        cls.consumer.assign([TopicPartition(cls.PROBE_TOPIC, 0, -2)])
        cls.probe_offset = 0

    @classmethod
    def tearDownClass(cls):
        try:
            cls.consumer.close()
            cls.producer.flush(5)
            assert cls.b.alive(), "broker died during the bad-input tests"
            cls.b.stop()  # exit code 0 asserted
        finally:
            cls.b.close()

    def setUp(self):
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()
        # After every bad input, whatever the test's own outcome: the broker is
        # alive and the well-behaved client is served.
        self.assertTrue(self.b.alive(), "broker process died")
        self.probe(self.id().rsplit(".", 1)[-1])

    def probe(self, tag: str):
        """Produce one message and consume it back on the well-behaved connections."""
        res = {}
        self.producer.produce(self.PROBE_TOPIC, key=tag.encode(), value=b"probe " + tag.encode(), partition=0,
                              on_delivery=lambda err, m: res.update(err=err, off=None if err else m.offset()))
        left = self.producer.flush(20)
        self.assertEqual(left, 0, f"probe produce after {tag}: not delivered in 20 s")
        self.assertIsNone(res["err"], f"probe produce after {tag}")
        self.assertEqual(res["off"], type(self).probe_offset, f"probe offset after {tag}")
        d = Deadline(20)
        while not d.expired():
            m = self.consumer.poll(0.2)
            if m is None or m.error():
                if m is not None and m.error().fatal():
                    self.fail(f"consumer fatal error after {tag}: {m.error()}")
                continue
            self.assertEqual((m.offset(), m.key(), m.value()), (res["off"], tag.encode(), b"probe " + tag.encode()))
            type(self).probe_offset += 1
            return
        self.fail(f"probe message after {tag} not consumed within 20 s")

    def connect(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.b.port), timeout=DEADLINE)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socks.append(s)
        return s

    def assert_closed(self, s: socket.socket, what: str, timeout: float = DEADLINE):
        """The broker closes the connection (without answering) within the deadline."""
        d = Deadline(timeout)
        while True:
            s.settimeout(max(0.01, d.remaining()))
            try:
                data = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return
            except socket.timeout:
                self.fail(f"{what}: connection still open after {timeout} s")
            if not data:
                return
            self.fail(f"{what}: expected the connection to be closed, got {len(data)} bytes: {data[:40]!r}")

    def send(self, s, data: bytes):
        try:
            s.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            pass  # the broker may close before reading everything

    # ---- baseline: the raw encoder is right ---------------------------------
    def test_00_api_versions_v0_baseline(self):
        s = self.connect()
        s.sendall(frame(header_v1(18, 0, 7)))
        corr, body = recv_response(s)
        self.assertEqual(corr, 7)
        err, n = struct.unpack_from(">hi", body)
        self.assertEqual(err, 0)
        keys = {struct.unpack_from(">hhh", body, 6 + 6 * i)[0] for i in range(n)}
        self.assertTrue({0, 1, 3, 18} <= keys, f"api keys {sorted(keys)}")

    def test_01_produce_v3_valid_batch_baseline(self):
        s = self.connect()
        batch = record_batch([(b"k0", b"v0", [(b"h", b"x")]), (None, b"v1", []), (b"k2", None, [])])
        s.sendall(produce_v3(11, self.TARGET_TOPIC, 0, batch))
        corr, body = recv_response(s)
        self.assertEqual(corr, 11)
        self.assertEqual(parse_produce_v3(body), {(self.TARGET_TOPIC, 0): (0, 0)})
        got = clients.consume(self.b.bootstrap, self.TARGET_TOPIC, {0: 3})
        self.assertEqual([(r["key"], r["value"], r["headers"]) for r in got[0]],
                         [(b"k0", b"v0", [("h", b"x")]), (None, b"v1", []), (b"k2", None, [])])

    def test_02_pipelined_requests_answered_in_order(self):
        # 60 requests of three APIs in one write: 60 responses, in request order.
        s = self.connect()
        reqs = b""
        kinds = {}
        for i in range(60):
            corr = 1000 + i
            if i % 3 == 0:
                reqs += frame(header_v1(18, 0, corr))
                kinds[corr] = "api_versions"
            elif i % 3 == 1:
                reqs += frame(header_v1(3, 1, corr) + struct.pack(">i", 1) + kstring(self.TARGET_TOPIC))
                kinds[corr] = "metadata"
            else:
                reqs += produce_v3(corr, self.TARGET_TOPIC, 1, record_batch([(b"pipe", str(i).encode(), [])]))
                kinds[corr] = "produce"
        s.sendall(reqs)
        order = []
        for _ in range(60):
            r = recv_response(s)
            self.assertIsNotNone(r, f"connection closed after {len(order)} responses")
            order.append(r[0])
            if kinds[r[0]] == "produce":
                self.assertEqual(parse_produce_v3(r[1])[(self.TARGET_TOPIC, 1)][0], 0)
        self.assertEqual(order, [1000 + i for i in range(60)])

    def test_03_acks0_produce_then_request_on_same_connection(self):
        # acks=0 has no response: the next response on the connection is the next request's.
        s = self.connect()
        s.sendall(produce_v3(2001, self.TARGET_TOPIC, 0, record_batch([(b"a0", b"fire-and-forget", [])]), acks=0)
                  + frame(header_v1(18, 0, 2002)))
        r = recv_response(s)
        self.assertIsNotNone(r)
        self.assertEqual(r[0], 2002, "a response for the acks=0 produce was sent")

    # ---- framing --------------------------------------------------------------
    def test_garbage_bytes(self):
        s = self.connect()
        junk = bytes((i * 73 + 41) & 0xFF for i in range(64))
        self.send(s, frame(junk))  # valid size, the header is junk (api key 0x2972)
        self.assert_closed(s, "64 bytes of junk in a frame")
        s = self.connect()
        self.send(s, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # size prefix 'GET ' = 1195725856
        self.assert_closed(s, "an HTTP request")

    def test_negative_size(self):
        s = self.connect()
        self.send(s, struct.pack(">i", -5) + b"\x00" * 16)
        self.assert_closed(s, "size prefix -5")

    def test_tiny_size(self):
        s = self.connect()
        self.send(s, struct.pack(">i", 3) + b"\x00\x12\x00")
        self.assert_closed(s, "size prefix 3 (smaller than a request header)")

    def test_2gib_size(self):
        s = self.connect()
        self.send(s, struct.pack(">I", 0x80000000) + b"\x00" * 16)  # 2 GiB: negative as int32
        self.assert_closed(s, "size prefix 2^31")
        s = self.connect()
        self.send(s, struct.pack(">i", 0x7FFFFFFF) + b"\x00" * 16)  # 2 GiB - 1
        self.assert_closed(s, "size prefix 2^31-1")

    def test_size_above_socket_request_max_bytes(self):
        s = self.connect()
        self.send(s, struct.pack(">i", 2 * 1024 * 1024) + header_v1(3, 1, 1) + b"\x00" * 100)
        self.assert_closed(s, f"2 MiB frame with socket.request.max.bytes={MAX_REQUEST}")
        # The broker says why it closed (one line per cause, rate-limited: an earlier bad
        # size may have been the one logged).
        self.b.wait_for_log(r"warn.*request size -?\d+ outside \[8, ", timeout=5)

    def test_truncated_request_then_close(self):
        s = self.connect()
        self.send(s, struct.pack(">i", 100) + header_v1(3, 1, 5)[:20])
        s.close()

    def test_truncated_request_left_open(self):
        # Size says 100, a header + 10 body bytes arrive and nothing more: the broker
        # keeps waiting for the rest, and must serve everyone else meanwhile.
        s = self.connect()
        part = header_v1(3, 1, 5) + b"\x00\x00\x00\x01\x00\x05abc"
        self.send(s, struct.pack(">i", 100) + part)
        self.probe("while-a-request-is-half-sent")
        s.close()

    def test_request_body_does_not_decode(self):
        # Complete 100-byte frame: Metadata v1 header, then a topic array claiming
        # 1000 entries with a string length running past the end.
        s = self.connect()
        hdr = header_v1(3, 1, 6)
        body = struct.pack(">i", 1000) + struct.pack(">h", 500) + b"x" * (100 - len(hdr) - 6)
        self.assertEqual(len(hdr + body), 100)
        self.send(s, frame(hdr + body))
        self.assert_closed(s, "Metadata v1 with an undecodable body")

    def test_pipelined_good_then_garbage(self):
        # A valid ApiVersions, then junk on the same connection: the first is
        # answered, then the connection is closed.
        s = self.connect()
        self.send(s, frame(header_v1(18, 0, 21)) + frame(b"\xff\xff" + b"\x00" * 30))
        r = recv_response(s)
        self.assertIsNotNone(r, "ApiVersions before the junk was not answered")
        self.assertEqual(r[0], 21)
        self.assert_closed(s, "junk after a valid request")

    # ---- API keys and versions ------------------------------------------------
    def test_unknown_api_key(self):
        s = self.connect()
        self.send(s, frame(header_v1(999, 0, 9) + b"\x00" * 8))
        self.assert_closed(s, "API key 999")

    def test_unsupported_metadata_version(self):
        s = self.connect()
        self.send(s, frame(header_v1(3, 99, 10) + b"\x00" * 8))
        self.assert_closed(s, "Metadata v99")

    def test_unsupported_api_versions_version(self):
        s = self.connect()
        self.send(s, frame(header_v1(18, 99, 12345) + b"\x00" * 8))
        r = recv_response(s)
        self.assertIsNotNone(r, "ApiVersions v99: connection closed instead of a v0 response")
        corr, body = r
        self.assertEqual(corr, 12345)
        err, n = struct.unpack_from(">hi", body)
        self.assertEqual(err, 35, "error_code UNSUPPORTED_VERSION")
        self.assertGreater(n, 0, "api list must not be empty")
        self.assertEqual(len(body), 6 + 6 * n, "an ApiVersions v0 body (no throttle time, no tagged fields)")
        apis = {}
        for i in range(n):
            k, lo, hi = struct.unpack_from(">hhh", body, 6 + 6 * i)
            apis[k] = (lo, hi)
        self.assertIn(18, apis)
        self.assertLessEqual(apis[18][0], 0)

    # ---- Produce-level errors ---------------------------------------------------
    def test_produce_bad_crc(self):
        batch = bytearray(record_batch([(b"k", b"value-that-gets-flipped", [])]))
        batch[-5] ^= 0x20  # a byte of the value: covered by the CRC
        c = clients.consumer(self.b.bootstrap)
        try:
            before = c.get_watermark_offsets(TopicPartition(self.TARGET_TOPIC, 1), timeout=10)
            s = self.connect()
            s.sendall(produce_v3(31, self.TARGET_TOPIC, 1, bytes(batch)))
            r = recv_response(s)
            self.assertIsNotNone(r, "Produce with a bad CRC: connection closed instead of CORRUPT_MESSAGE")
            self.assertEqual(r[0], 31)
            resp = parse_produce_v3(r[1])
            self.assertEqual(resp[(self.TARGET_TOPIC, 1)][0], 2, "CORRUPT_MESSAGE")
            after = c.get_watermark_offsets(TopicPartition(self.TARGET_TOPIC, 1), timeout=10)
            self.assertEqual(after, before, "a corrupt batch must not be appended")
            # The connection stays usable after a per-partition error.
            s.sendall(produce_v3(32, self.TARGET_TOPIC, 1, record_batch([(b"k", b"ok-after-crc", [])])))
            r = recv_response(s)
            self.assertEqual(parse_produce_v3(r[1])[(self.TARGET_TOPIC, 1)], (0, before[1]))
        finally:
            c.close()

    def test_produce_bad_crc_in_header_field(self):
        batch = bytearray(record_batch([(b"k", b"v", [])]))
        batch[17] ^= 0x01  # the CRC itself
        s = self.connect()
        s.sendall(produce_v3(33, self.TARGET_TOPIC, 1, bytes(batch)))
        r = recv_response(s)
        self.assertIsNotNone(r)
        self.assertEqual(parse_produce_v3(r[1])[(self.TARGET_TOPIC, 1)][0], 2)

    def test_produce_invalid_required_acks(self):
        s = self.connect()
        s.sendall(produce_v3(41, self.TARGET_TOPIC, 0, record_batch([(b"k", b"v", [])]), acks=5))
        r = recv_response(s)
        self.assertIsNotNone(r, "Produce acks=5: connection closed instead of INVALID_REQUIRED_ACKS")
        self.assertEqual(r[0], 41)
        self.assertEqual(parse_produce_v3(r[1])[(self.TARGET_TOPIC, 0)][0], 21, "INVALID_REQUIRED_ACKS")

    def test_produce_unknown_partition(self):
        s = self.connect()
        s.sendall(produce_v3(51, self.TARGET_TOPIC, 7, record_batch([(b"k", b"v", [])])))
        r = recv_response(s)
        self.assertEqual(parse_produce_v3(r[1])[(self.TARGET_TOPIC, 7)][0], 3, "UNKNOWN_TOPIC_OR_PARTITION")

    def test_produce_truncated_batch(self):
        # Batch length claims more bytes than the records field holds.
        batch = record_batch([(b"k", b"v" * 50, [])])[:-10]
        s = self.connect()
        s.sendall(produce_v3(61, self.TARGET_TOPIC, 0, batch))
        r = recv_response(s)
        self.assertIsNotNone(r, "Produce with a truncated batch: connection closed instead of an error code")
        err = parse_produce_v3(r[1])[(self.TARGET_TOPIC, 0)][0]
        self.assertIn(err, (2, 87), "CORRUPT_MESSAGE or INVALID_RECORD")

    def produce_raw(self, corr: int, topic: str, batch: bytes, acks: int = -1) -> int:
        """Sends one Produce v3 to partition 0 of topic; returns its error code and
        checks that a rejected batch did not move the high watermark."""
        c = clients.consumer(self.b.bootstrap)
        try:
            before = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
            s = self.connect()
            s.sendall(produce_v3(corr, topic, 0, batch, acks))
            r = recv_response(s)
            self.assertIsNotNone(r, "connection closed instead of a Produce response")
            self.assertEqual(r[0], corr)
            err, base = parse_produce_v3(r[1])[(topic, 0)]
            after = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
            if err != 0:
                self.assertEqual(base, -1)
                self.assertEqual(after, before, "a rejected batch must not be appended")
            return err
        finally:
            c.close()

    def test_produce_last_offset_delta_mismatch(self):
        recs = record(0, b"a", b"1") + record(1, b"b", b"2")
        self.assertEqual(self.produce_raw(71, self.TARGET_TOPIC, raw_batch(0, 2, 5, recs)), 87, "INVALID_RECORD")

    def test_produce_magic_1_batch(self):
        recs = record(0, b"a", b"1") + record(1, b"b", b"2")
        self.assertEqual(self.produce_raw(72, self.TARGET_TOPIC, raw_batch(0, 2, 1, recs, magic=1)), 87,
                         "INVALID_RECORD: Produce v3+ takes magic 2 only")

    def test_produce_unknown_codec(self):
        recs = record(0, b"a", b"1") + record(1, b"b", b"2")
        self.assertEqual(self.produce_raw(73, self.TARGET_TOPIC, raw_batch(7, 2, 1, recs)), 2, "CORRUPT_MESSAGE")

    def test_produce_zstd_below_v7(self):
        # zstd needs Produce v7+: UNSUPPORTED_COMPRESSION_TYPE (76), as in Kafka.
        self.assertEqual(self.produce_raw(74, self.TARGET_TOPIC, raw_batch(4, 2, 1, b"x" * 20)), 76)

    def test_produce_acks0_bad_crc_closes(self):
        # acks=0 has no response: a failed partition closes the connection (Kafka does the same).
        batch = bytearray(record_batch([(b"k", b"v", [])]))
        batch[-3] ^= 0x01
        s = self.connect()
        s.sendall(produce_v3(75, self.TARGET_TOPIC, 0, bytes(batch), acks=0))
        self.assert_closed(s, "acks=0 produce with a bad CRC")

    # The next three are Kafka's record-level validation (LogValidator): a batch
    # whose records consumers could not read is refused.
    def test_produce_compressed_garbage(self):
        err = self.produce_raw(81, self.POISON_TOPIC, raw_batch(1, 2, 1, b"\x1f\x8b" + b"garbage" * 5))
        self.assertIn(err, (2, 87), "CORRUPT_MESSAGE or INVALID_RECORD")

    def test_produce_record_count_mismatch(self):
        recs = record(0, b"a", b"1") + record(1, b"b", b"2")
        self.assertIn(self.produce_raw(82, self.POISON_TOPIC, raw_batch(0, 3, 2, recs)), (2, 87))

    def test_produce_garbage_records(self):
        self.assertIn(self.produce_raw(83, self.POISON_TOPIC, raw_batch(0, 2, 1, b"\x00" * 3 + b"\xff" * 20)),
                      (2, 87))

    def test_many_bad_connections(self):
        # A burst of bad connections (bounded): all closed, the broker keeps serving.
        for i in range(50):
            s = self.connect()
            self.send(s, struct.pack(">i", -1 - i))
        for i, s in enumerate(self.socks):
            self.assert_closed(s, f"bad connection {i}")


if __name__ == "__main__":
    harness.main()
