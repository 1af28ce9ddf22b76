#!/usr/bin/python3
"""Regenerates the captured client frames in this folder.

Starts a broker (build/strata, or STRATA_BIN) whose advertised listener is a
small recording TCP proxy, runs real clients through the proxy (confluent_kafka
/ librdkafka: produce with each codec, consume with a group, admin calls;
kafka-python: the same from its own codec and group code; kcat: metadata,
produce and consume), and writes every distinct client->broker request frame
(4-byte size prefix included) as one file:

    <api_key>_<ApiName>_v<version>_<client>_<n>.bin

At most MAX_PER_KIND frames are kept per (api key, version, client); ordinary
repeats (the same bytes but the correlation id) are dropped. Run by hand:

    /usr/bin/python3 tests/integration/frames/capture.py    # rewrites *.bin

test_tcp_fuzz.py mutates these frames; it does not need to run this script.
"""

import glob
import os
import select
import socket
import struct
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import clients  # noqa: E402
import harness  # noqa: E402

MAX_PER_KIND = 4

API_NAMES = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
             10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
             15: "DescribeGroups", 16: "ListGroups", 17: "SaslHandshake", 18: "ApiVersions",
             19: "CreateTopics", 20: "DeleteTopics", 21: "DeleteRecords", 22: "InitProducerId",
             23: "OffsetForLeaderEpoch", 24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn",
             28: "TxnOffsetCommit", 32: "DescribeConfigs", 33: "AlterConfigs", 35: "DescribeLogDirs",
             37: "CreatePartitions", 42: "DeleteGroups", 44: "IncrementalAlterConfigs",
             47: "OffsetDelete", 60: "DescribeCluster", 61: "DescribeProducers"}


class RecordingProxy:
    """Accepts on an ephemeral loopback port and forwards each connection to
    the broker; splits the client->broker byte stream into size-prefixed
    frames and hands them to `on_frame(client_tag, frame)`."""

    def __init__(self, on_frame):
        self.on_frame = on_frame
        self.tag = "unknown"
        self.upstream = None
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._pump, args=(c,), daemon=True).start()

    def _pump(self, c):
        try:
            u = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            c.close()
            return
        buf = b""
        socks = [c, u]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], 30)
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (u if s is c else c).sendall(data)
                    if s is c:
                        buf += data
                        while len(buf) >= 4:
                            n = struct.unpack(">i", buf[:4])[0]
                            if len(buf) < 4 + n:
                                break
                            self.on_frame(self.tag, buf[:4 + n])
                            buf = buf[4 + n:]
        except OSError:
            pass
        finally:
            c.close()
            u.close()


def _without_corr(frame: bytes) -> bytes:
    return frame[:8] + b"\0\0\0\0" + frame[12:]


class Store:
    def __init__(self):
        self.kinds = {}
        self.lock = threading.Lock()

    def add(self, tag, frame):
        if len(frame) < 12:
            return
        key, ver = struct.unpack(">hh", frame[4:8])
        with self.lock:
            lst = self.kinds.setdefault((key, ver, tag), [])
            norm = _without_corr(frame)
            if len(lst) < MAX_PER_KIND and all(_without_corr(f) != norm for f in lst):
                lst.append(frame)

    def write(self, out_dir):
        for old in glob.glob(os.path.join(out_dir, "*.bin")):
            os.remove(old)
        n = 0
        for (key, ver, tag), lst in sorted(self.kinds.items()):
            for i, f in enumerate(lst):
                name = f"{key:02d}_{API_NAMES.get(key, 'Api' + str(key))}_v{ver}_{tag}_{i}.bin"
                with open(os.path.join(out_dir, name), "wb") as fh:
                    fh.write(f)
                n += 1
        return n


