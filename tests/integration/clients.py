"""confluent_kafka (librdkafka) helpers shared by the Python integration tests.

confluent_kafka's Consumer insists on a group.id even for assign(): the
helpers set one but never subscribe or commit, so the consumer fetches like a
standalone one and the tests do not depend on consumer groups (test_groups.py
covers those). Non-fatal consumer errors are collected and reported, not raised.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Deadline  # noqa: E402

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def base_conf(bootstrap: str) -> dict:
    return {"bootstrap.servers": bootstrap,
            "broker.address.family": "v4",
            "socket.timeout.ms": 10000,
            "log_level": 3}  # errors only: librdkafka's own chatter stays out of the test output


def admin(bootstrap: str) -> AdminClient:
    return AdminClient(base_conf(bootstrap))


def wait_futures(fs: dict, timeout: float = 30) -> dict:
    """Resolves every admin future; returns {key: result or exception}."""
    out = {}
    for k, f in fs.items():
        try:
            out[k] = f.result(timeout=timeout)
        except Exception as e:  # KafkaException carries a KafkaError
            out[k] = e
    return out


def kafka_error(exc) -> KafkaError | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return None


def create_topic(bootstrap: str, name: str, partitions: int, config: dict | None = None, timeout: float = 30):
    a = admin(bootstrap)
    res = wait_futures(a.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                                 config=config or {})], operation_timeout=timeout,
                                       request_timeout=timeout), timeout)
    if res[name] is not None:
        raise AssertionError(f"creating topic {name} failed: {res[name]!r}")
    # The topic is usable once metadata shows every partition with a leader.
    harness.wait_until(lambda: _topic_ready(a, name, partitions), timeout, f"topic {name} in metadata")


def _topic_ready(a, name, partitions):
    md = a.list_topics(topic=name, timeout=5).topics.get(name)
    return (md is not None and md.error is None and len(md.partitions) == partitions
            and all(p.leader >= 0 for p in md.partitions.values()))


def produce(bootstrap: str, topic: str, msgs: list, codec: str | None = None, extra: dict | None = None,
            timeout: float = 60) -> list:
    """Produces msgs (harness.make_messages dicts) to their partitions, in order.
    Returns the acknowledged offset of each message; raises on any delivery error."""
    conf = base_conf(bootstrap) | {"acks": "all", "linger.ms": 20, "compression.type": codec or "none",
                                   "message.timeout.ms": int(timeout * 1000),
                                   "max.in.flight.requests.per.connection": 1}
    conf |= extra or {}
    p = Producer(conf)
    offsets = [None] * len(msgs)
    errors = []

    def cb(idx):
        def f(err, m):
            if err is not None:
                errors.append((idx, err))
            else:
                offsets[idx] = (m.partition(), m.offset())
        return f

    d = Deadline(timeout)
    for idx, m in enumerate(msgs):
        while True:
            try:
                p.produce(topic, value=m["value"], key=m["key"], headers=m["headers"] or None,
                          partition=m["partition"], timestamp=m["ts"], on_delivery=cb(idx))
                break
            except BufferError:
                if d.expired():
                    raise AssertionError("producer queue stayed full until the deadline")
                p.poll(0.05)
        p.poll(0)
    left = p.flush(d.remaining())
    if left:
        raise AssertionError(f"{left} message(s) not delivered within {timeout} s")
    if errors:
        raise AssertionError(f"{len(errors)} delivery error(s), first: message {errors[0][0]}: {errors[0][1]}")
    for idx, m in enumerate(msgs):
        if offsets[idx][0] != m["partition"]:
            raise AssertionError(f"message {idx} acknowledged on partition {offsets[idx][0]}, sent to {m['partition']}")
    return [o for _, o in offsets]


def consumer(bootstrap: str, extra: dict | None = None) -> Consumer:
    conf = base_conf(bootstrap) | {"group.id": "strata-it-assign-only", "enable.auto.commit": False,
                                   "enable.auto.offset.store": False, "auto.offset.reset": "earliest",
                                   "enable.partition.eof": True, "fetch.wait.max.ms": 100}
    conf |= extra or {}
    return Consumer(conf)


def consume(bootstrap: str, topic: str, counts: dict, timeout: float = 60, start: dict | None = None,
            settle: bool = True) -> dict:
    """Reads partitions `counts` ({partition: expected count}) from `start`
    ({partition: offset}, default the beginning) until each has delivered its
    count and reached EOF. Returns {partition: [record dicts]}; asserts no
    extra records arrive and no fatal error happens."""
    c = consumer(bootstrap)
    got = {p: [] for p in counts}
    eof = set()
    ignored = []
    try:
        c.assign([TopicPartition(topic, p, (start or {}).get(p, -2)) for p in counts])  # -2 = beginning
        d = Deadline(timeout)
        while not d.expired():
            if all(len(got[p]) >= counts[p] for p in counts) and eof >= set(counts):
                break
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                e = m.error()
                if e.code() == KafkaError._PARTITION_EOF:
                    if len(got[m.partition()]) >= counts[m.partition()]:
                        eof.add(m.partition())
                    continue
                if e.fatal():
                    raise AssertionError(f"fatal consumer error: {e}")
                ignored.append(str(e))
                continue
            got[m.partition()].append({"offset": m.offset(), "key": m.key(), "value": m.value(),
                                       "headers": list(m.headers() or []), "ts": m.timestamp()[1]})
            eof.discard(m.partition())
        short = {p: (len(got[p]), counts[p]) for p in counts if len(got[p]) != counts[p]}
        if short:
            raise AssertionError(f"partitions with a wrong count (got, expected): {short}; "
                                 f"non-fatal consumer errors: {ignored[:5]}")
        return got
    finally:
        c.close()


def check_partitions(tc, expected_by_p: dict, got: dict, fields=("key", "value", "headers", "ts"), first=0):
    """Asserts, per partition, offsets first.. contiguous and fields byte-exact."""
    for p, exp in expected_by_p.items():
        g = got[p]
        tc.assertEqual([r["offset"] for r in g], list(range(first, first + len(exp))), f"offsets of partition {p}")
        pe = [tuple(m[f] for f in fields) for m in exp]
        pg = [tuple(m[f] for f in fields) for m in g]
        tc.assertTrue(pe == pg, f"partition {p}: " + harness.describe_mismatch(exp, g, fields))


def roundtrip_ok(bootstrap: str, topic: str, tag: str, timeout: float = 20):
    """One produce (acks=all) + consume of a unique message on partition 0:
    the well-behaved-client probe used between bad inputs."""
    p = Producer(base_conf(bootstrap) | {"acks": "all", "message.timeout.ms": int(timeout * 1000)})
    res = {}
    p.produce(topic, key=tag.encode(), value=f"probe-{tag}".encode(), partition=0,
              on_delivery=lambda err, m: res.update(err=err, off=None if err else m.offset()))
    left = p.flush(timeout)
    if left or res.get("err") is not None:
        raise AssertionError(f"probe produce '{tag}' failed: left={left} err={res.get('err')}")
    off = res["off"]
    got = consume(bootstrap, topic, {0: 1}, timeout=timeout, start={0: off})
    r = got[0][0]
    if (r["offset"], r["key"], r["value"]) != (off, tag.encode(), f"probe-{tag}".encode()):
        raise AssertionError(f"probe consume '{tag}' returned {r}")
    return off


def bounded_close(c, timeout: float = 20):
    """Consumer.close() can block forever when the group coordinator stops
    answering: close on a helper thread and fail after `timeout` instead."""
    import threading
    t = threading.Thread(target=c.close, daemon=True, name="consumer-close")
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise AssertionError(f"consumer.close() did not return within {timeout} s (broker not answering?)")
