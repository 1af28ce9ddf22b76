#!/usr/bin/python3
"""More partitions than descriptors: a broker started with RLIMIT_NOFILE 1024 holds
3,000 partitions (10 topics, 10 CreateTopics requests) with data (each would keep a .log and two index descriptors open
without the storage file budget, storage/file_cache.h). Produces one message to every
partition, consumes every one, restarts cleanly, and checks every partition again:
the broker stays within its limit, never logs EMFILE, and after the clean restart
rebuilds no index."""

import os
import resource
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import NewTopic  # noqa: E402

NOFILE = 1024
# A fetch holds one descriptor per partition it returns until the response is sent, on
# top of the storage budget (half of RLIMIT_NOFILE by default): consumers of 300
# partitions each keep that below the limit.
TOPICS = 10
PER_TOPIC = 300


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def produce_one_each(bootstrap: str, topics: list, timeout: float = 60):
    p = Producer(clients.base_conf(bootstrap) | {"acks": "all", "linger.ms": 50, "message.timeout.ms": int(timeout * 1000)})
    errors = []
    acked = [0]

    def cb(err, m):
        if err is not None:
            errors.append(err)
        else:
            acked[0] += 1

    for t in topics:
        for part in range(PER_TOPIC):
            while True:
                try:
                    p.produce(t, value=f"{t}/{part}".encode(), partition=part, on_delivery=cb)
                    break
                except BufferError:
                    p.poll(0.05)
            p.poll(0)
    left = p.flush(timeout)
    assert left == 0, f"{left} messages not delivered"
    assert not errors, f"{len(errors)} delivery errors, first: {errors[0]}"
    return acked[0]


class ManyPartitionsTest(harness.BrokerTestCase):
    def setUp(self):
        # The data dir in memory when there is /dev/shm: this test is about descriptors,
        # and 3,000 partition creations with their fsyncs take half a minute on a disk.
        self.saved_tmp = tempfile.tempdir
        if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
            tempfile.tempdir = "/dev/shm"
        # The broker inherits the soft limit (and derives strata.log.open.files.max from it).
        self.saved = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, self.saved[1]))

    def tearDown(self):
        resource.setrlimit(resource.RLIMIT_NOFILE, self.saved)
        tempfile.tempdir = self.saved_tmp

    def check_every_partition(self, b, topics):
        for t in topics:
            got = clients.consume(b.bootstrap, t, {p: 1 for p in range(PER_TOPIC)}, timeout=60)
            for part, recs in got.items():
                self.assertEqual(recs[0]["offset"], 0)
                self.assertEqual(recs[0]["value"], f"{t}/{part}".encode())

    def test_3000_partitions_with_1024_descriptors(self):
        b = self.broker(name="many")
        with open(f"/proc/{b.pid}/limits") as f:
            self.assertRegex(f.read(), rf"Max open files\s+{NOFILE}\s")
        topics = [f"many-{i}" for i in range(TOPICS)]
        a = clients.AdminClient(clients.base_conf(b.bootstrap) | {"socket.timeout.ms": 60000})
        # Several CreateTopics requests.
        for t in topics:
            res = clients.wait_futures(a.create_topics([NewTopic(t, num_partitions=PER_TOPIC, replication_factor=1)],
                                                       operation_timeout=60, request_timeout=60), 60)
            self.assertIsNone(res[t], f"creating {t}: {res[t]!r}")
        for t in topics:
            harness.wait_until(lambda t=t: clients._topic_ready(a, t, PER_TOPIC), 30, f"{t} in metadata")
        del a
        self.assertEqual(produce_one_each(b.bootstrap, topics), TOPICS * PER_TOPIC)
        self.check_every_partition(b, topics)
        self.assertLess(open_fds(b.pid), NOFILE)
        b.stop()
        first = len(b.log_lines())
        b.start()
        self.check_every_partition(b, topics)
        self.assertLess(open_fds(b.pid), NOFILE)
        text = b.log_text()
        self.assertNotIn("too many open files", text)
        after_restart = "\n".join(b.log_lines()[first:])
        self.assertNotIn("rebuilding damaged index", after_restart)
        b.stop()


if __name__ == "__main__":
    harness.main()
