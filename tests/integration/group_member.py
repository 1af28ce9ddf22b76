#!/usr/bin/python3
"""A confluent_kafka consumer-group member run as a child process by
test_groups.py: subscribes, consumes in small batches, *processes* every
message (appends "partition offset value" to its output file, flushed), then
commits the next offsets synchronously (at-least-once). On every rebalance
callback (and at exit) it rewrites its status file atomically (JSON: current
assignment, callback counts, commit results). SIGTERM = close cleanly
(Consumer.close(), exit 0); the test may also kill -9 it.

    group_member.py BOOTSTRAP TOPIC GROUP OUT STATUS SESSION_MS [INSTANCE_ID]
"""

import json
import os
import signal
import sys

from confluent_kafka import Consumer, KafkaException, TopicPartition

bootstrap, topic, group, out_path, status_path, session_ms = sys.argv[1:7]
instance_id = sys.argv[7] if len(sys.argv) > 7 else None

stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)

status = {"pid": os.getpid(), "assigned": [], "assign_events": 0, "revoke_events": 0, "consumed": 0,
          "commit_ok": 0, "commit_errors": [], "commit_error_count": 0, "closed": False}


def write_status():
    tmp = status_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(status, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, status_path)


def on_assign(c, parts):
    status["assigned"] = sorted(tp.partition for tp in parts)
    status["assign_events"] += 1
    write_status()


def on_revoke(c, parts):
    status["assigned"] = []
    status["revoke_events"] += 1
    write_status()


conf = {"bootstrap.servers": bootstrap, "broker.address.family": "v4", "socket.timeout.ms": 10000,
        "log_level": 3, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "session.timeout.ms": int(session_ms), "heartbeat.interval.ms": max(100, int(session_ms) // 6),
        "fetch.wait.max.ms": 100}
if instance_id:
    conf["group.instance.id"] = instance_id
c = Consumer(conf)
write_status()
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
out = open(out_path, "a", buffering=1)
while not stop:
    msgs = c.consume(num_messages=50, timeout=0.2)
    nxt = {}
    for m in msgs:
        if m.error():
            if m.error().fatal():
                sys.stderr.write(f"fatal consumer error: {m.error()}\n")
                sys.exit(2)
            continue
        out.write(f"{m.partition()} {m.offset()} {m.value().decode()}\n")
        nxt[m.partition()] = m.offset() + 1
        status["consumed"] += 1
    if nxt:
        out.flush()
        os.fsync(out.fileno())  # processed (durably) before committed
        try:
            c.commit(offsets=[TopicPartition(topic, p, o) for p, o in nxt.items()], asynchronous=False)
            status["commit_ok"] += 1
        except KafkaException as e:  # e.g. a rebalance in progress: the messages come again
            status["commit_error_count"] += 1
            if len(status["commit_errors"]) < 10:
                status["commit_errors"].append(str(e))
out.close()
c.close()
status["closed"] = True
status["assigned"] = []
write_status()
sys.exit(0)
