#!/usr/bin/python3
"""Prints every record of a topic as JSON, read with kafka-python (assign +
seek_to_beginning, no consumer group) up to each partition's end offset at
start. Used by the KafkaJS test to check what KafkaJS produced.

usage: dump_topic.py BOOTSTRAP TOPIC [TIMEOUT_S]
output: {"end_offsets": {"0": n, ...},
         "partitions": {"0": [{"offset", "key", "value", "headers": [[k, v]], "ts"}, ...]}}
with keys/values/header values base64-encoded (null stays null).
"""

import base64
import json
import logging
import sys
import time

from kafka import KafkaConsumer, TopicPartition

logging.getLogger("kafka").setLevel(logging.CRITICAL)


def b64(b):
    return None if b is None else base64.b64encode(b).decode()


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="earliest", fetch_max_wait_ms=100, request_timeout_ms=15000,
                      api_version_auto_timeout_ms=10000)
    try:
        parts = c.partitions_for_topic(topic)
        end = time.monotonic() + timeout
        while not parts and time.monotonic() < end:
            c.poll(timeout_ms=100)  # triggers a metadata refresh
            parts = c.partitions_for_topic(topic)
        if not parts:
            print(json.dumps({"error": f"topic {topic} not found"}))
            sys.exit(2)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        ends = {tp.partition: o for tp, o in c.end_offsets(tps).items()}
        out = {p: [] for p in ends}
        while any(len(out[p]) < ends[p] for p in ends) and time.monotonic() < end:
            for tp, recs in c.poll(timeout_ms=200).items():
                for r in recs:
                    if r.offset < ends[tp.partition]:
                        out[tp.partition].append({"offset": r.offset, "key": b64(r.key), "value": b64(r.value),
                                                  "headers": [[k, b64(v)] for k, v in r.headers],
                                                  "ts": r.timestamp})
        print(json.dumps({"end_offsets": {str(p): n for p, n in ends.items()},
                          "partitions": {str(p): v for p, v in out.items()}}))
    finally:
        c.close(autocommit=False)


if __name__ == "__main__":
    main()
