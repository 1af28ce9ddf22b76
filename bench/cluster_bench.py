#!/usr/bin/python3
"""Strata as a cluster: replication cost and failover time, one run.

  bench/cluster_bench.py [--strata PATH] [--messages N] [--size B] [--partitions P]
                         [--rounds R] [--rate MSGS_PER_S] [--rate-messages N]
                         [--session-timeout-ms MS] [--idle-s S] [--json FILE]
  bench/cluster_bench.py --mode follower-cost [--rounds R] [--size B]
                         [--fc-rate MSGS_PER_S] [--fc-messages N] [--json FILE]

Starts a real ZooKeeper and three brokers on loopback (tests/integration/cluster.py),
and one more broker without ZooKeeper (single-node mode) as a reference; every
process is stopped by PID at the end. Then:

  idle      CPU of the three brokers over --idle-s seconds with no clients.
  produce   R rounds (the order reversed every other round) of `strata bench
            produce` (librdkafka; the cluster's bootstrap is all three brokers) to
            topics of P partitions:
              rf3:    on the cluster, replication factor 3, min.insync.replicas=2, acks=all
              rf1:    on the cluster, replication factor 1, acks=1
              single: on the single-node broker, acks=1
            each twice: N messages as fast as possible (linger 5 ms; the latency is
            then mostly queueing in the client), and --rate-messages at --rate
            msgs/s (linger 0; the latency of one request). Figures: msgs/s, produce
            latency p50/p99 (produce() call -> delivery report), and CPU of the
            brokers of the load together (utime+stime from /proc/<pid>/stat, all
            threads, 10 ms ticks) per message.
  failover  a confluent_kafka producer (acks=all, one message outstanding at a
            time, retrying) writes to an rf3 partition whose leader is not the
            controller; the leader gets SIGKILL, and the script measures the time
            from the signal to the first acknowledged message *produced after the
            signal*, and the longest time between two acks around it. The broker
            is restarted and waits to rejoin every ISR; then the same with SIGTERM
            (controlled shutdown).

--mode follower-cost: only the cluster (no single-node broker), one topic `fc` of ONE
partition, replication factor 3, min.insync.replicas=2: one broker leads it, the two
others only follow it (they fetch from the leader and append). R rounds of `strata
bench produce --acks all --rate --fc-rate --messages --fc-messages` (linger 0), and
the CPU (utime+stime) of each broker over the load, divided by the messages: the
leader's µs per message vs each follower's. The leader must stay the same in every
round (checked before and after). With --fc-trace, one more round runs under
`perf stat -e syscalls:sys_enter_*` on each broker (tracepoint counters, no ptrace)
and prints the system calls per message of the leader and of each follower (that round's CPU is not reported).

Before each throughput load a scratch file in /dev/shm as large as the data the
brokers will write (x3 for rf3) is written and deleted (--no-prefault: not), as
compare.sh does; see docs/PERFORMANCE.md, "the VM's memory".

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
ap.add_argument("--rate", type=int, default=2000, help="msgs/s of the latency loads")
ap.add_argument("--rate-messages", type=int, default=10_000, help="messages of each latency load")
ap.add_argument("--idle-s", type=float, default=5.0, help="seconds of idle CPU measured before the loads")
ap.add_argument("--no-prefault", action="store_true",
                help="do not touch and free scratch memory before each throughput load")
ap.add_argument("--rejoin-timeout", type=float, default=180,
                help="bound on a restarted broker's return to the ISRs, s")
ap.add_argument("--load-timeout", type=float, default=300, help="bound on one produce load, s")
ap.add_argument("--json", help="also write every raw figure to this file")
ap.add_argument("--mode", choices=("all", "follower-cost"), default="all",
                help="all: the produce and failover figures; follower-cost: leader vs follower CPU per message")
ap.add_argument("--fc-rate", type=int, default=5000, help="follower-cost: msgs/s of the acks=all load")
ap.add_argument("--fc-messages", type=int, default=50_000, help="follower-cost: messages per round")
ap.add_argument("--fc-trace", action="store_true",
                help="follower-cost: one more round (not in the figures) under `perf stat` on every "
                     "broker: system calls per message, leader vs followers")
args = ap.parse_args()

# harness reads STRATA_BIN when imported.
os.environ["STRATA_BIN"] = os.path.abspath(args.strata)
# Every broker's and ZooKeeper's temp dir inside one private dir (removed at the end),
# away from /tmp/strata-* names that other runs on this shared machine clean up.
import shutil  # noqa: E402
import tempfile  # noqa: E402
WORK = tempfile.mkdtemp(prefix="cluster-bench-")
tempfile.tempdir = WORK
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


def prefault(nbytes: int):
    """Touches and frees nbytes (+16 MiB) of memory in /dev/shm before a load, as
    compare.sh does: on this VM the page cache growing into never-touched guest pages
    costs about 2 ms per MiB of the brokers' system time (docs/PERFORMANCE.md, "the
    VM's memory"), which otherwise decides the CPU per message more than the load."""
    if args.no_prefault:
        return
    path = f"/dev/shm/cluster-bench-prefault.{os.getpid()}"
    chunk = b"\0" * (1 << 20)
    try:
        with open(path, "wb") as f:
            for _ in range(nbytes // len(chunk) + 16):
                f.write(chunk)
    except OSError:
        pass
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


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


def bench_produce(c, topic: str, acks: str, n: int, rate: int = 0) -> dict:
    """One `strata bench produce` load; c is the Cluster or a single harness.Broker.
    rate 0: as fast as possible (linger 5 ms); else that many msgs/s with linger 0."""
    brokers = c.brokers if isinstance(c, Cluster) else [c]
    cmd = [args.strata, "bench", "produce", "--bootstrap-server", c.bootstrap, "--topic", topic,
           "--messages", str(n), "--size", str(args.size), "--acks", acks,
           "--linger-ms", "0" if rate else "5", "--rate", str(rate),
           "--batch-size", "1048576", "--compression", "none", "--rotate", "100", "--json", "-q"]
    pids = [b.pid for b in brokers]
    if not rate:
        prefault(n * (args.size + 100) * (3 if acks == "all" else 1))
    before = [cpu_s(p) for p in pids]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.load_timeout)
    after = [cpu_s(p) for p in pids]
    if out.returncode != 0:
        raise SystemExit(f"cluster_bench: {' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    res = json.loads(out.stdout)
    if res.get("messages") != n:
        raise SystemExit(f"cluster_bench: {topic}: {res.get('messages')} of {n} messages delivered")
    cpu = [a - b for a, b in zip(after, before)]
    return {"topic": topic, "acks": acks, "rate": rate, "msgs_per_sec": res["msgs_per_sec"], "mib_per_sec": res["mib_per_sec"],
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
    state = {"t_signal": None, "first_after": None, "first_any": None, "errors": 0, "acked": 0,
             "ack_times": []}

    def on_delivery(err, msg, t_sent):
        now = time.monotonic()
        with lock:
            if err is not None:
                state["errors"] += 1
                return
            state["acked"] += 1
            ts = state["t_signal"]
            if ts is not None:
                state["ack_times"].append(now)
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
        w.join(30)
        if "t" not in exited:
            raise SystemExit(f"cluster_bench: broker {leader} did not exit within 30 s of the {how}")
        # Keep writing until 2 s after the old leader is gone (and leadership has moved
        # for a controlled shutdown), so the longest stall between acks is seen.
        end = max(exited["t"], state["t_signal"] + state["first_after"]) + 2.0
        harness.wait_until(lambda: time.monotonic() > end, 10, "2 s after the exit and the first ack")
    finally:
        stop.set()
        t.join(20)
    exit_s = exited["t"] - state["t_signal"]
    with lock:
        times = [state["t_signal"]] + [x for x in state["ack_times"] if x <= end]
    max_gap = max(b_ - a_ for a_, b_ in zip(times, times[1:])) if len(times) > 1 else None
    rc = b.stop(timeout=5, expect_rc=None)  # already exited: only reaps it
    if how == "term" and rc != 0:
        raise SystemExit(f"cluster_bench: broker {leader} exited with {rc} after SIGTERM\n" + b.log_tail(40))
    new = partition_md(c.bootstrap, topic, part)
    res = {"how": how, "partition": part, "old_leader": leader, "new_leader": new.leader if new else None,
           "controller": ctl, "first_ack_after_signal_s": state["first_after"],
           "first_ack_any_s": state["first_any"], "delivery_errors": state["errors"],
           "broker_exit_s": exit_s, "longest_ack_gap_s": max_gap,
           "acks_in_window": len(times) - 1}
    # Back to three brokers with full ISRs before anything else (after kill -9 the
    # broker recovers every log it holds first: the produce loads' data too).
    print(f"cluster_bench: failover {how}: {res}", file=sys.stderr)
    t_restart = time.monotonic()
    b.restart(same_port=True)
    res["restart_started_s"] = time.monotonic() - t_restart
    try:
        harness.wait_until(lambda: full_isr(c, topic, partitions, 3), args.rejoin_timeout,
                           f"{topic}: broker {leader} back in every ISR")
        res["restart_to_isr_s"] = time.monotonic() - t_restart
    except AssertionError as e:
        # A finding, not a reason to lose the run's figures: reported, and the run fails.
        res["restart_to_isr_s"] = None
        res["rejoin_failure"] = str(e)
        views = {x.name: [(i, (m := partition_md(x.bootstrap, topic, i)) and (m.leader, m.isrs))
                          for i in range(partitions)] for x in c.brokers if x.alive()}
        sys.stderr.write(f"cluster_bench: {e}\nmetadata (partition, (leader, ISR)) per broker: {views}\n")
        for x in c.brokers:
            sys.stderr.write(x.log_tail(40) + "\n")
    return res


def cpu_split(pid: int) -> tuple:
    """(utime, stime) of the whole process, seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


# The system calls counted by --fc-trace (exact counts from tracepoints: `perf stat`
# counts every event, where `perf trace` samples through a ring buffer that drops
# events under load), raw_syscalls:sys_enter for all of them, and page faults.
TRACED_SYSCALLS = ("read", "readv", "write", "writev", "recvfrom", "recvmsg", "sendto", "sendmsg", "sendfile64",
                   "pread64", "pwrite64", "pwritev", "epoll_wait", "epoll_pwait", "epoll_ctl", "poll", "ppoll",
                   "futex", "ioctl", "timerfd_settime", "mmap", "munmap", "madvise", "mprotect", "fdatasync",
                   "fsync", "nanosleep", "clock_nanosleep", "openat", "close", "newfstatat", "newfstat", "lseek",
                   "fallocate", "ftruncate", "getsockopt", "setsockopt", "eventfd2", "brk")


def perf_stat_counts(path: str) -> dict:
    """{syscall or "all": count} from `perf stat -x,` output."""
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) < 3 or not parts[0].isdigit():
                continue
            ev = parts[2]
            name = "all" if ev == "raw_syscalls:sys_enter" else ev.split("sys_enter_")[-1]
            out[name] = out.get(name, 0) + int(parts[0])
    return out


def traced_round(c: Cluster, leader: int) -> dict:
    """One follower-cost load with `perf stat` counting each broker's system calls;
    {broker: {syscall: calls per msg}}."""
    events = ",".join(["raw_syscalls:sys_enter", "page-faults"] + [f"syscalls:sys_enter_{x}" for x in TRACED_SYSCALLS])
    procs = {}
    for b in c.brokers:
        out = os.path.join(WORK, f"stat-{b.name}.txt")
        procs[b.name] = (subprocess.Popen(["perf", "stat", "-x,", "-o", out, "-e", events, "-p", str(b.pid)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out)
    time.sleep(1.0)  # perf attaching to every thread: no event to wait for
    res = bench_produce(c, "fc", "all", args.fc_messages, args.fc_rate)
    counts = {}
    for i, b in enumerate(c.brokers):
        p, out = procs[b.name]
        p.send_signal(signal.SIGINT)
        p.wait(20)
        counts[i + 1] = {k: v / args.fc_messages for k, v in perf_stat_counts(out).items()}
    scale = 1000 if args.fc_rate == 0 else 1  # batched loads: per 1,000 messages
    shown = {b: {k: v * scale for k, v in c_.items()} for b, c_ in counts.items()}
    print(f"\nSystem calls per {'1,000 messages' if scale > 1 else 'message'}, counted by `perf stat -e "
          f"syscalls:sys_enter_*` (one more round, {res['msgs_per_sec']:,.0f} msg/s; includes the 1 s before "
          f"the load):\n")
    names = sorted({k for per in shown.values() for k in per if k != "all"},
                   key=lambda k: -max(per.get(k, 0) for per in shown.values()))
    fol = [b for b in (1, 2, 3) if b != leader]
    print(f"| system call / event | leader ({leader}) | follower ({fol[0]}) | follower ({fol[1]}) |")
    print("| --- | ---: | ---: | ---: |")
    for k in names:
        row = [shown[b].get(k, 0) for b in [leader] + fol]
        if max(row) >= 0.01:
            print(f"| {k if k == 'page-faults' else k + '()'} | " + " | ".join(f"{x:.2f}" for x in row) + " |")
    print("| all system calls | " + " | ".join(f"{shown[b].get('all', 0):.2f}" for b in [leader] + fol) + " |")
    return counts


def follower_cost():
    """--mode follower-cost: per-broker CPU per message for a single-partition RF3 topic."""
    started = time.monotonic()
    rounds = []
    with Cluster(3, session_timeout_ms=args.session_timeout_ms) as c:
        print(f"cluster_bench: ZooKeeper {c.zk.connect_string}, brokers {c.bootstrap} "
              f"(pids {[b.pid for b in c.brokers]}), binary {args.strata}", file=sys.stderr)
        create(c, "fc", 1, 3, {"min.insync.replicas": "2"})
        bench_produce(c, "fc", "all", 1000, args.fc_rate)  # warm-up: connections, metadata, checkpoints
        pids = [b.pid for b in c.brokers]
        before = [cpu_s(p) for p in pids]
        time.sleep(args.idle_s)  # measuring idle CPU: nothing to wait for
        idle = [(cpu_s(p) - b) / args.idle_s for p, b in zip(pids, before)]  # CPU s per s, per broker
        for r in range(args.rounds):
            leader = partition_md(c.bootstrap, "fc", 0).leader
            split0 = [cpu_split(p) for p in pids]
            res = bench_produce(c, "fc", "all", args.fc_messages, args.fc_rate)
            split1 = [cpu_split(p) for p in pids]
            after = partition_md(c.bootstrap, "fc", 0)
            if after is None or after.leader != leader or len(after.isrs) != 3:
                raise SystemExit(f"cluster_bench: fc's leader or ISR changed during round {r + 1}: "
                                 f"leader {leader} -> {after and after.leader}, ISR {after and after.isrs}")
            per = {i + 1: cpu / args.fc_messages * 1e6 for i, cpu in enumerate(res["broker_cpu_s"])}
            res.update(round=r + 1, leader=leader, us_per_msg=per,
                       user_sys_us_per_msg={i + 1: [(a[0] - b_[0]) / args.fc_messages * 1e6,
                                                    (a[1] - b_[1]) / args.fc_messages * 1e6]
                                            for i, (a, b_) in enumerate(zip(split1, split0))},
                       load_s=args.fc_messages / res["msgs_per_sec"] if res["msgs_per_sec"] else None)
            rounds.append(res)
            fol = [b for b in (1, 2, 3) if b != leader]
            print(f"cluster_bench: round {r + 1}: {res['msgs_per_sec']:,.0f} msg/s, p50 {res['p50_us']:,} us; "
                  f"leader {leader} {per[leader]:.2f} us/msg, followers "
                  + ", ".join(f"{b} {per[b]:.2f}" for b in fol) + f" (CPU s {res['broker_cpu_s']})",
                  file=sys.stderr)
        trace = traced_round(c, rounds[-1]["leader"]) if args.fc_trace else None
    elapsed = time.monotonic() - started
    speed = f"at {args.fc_rate:,}/s, linger 0" if args.fc_rate else "as fast as possible, linger 5 ms"
    print(f"\n{args.rounds} round(s) of {args.fc_messages:,} x {args.size} B {speed}, acks=all, "
          f"one partition RF=3 (min.insync 2); CPU = utime+stime of each broker process over the "
          f"load / messages (10 ms ticks); {elapsed:.0f} s in all; idle CPU per broker "
          + ", ".join(f"{x * 100:.1f} %" for x in idle) + " of a core\n")
    print("| round | msgs/s | p50 µs | leader µs/msg (user+sys) | followers µs/msg (user+sys) | follower / leader |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for res in rounds:
        ld = res["leader"]
        fol = [b for b in (1, 2, 3) if b != ld]
        lead = res["us_per_msg"][ld]
        us = res["user_sys_us_per_msg"]
        print(f"| {res['round']} | {res['msgs_per_sec']:,.0f} | {res['p50_us']:,} | {lead:.1f} ({us[ld][0]:.1f}+"
              f"{us[ld][1]:.1f}, broker {ld}) | "
              + " / ".join(f"{res['us_per_msg'][b]:.1f} ({us[b][0]:.1f}+{us[b][1]:.1f})" for b in fol) + " | "
              + " / ".join(f"{res['us_per_msg'][b] / lead:.2f}" if lead else "n/a" for b in fol) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "idle_cpu_per_s": idle, "rounds": rounds, "syscalls_per_msg": trace}, f,
                      indent=1)


def main():
    if args.mode == "follower-cost":
        return follower_cost()
    rows = {}
    started = time.monotonic()
    # The reference: one broker without ZooKeeper (single-node mode), same binary, same run.
    single = harness.Broker(name="single")
    with single, Cluster(3, session_timeout_ms=args.session_timeout_ms) as c:
        print(f"cluster_bench: ZooKeeper {c.zk.connect_string}, brokers {c.bootstrap} "
              f"(pids {[b.pid for b in c.brokers]}), binary {args.strata}", file=sys.stderr)
        create(c, "rf3", args.partitions, 3, {"min.insync.replicas": "2"})
        create(c, "rf1", args.partitions, 1, {})
        create(c, "failover", 3, 3, {"min.insync.replicas": "2"})
        clients.create_topic(single.bootstrap, "single", args.partitions)
        bench_produce(single, "single", "1", args.partitions * 100)
        # Warm-up outside the figures: the first append to each partition writes its
        # leader-epoch checkpoint; connections and metadata are made once.
        for topic, acks in (("rf3", "all"), ("rf1", "1")):
            bench_produce(c, topic, acks, args.partitions * 100)
        pids = [b.pid for b in c.brokers]
        before = [cpu_s(p) for p in pids]
        time.sleep(args.idle_s)  # measuring idle CPU: nothing to wait for
        idle = sum(cpu_s(p) for p in pids) - sum(before)
        print(f"cluster_bench: idle: {idle:.2f} CPU s in {args.idle_s} s (3 brokers)", file=sys.stderr)
        loads = [("rf3", "all", 0), ("rf1", "1", 0), ("rf3", "all", args.rate), ("rf1", "1", args.rate),
                 ("single", "1", 0), ("single", "1", args.rate)]
        for r in range(args.rounds):
            for topic, acks, rate in (loads if r % 2 == 0 else loads[::-1]):
                key = topic + ("-rate" if rate else "")
                n = args.rate_messages if rate else args.messages
                res = bench_produce(single if topic == "single" else c, topic, acks, n, rate)
                res["round"] = r + 1
                rows.setdefault(key, []).append(res)
                print(f"cluster_bench: round {r + 1} {key} acks={acks}: {res['msgs_per_sec']:,.0f} msg/s, "
                      f"p50 {res['p50_us']:,} us, p99 {res['p99_us']:,} us, broker CPU {res['broker_cpu_s']} s "
                      f"({res['cpu_us_per_msg']:.2f} us/msg)", file=sys.stderr)
        fo = []
        for how in ("kill9", "term"):
            res = failover(c, "failover", 3, how)
            fo.append(res)
            if res["restart_to_isr_s"] is None:
                break  # the cluster is not back to full ISRs: the next figure would not be comparable
    elapsed = time.monotonic() - started

    med = lambda xs: statistics.median(xs)
    print(f"\n{args.rounds} round(s), order reversed every other round; {args.size} B messages, "
          f"{args.partitions} partitions; 3 brokers + ZooKeeper on loopback, and one single-node broker "
          f"(no ZooKeeper) as the reference; medians (per-round range of the ratio); {elapsed:.0f} s in all; "
          f"idle CPU of the 3 brokers: {idle / args.idle_s * 100:.1f} % of a core\n")

    def table(title, ka, kb, la, lb, rows_):
        print(f"{title}\n")
        print(f"| figure | {la} | {lb} | ratio | per round |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, key, fmt in rows_:
            a = [x[key] for x in rows[ka]]
            b = [x[key] for x in rows[kb]]
            per = sorted(x / y for x, y in zip(a, b) if y)
            spread = f"{per[0]:.2f}–{per[-1]:.2f}" if per else ""
            ratio = f"{med(a) / med(b):.2f}" if med(b) else "n/a"
            print(f"| {name} | {fmt.format(med(a))} | {fmt.format(med(b))} | {ratio} | {spread} |")
        print()

    thr = (("msgs/s", "msgs_per_sec", "{:,.0f}"), ("MiB/s", "mib_per_sec", "{:,.1f}"),
           ("produce latency p50 µs (client queueing)", "p50_us", "{:,.0f}"),
           ("produce latency p99 µs (client queueing)", "p99_us", "{:,.0f}"),
           ("CPU of the brokers, µs per message", "cpu_us_per_msg", "{:.2f}"))
    lat = (("produce latency p50 µs", "p50_us", "{:,.0f}"), ("produce latency p99 µs", "p99_us", "{:,.0f}"),
           ("CPU of the brokers, µs per message", "cpu_us_per_msg", "{:.2f}"))
    n, rn = f"{args.messages:,}", f"{args.rate_messages:,}"
    table(f"Throughput, {n} messages as fast as possible (linger 5 ms):", "rf3", "rf1",
          "RF=3 acks=all (min.insync 2)", "RF=1 acks=1", thr)
    table(f"Latency, {rn} messages at {args.rate}/s (linger 0):", "rf3-rate", "rf1-rate",
          "RF=3 acks=all (min.insync 2)", "RF=1 acks=1", lat)
    table(f"Cluster mode vs single node, RF=1 acks=1, {n} messages:", "rf1", "single",
          "3-broker cluster", "single node", thr)
    table(f"Cluster mode vs single node, RF=1 acks=1, {rn} messages at {args.rate}/s:", "rf1-rate", "single-rate",
          "3-broker cluster", "single node", lat)
    print("\n| failover (acks=all producer, one message in flight) | s |")
    print("| --- | ---: |")
    for res in fo:
        label = "kill -9 of the leader" if res["how"] == "kill9" else "SIGTERM (controlled shutdown) of the leader"
        print(f"| {label}: signal -> first ack of a message sent after it | {res['first_ack_after_signal_s']:.3f} |")
        print(f"|   (signal -> first ack of any message) | {res['first_ack_any_s']:.3f} |")
        print(f"|   longest time between two acks, from the signal to 2 s after the exit and the first ack | "
              f"{res['longest_ack_gap_s']:.3f} |")
        if res["how"] == "term":
            print(f"|   (signal -> broker exited) | {res['broker_exit_s']:.3f} |")
        isr = "NOT within --rejoin-timeout" if res["restart_to_isr_s"] is None else f"{res['restart_to_isr_s']:.1f}"
        print(f"|   restart of that broker -> started / -> back in the ISRs of the failover topic | "
              f"{res['restart_started_s']:.1f} / {isr} |")
    print(f"\nzookeeper.session.timeout.ms={args.session_timeout_ms}; failover partition leaders were not "
          f"the controller; delivery errors: {[r['delivery_errors'] for r in fo]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "idle_cpu_s": idle, "produce": rows, "failover": fo}, f, indent=1)
    if any(r["restart_to_isr_s"] is None for r in fo):
        print("cluster_bench: a restarted broker did not rejoin the ISR (see above)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
