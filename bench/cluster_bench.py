#!/usr/bin/python3
"""Strata as a cluster: replication cost and failover time, one run.

  bench/cluster_bench.py [--strata PATH] [--messages N] [--size B] [--partitions P]
                         [--rounds R] [--session-timeout-ms MS] [--json FILE]

Starts a real ZooKeeper and three brokers on loopback (tests/integration/cluster.py,
every process stopped by PID at the end), then:

  produce   R rounds, alternating (order rotated each round), of the same load
            (`strata bench produce`, librdkafka, bootstrap = all three brokers) to
            two topics of P partitions on the same cluster:
              rf3: replication factor 3, min.insync.replicas=2, acks=all
              rf1: replication factor 1, acks=1
            Figures: msgs/s, produce latency p99 (produce() call -> delivery
            report), and CPU of the three brokers together (utime+stime from
            /proc/<pid>/stat, all threads, 10 ms ticks) per message.
  failover  a confluent_kafka producer (acks=all, one message outstanding at a
            time, retrying) writes to an rf3 partition whose leader is not the
            controller; its leader is killed with SIGKILL, and the time from the
            signal to the first acknowledged message *produced after the signal*
            is measured. The killed broker is restarted and waits to rejoin every
            ISR; then the same with SIGTERM (controlled shutdown).

Prints a table (and, with --json, writes the raw figures). Every phase is bounded
in time; a bound that expires fails the run (exit 1) rather than printing a figure.
The machine is shared: compare the figures of one run as ratios (docs/PERFORMANCE.md).
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--strata", default=os.path.join(ROOT, "build", "strata"))
ap.add_argument("--messages", type=int, default=200_000)
ap.add_argument("--size", type=int, default=1024)
ap.add_argument("--partitions", type=int, default=6)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--session-timeout-ms", type=int, default=6000,
                help="zookeeper.session.timeout.ms of the brokers (tests/integration/cluster.py's default)")
ap.add_argument("--load-timeout", type=float, default=300, help="bound on one produce load, s")
ap.add_argument("--json", help="also write every raw figure to this file")
args = ap.parse_args()

# harness reads STRATA_BIN when imported.
os.environ["STRATA_BIN"] = os.path.abspath(args.strata)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import clients  # noqa: E402
import harness  # noqa: E402
from cluster import Cluster  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import NewTopic  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """utime + stime of the whole process (every thread, living or exited), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # fields 14 and 15 of proc(5)


def partition_md(bootstrap: str, topic: str, partition: int):
    md = clients.admin(bootstrap).list_topics(topic=topic, timeout=5).topics.get(topic)
    if md is None or md.error is not None or partition not in md.partitions:
        return None
    return md.partitions[partition]


def full_isr(c: Cluster, topic: str, partitions: int, rf: int) -> bool:
    for b in c.brokers:
        if not b.alive():
            continue
        for i in range(partitions):
            p = partition_md(b.bootstrap, topic, i)
            if p is None or p.leader < 0 or len(p.isrs) != rf:
                return False
    return True


def create(c: Cluster, topic: str, partitions: int, rf: int, config: dict):
    a = clients.admin(c.bootstrap)
    res = clients.wait_futures(a.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=rf,
                                                         config=config)], operation_timeout=30,
                                               request_timeout=30), 40)
    if res[topic] is not None:
        raise SystemExit(f"cluster_bench: creating {topic}: {res[topic]!r}")
    harness.wait_until(lambda: full_isr(c, topic, partitions, rf), 30, f"{topic}: led, full ISR on every broker")


