#!/usr/bin/python3
"""Child process of test_crash.py: produces message ids 0.. with confluent_kafka
(acks=all) and appends "id partition offset" for every successful delivery
report to the ack file, one flushed line each. Stops after max_count messages or
max_seconds, whichever first; the test usually kills it before that.

usage: crash_producer.py BOOTSTRAP TOPIC PARTITIONS ACKFILE MAX_COUNT MAX_SECONDS CODEC [IDEMPOTENT]

With IDEMPOTENT=1 the producer is idempotent (retries across a broker restart
must neither lose nor duplicate) and exits 0 only if every message was
delivered; delivery errors are written to ACKFILE.errors.
"""

import os
import sys
import time

from confluent_kafka import Producer


def value_of(i: int) -> bytes:
    # Kept in sync with test_crash.expected_value.
    head = f"id={i}|".encode()
    return head + bytes(((i * 31 + j) & 0xFF) for j in range(60 + i % 200))


def main():
    bootstrap, topic, partitions, ackfile, max_count, max_seconds, codec = sys.argv[1:8]
    idempotent = len(sys.argv) > 8 and sys.argv[8] == "1"
    partitions, max_count, max_seconds = int(partitions), int(max_count), float(max_seconds)
    out = open(ackfile, "a", buffering=1)
    errs = open(ackfile + ".errors", "a", buffering=1)
    conf = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "compression.type": codec,
            "message.timeout.ms": 60000, "log_level": 0, "max.in.flight.requests.per.connection": 1,
            "queue.buffering.max.messages": 20000, "reconnect.backoff.max.ms": 200,
            "batch.size": 65536}  # well below the tests' segment size (a bigger batch is RECORD_LIST_TOO_LARGE)
    if idempotent:
        conf |= {"enable.idempotence": True, "max.in.flight.requests.per.connection": 5}
    p = Producer(conf)
    failed = [0]

    def on_delivery(err, m):
        if err is None:
            out.write(f"{int(m.key())} {m.partition()} {m.offset()}\n")
            out.flush()
        else:
            failed[0] += 1
            errs.write(f"{int(m.key())} {err}\n")

    end = time.monotonic() + max_seconds
    i = 0
    while i < max_count and time.monotonic() < end:
        try:
            p.produce(topic, key=str(i).encode(), value=value_of(i), partition=i % partitions,
                      on_delivery=on_delivery)
            i += 1
        except BufferError:
            p.poll(0.01)
            continue
        if i % 100 == 0:
            p.poll(0)
    left = p.flush(max(0.0, end - time.monotonic()))
    out.close()
    errs.write(f"sent {i} undelivered {left} failed {failed[0]}\n")
    errs.close()
    os._exit(0 if (not idempotent or (left == 0 and failed[0] == 0 and i == max_count)) else 1)


if __name__ == "__main__":
    main()