def run_confluent(bs):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic
    conf = clients.base_conf(bs)
    a = AdminClient(conf)
    clients.wait_futures(a.create_topics([NewTopic("cap-ck", num_partitions=2, replication_factor=1),
                                          NewTopic("cap-ck-del", num_partitions=1, replication_factor=1)]))
    harness.wait_until(lambda: clients._topic_ready(a, "cap-ck", 2), 30, "cap-ck")
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        p = Producer(conf | {"acks": "all", "compression.type": codec, "linger.ms": 5})
        for i in range(20):
            p.produce("cap-ck", key=f"k{i}".encode(), value=f"{codec}-value-{i}".encode() * 3,
                      partition=i % 2, headers=[("h", b"v")] if i % 3 == 0 else None)
        assert p.flush(30) == 0
    idem = Producer(conf | {"enable.idempotence": True, "acks": "all"})
    idem.produce("cap-ck", value=b"idempotent", partition=0)
    assert idem.flush(30) == 0
    c = Consumer(conf | {"group.id": "cap-ck-group", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "session.timeout.ms": 6000,
                         "heartbeat.interval.ms": 500})
    c.subscribe(["cap-ck"])
    got = 0
    d = harness.Deadline(30)
    while got < 100 and not d.expired():
        m = c.poll(0.2)
        if m is not None and not m.error():
            got += 1
            if got % 25 == 0:
                c.commit(asynchronous=False)
    c.commit(offsets=[TopicPartition("cap-ck", 0, 1)], asynchronous=False)
    c.committed([TopicPartition("cap-ck", 0), TopicPartition("cap-ck", 1)], timeout=10)
    c.get_watermark_offsets(TopicPartition("cap-ck", 0), timeout=10)
    c.offsets_for_times([TopicPartition("cap-ck", 0, 0)], timeout=10)
    c.close()
    clients.wait_futures(a.create_partitions([NewPartitions("cap-ck-del", 2)]))
    clients.wait_futures(a.describe_configs([ConfigResource("topic", "cap-ck")]))
    clients.wait_futures(a.delete_topics(["cap-ck-del"]))
    a.list_topics(timeout=10)


def run_kafka_python(bs):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    a = KafkaAdminClient(bootstrap_servers=bs)
    a.create_topics([NewTopic("cap-kp", 2, 1), NewTopic("cap-kp-del", 1, 1)])
    for codec in (None, "gzip", "snappy", "lz4", "zstd"):
        try:
            p = KafkaProducer(bootstrap_servers=bs, compression_type=codec, acks="all")
        except Exception as e:  # codec library not installed
            print(f"kafka-python: skipping codec {codec}: {e}")
            continue
        for i in range(10):
            p.send("cap-kp", key=f"k{i}".encode(), value=f"{codec}-v{i}".encode(), partition=i % 2)
        p.flush(30)
        p.close()
    c = KafkaConsumer("cap-kp", bootstrap_servers=bs, group_id="cap-kp-group", auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=3000)
    n = 0
    for _ in c:
        n += 1
        if n >= 20:
            break
    c.commit()
    c.end_offsets([TopicPartition("cap-kp", 0)])
    c.close()
    a.list_consumer_groups()
    a.describe_consumer_groups(["cap-kp-group"])
    a.delete_topics(["cap-kp-del"])
    a.close()


def run_kcat(bs):
    kw = dict(timeout=30, check=True, capture_output=True)
    subprocess.run(["kcat", "-b", bs, "-L"], **kw)
    subprocess.run(["kcat", "-b", bs, "-P", "-t", "cap-ck", "-p", "0", "-z", "lz4"], input=b"a\nb\nc\n", **kw)
    subprocess.run(["kcat", "-b", bs, "-C", "-t", "cap-ck", "-p", "0", "-o", "beginning", "-c", "3", "-e"], **kw)


def main():
    store = Store()
    proxy = RecordingProxy(store.add)
    overrides = {"advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy.port}",
                 "auto.create.topics.enable": "true", "group.initial.rebalance.delay.ms": "0"}
    with harness.Broker(overrides=overrides, name="capture") as b:
        proxy.upstream = ("127.0.0.1", b.port)
        bs = f"127.0.0.1:{proxy.port}"
        for tag, fn in (("ck", run_confluent), ("kp", run_kafka_python), ("kcat", run_kcat)):
            proxy.tag = tag
            fn(bs)
        b.stop()
    n = store.write(HERE)
    print(f"wrote {n} frames of {len(store.kinds)} kinds to {HERE}")


if __name__ == "__main__":
    main()
