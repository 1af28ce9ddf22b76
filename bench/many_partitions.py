#!/usr/bin/python3
"""How many partitions a broker holds under a descriptor limit (storage/file_cache.h).

    ulimit -n 20000; /usr/bin/python3 bench/many_partitions.py --partitions 50000 [--data-parent /dev/shm]

Starts build/strata (env STRATA_BIN) with RLIMIT_NOFILE set to --nofile (inherited),
creates --topics topics of partitions/topics partitions each through several
CreateTopics requests (--per-request topics each), produces one message to every
partition, consumes every partition, stops the broker cleanly (SIGTERM, exit 0),
starts it again, and consumes every partition again. Prints, after each phase, the
broker's descriptors (ls /proc/PID/fd | wc -l), mappings (wc -l /proc/PID/maps) and
RSS, and the start time the broker logs ("started in") after the clean shutdown.
Exits non-zero if any partition is missing or wrong.
"""

import argparse
import os
import re
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("STRATA_IT_TIMEOUT", "3000")
import clients  # noqa: E402
import harness  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition, KafkaError  # noqa: E402
from confluent_kafka.admin import NewTopic  # noqa: E402


def footprint(pid: int) -> dict:
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/maps") as f:
        maps = sum(1 for _ in f)
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) // 1024
    return {"fds": fds, "maps": maps, "rss_mib": rss}


def produce_all(bootstrap, topics, per_topic, timeout=600):
    p = Producer(clients.base_conf(bootstrap) | {"acks": "all", "linger.ms": 100, "message.timeout.ms": timeout * 1000,
                                                 "queue.buffering.max.messages": 1000000})
    errors, acked = [], [0]

    def cb(err, m):
        if err is not None:
            errors.append(err)
        else:
            acked[0] += 1

    for t in topics:
        for part in range(per_topic):
            while True:
                try:
                    p.produce(t, value=f"{t}/{part}".encode(), partition=part, on_delivery=cb)
                    break
                except BufferError:
                    p.poll(0.05)
            p.poll(0)
    left = p.flush(timeout)
    if left or errors:
        raise SystemExit(f"produce: {left} undelivered, {len(errors)} errors, first {errors[:1]}")
    return acked[0]


def consume_all(bootstrap, topics, per_topic, timeout=600):
    """One message per partition, value "<topic>/<partition>" at offset 0."""
    bad = []
    total = 0
    for t in topics:
        c = Consumer(clients.base_conf(bootstrap) | {"group.id": "bench-many", "enable.auto.commit": False,
                                                     "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100})
        c.assign([TopicPartition(t, p, 0) for p in range(per_topic)])
        seen = set()
        d = harness.Deadline(timeout)
        while len(seen) < per_topic and not d.expired():
            for m in c.consume(num_messages=1000, timeout=0.5):
                if m.error():
                    if m.error().code() != KafkaError._PARTITION_EOF:
                        bad.append(str(m.error()))
                    continue
                if m.offset() != 0 or m.value() != f"{t}/{m.partition()}".encode():
                    bad.append(f"{t}/{m.partition()}@{m.offset()}: {m.value()!r}")
                seen.add(m.partition())
        c.close()
        total += len(seen)
        if len(seen) < per_topic:
            bad.append(f"{t}: {per_topic - len(seen)} partitions not consumed")
    if bad:
        raise SystemExit(f"consume: {len(bad)} problems, first: {bad[:5]}")
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--partitions", type=int, default=50000)
    ap.add_argument("--topics", type=int, default=10)
    ap.add_argument("--per-request", type=int, default=2, help="topics per CreateTopics request")
    ap.add_argument("--nofile", type=int, default=20000)
    ap.add_argument("--data-parent", default=None,
                    help="where the broker's temp dir goes (e.g. /dev/shm: on a disk, creating 50,000 partitions "
                         "is bound by their fsyncs and takes many minutes)")
    args = ap.parse_args()
    if args.data_parent:
        import tempfile
        tempfile.tempdir = args.data_parent
    per_topic = args.partitions // args.topics
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(args.nofile, hard), hard))
    print(f"RLIMIT_NOFILE {resource.getrlimit(resource.RLIMIT_NOFILE)}; vm.max_map_count "
          f"{open('/proc/sys/vm/max_map_count').read().strip()}", flush=True)
    b = harness.Broker(name="many", startup_timeout=600,
                       overrides={"log.flush.offset.checkpoint.interval.ms": "600000"})
    topics = [f"bench-{i}" for i in range(args.topics)]
    try:
        print("started:", footprint(b.pid), flush=True)
        a = clients.AdminClient(clients.base_conf(b.bootstrap) | {"socket.timeout.ms": 300000})
        t0 = time.monotonic()
        for i in range(0, len(topics), args.per_request):
            group = topics[i:i + args.per_request]
            res = clients.wait_futures(a.create_topics([NewTopic(t, num_partitions=per_topic, replication_factor=1)
                                                        for t in group], operation_timeout=300, request_timeout=300),
                                       600)
            errs = {t: r for t, r in res.items() if r is not None}
            if errs:
                raise SystemExit(f"CreateTopics: {errs}")
        for t in topics:
            harness.wait_until(lambda t=t: clients._topic_ready(a, t, per_topic), 600, f"{t} ready", interval=0.5)
        del a
        print(f"created {args.topics} x {per_topic} partitions in {time.monotonic() - t0:.1f} s:",
              footprint(b.pid), flush=True)
        t0 = time.monotonic()
        n = produce_all(b.bootstrap, topics, per_topic)
        print(f"produced {n} messages in {time.monotonic() - t0:.1f} s:", footprint(b.pid), flush=True)
        t0 = time.monotonic()
        n = consume_all(b.bootstrap, topics, per_topic)
        print(f"consumed {n} partitions in {time.monotonic() - t0:.1f} s:", footprint(b.pid), flush=True)
        t0 = time.monotonic()
        b.stop(timeout=600)
        print(f"clean shutdown in {time.monotonic() - t0:.1f} s", flush=True)
        first = len(b.log_lines())
        t0 = time.monotonic()
        b.start()
        wall = time.monotonic() - t0
        new = b.log_lines()[first:]
        started = next((m.group(0) for m in map(re.compile(r"started in [0-9.]+ ms").search, new) if m), "?")
        rebuilt = sum("rebuilding damaged index" in l for l in new)
        print(f"restarted ({started}; {wall:.1f} s until listening; 'rebuilding damaged index' lines: {rebuilt}):",
              footprint(b.pid), flush=True)
        t0 = time.monotonic()
        n = consume_all(b.bootstrap, topics, per_topic)
        print(f"after restart consumed {n} partitions in {time.monotonic() - t0:.1f} s:", footprint(b.pid),
              flush=True)
        emfile = sum("too many open files" in l for l in b.log_lines())
        print(f"'too many open files' lines in the broker log: {emfile}")
        b.stop(timeout=600)
    finally:
        b.close()


if __name__ == "__main__":
    main()