def bench_produce(c: Cluster, topic: str, acks: str, n: int) -> dict:
    cmd = [args.strata, "bench", "produce", "--bootstrap-server", c.bootstrap, "--topic", topic,
           "--messages", str(n), "--size", str(args.size), "--acks", acks, "--linger-ms", "5",
           "--batch-size", "1048576", "--compression", "none", "--rotate", "100", "--json", "-q"]
    pids = [b.pid for b in c.brokers]
    before = [cpu_s(p) for p in pids]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.load_timeout)
    after = [cpu_s(p) for p in pids]
    if out.returncode != 0:
        raise SystemExit(f"cluster_bench: {' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    res = json.loads(out.stdout)
    if res.get("messages") != n:
        raise SystemExit(f"cluster_bench: {topic}: {res.get('messages')} of {n} messages delivered")
    cpu = [a - b for a, b in zip(after, before)]
    return {"topic": topic, "acks": acks, "msgs_per_sec": res["msgs_per_sec"], "mib_per_sec": res["mib_per_sec"],
            "p50_us": res["latency_us"]["p50"], "p99_us": res["latency_us"]["p99"],
            "broker_cpu_s": [round(x, 3) for x in cpu], "cpu_us_per_msg": sum(cpu) / n * 1e6,
            "command": " ".join(cmd)}


def controller_id(c: Cluster) -> int:
    return clients.admin(c.bootstrap).list_topics(timeout=5).controller_id


def failover(c: Cluster, topic: str, partitions: int, how: str) -> dict:
    """Kills (how="kill9") or stops (how="term") the leader of a partition not led by the
    controller while a producer writes to it; returns the seconds from the signal to the
    first acknowledged message produced after it."""
    ctl = controller_id(c)
    part, leader = None, None
    for i in range(partitions):
        p = partition_md(c.bootstrap, topic, i)
        if p is not None and p.leader >= 0 and p.leader != ctl:
            part, leader = i, p.leader
            break
    if part is None:
        raise SystemExit(f"cluster_bench: every partition of {topic} is led by the controller {ctl}")
    prod = Producer(clients.base_conf(c.bootstrap) | {"acks": "all", "linger.ms": 0,
                                                      "message.timeout.ms": 60000, "retries": 1_000_000})
    lock = threading.Lock()
    state = {"t_signal": None, "first_after": None, "first_any": None, "errors": 0, "acked": 0}

    def on_delivery(err, msg, t_sent):
        now = time.monotonic()
        with lock:
            if err is not None:
                state["errors"] += 1
                return
            state["acked"] += 1
            ts = state["t_signal"]
            if ts is not None:
                if state["first_any"] is None:
                    state["first_any"] = now - ts
                if t_sent > ts and state["first_after"] is None:
                    state["first_after"] = now - ts

    stop = threading.Event()

    def run():
        i = 0
        while not stop.is_set():
            t_sent = time.monotonic()
            prod.produce(topic, value=b"f%08d" % i, partition=part,
                         on_delivery=lambda err, msg, t=t_sent: on_delivery(err, msg, t))
            i += 1
            # One message outstanding at a time: wait for its report.
            while len(prod) > 0 and not stop.is_set():
                prod.poll(0.01)
        prod.flush(10)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    harness.wait_until(lambda: state["acked"] >= 200, 30, f"{topic}: 200 acks before the {how}")
    b = c.broker(leader)
    exited = {}

    def watch():  # when the broker process ends (its reaping is left to harness)
        try:
            os.waitid(os.P_PID, b.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            pass
        exited["t"] = time.monotonic()

    w = threading.Thread(target=watch, daemon=True)
    with lock:
        state["t_signal"] = time.monotonic()
    os.kill(b.pid, signal.SIGKILL if how == "kill9" else signal.SIGTERM)
    w.start()
    try:
        harness.wait_until(lambda: state["first_after"] is not None, 60, f"an ack after the {how}", interval=0.005)
    finally:
        stop.set()
        t.join(20)
    w.join(30)
    if "t" not in exited:
        raise SystemExit(f"cluster_bench: broker {leader} did not exit within 30 s of the {how}")
    exit_s = exited["t"] - state["t_signal"]
    rc = b.stop(timeout=5, expect_rc=None)  # already exited: only reaps it
    if how == "term" and rc != 0:
        raise SystemExit(f"cluster_bench: broker {leader} exited with {rc} after SIGTERM\n" + b.log_tail(40))
    new = partition_md(c.bootstrap, topic, part)
    res = {"how": how, "partition": part, "old_leader": leader, "new_leader": new.leader if new else None,
           "controller": ctl, "first_ack_after_signal_s": state["first_after"],
           "first_ack_any_s": state["first_any"], "delivery_errors": state["errors"],
           "broker_exit_s": exit_s}
    # Back to three brokers with full ISRs before anything else.
    b.restart(same_port=True)
    harness.wait_until(lambda: full_isr(c, topic, partitions, 3), 60, f"{topic}: broker {leader} back in every ISR")
    return res


def main():
    rows = {"rf3": [], "rf1": []}
    started = time.monotonic()
    with Cluster(3, session_timeout_ms=args.session_timeout_ms) as c:
        print(f"cluster_bench: ZooKeeper {c.zk.connect_string}, brokers {c.bootstrap} "
              f"(pids {[b.pid for b in c.brokers]}), binary {args.strata}", file=sys.stderr)
        create(c, "rf3", args.partitions, 3, {"min.insync.replicas": "2"})
        create(c, "rf1", args.partitions, 1, {})
        create(c, "failover", 3, 3, {"min.insync.replicas": "2"})
        # Warm-up outside the figures: the first append to each partition writes its
        # leader-epoch checkpoint; connections and metadata are made once.
        for topic, acks in (("rf3", "all"), ("rf1", "1")):
            bench_produce(c, topic, acks, args.partitions * 100)
        loads = [("rf3", "all"), ("rf1", "1")]
        for r in range(args.rounds):
            for topic, acks in (loads if r % 2 == 0 else loads[::-1]):
                res = bench_produce(c, topic, acks, args.messages)
                res["round"] = r + 1
                rows[topic].append(res)
                print(f"cluster_bench: round {r + 1} {topic} acks={acks}: {res['msgs_per_sec']:,.0f} msg/s, "
                      f"p99 {res['p99_us']:,} us, broker CPU {res['broker_cpu_s']} s "
                      f"({res['cpu_us_per_msg']:.2f} us/msg)", file=sys.stderr)
        fo = []
        for how in ("kill9", "term"):
            res = failover(c, "failover", 3, how)
            fo.append(res)
            print(f"cluster_bench: failover {how}: {res}", file=sys.stderr)
    elapsed = time.monotonic() - started

    med = lambda xs: statistics.median(xs)
    print(f"\n{args.rounds} round(s) of {args.messages:,} x {args.size} B, {args.partitions} partitions, "
          f"3 brokers + ZooKeeper on loopback; medians (per-round range); {elapsed:.0f} s in all\n")
    print("| figure | RF=3 acks=all (min.insync 2) | RF=1 acks=1 | ratio rf3/rf1 | per round |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, key, fmt in (("msgs/s", "msgs_per_sec", "{:,.0f}"), ("MiB/s", "mib_per_sec", "{:,.1f}"),
                           ("produce latency p50 µs", "p50_us", "{:,.0f}"),
                           ("produce latency p99 µs", "p99_us", "{:,.0f}"),
                           ("CPU of the 3 brokers, µs per message", "cpu_us_per_msg", "{:.2f}")):
        a = [x[key] for x in rows["rf3"]]
        b = [x[key] for x in rows["rf1"]]
        per = sorted(x / y for x, y in zip(a, b) if y)
        spread = f"{per[0]:.2f}–{per[-1]:.2f}" if per else ""
        ratio = f"{med(a) / med(b):.2f}" if med(b) else "n/a"
        print(f"| {name} | {fmt.format(med(a))} | {fmt.format(med(b))} | {ratio} | {spread} |")
    print("\n| failover (acks=all producer, one message in flight) | s |")
    print("| --- | ---: |")
    for res in fo:
        label = "kill -9 of the leader" if res["how"] == "kill9" else "SIGTERM (controlled shutdown) of the leader"
        print(f"| {label}: signal -> first ack of a message sent after it | {res['first_ack_after_signal_s']:.3f} |")
        print(f"|   (signal -> first ack of any message) | {res['first_ack_any_s']:.3f} |")
        if res["how"] == "term":
            print(f"|   (signal -> broker exited) | {res['broker_exit_s']:.3f} |")
    print(f"\nzookeeper.session.timeout.ms={args.session_timeout_ms}; failover partition leaders were not "
          f"the controller; delivery errors: {[r['delivery_errors'] for r in fo]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "produce": rows, "failover": fo}, f, indent=1)


if __name__ == "__main__":
    main()
