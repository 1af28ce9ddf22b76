#!/usr/bin/python3
"""Moving partitions onto a new broker, unthrottled: time and MiB/s against the disk
and loopback speeds of the same run, and client latency during the move vs before it
(issue 16).

  bench/move_bench.py [--strata PATH] [--gib G] [--partitions P] [--rf R] [--size B]
                      [--rate MSGS_PER_S] [--lat-duration S] [--progress-ms MS]
                      [--move-timeout S] [--throttle BYTES_PER_S] [--no-sync] [--no-prefault]
                      [--json FILE]

Starts a real ZooKeeper and three brokers on loopback (tests/integration/cluster.py,
auto.leader.rebalance.enable=false); every process is stopped by PID at the end. Then:

  fill      topic `bulk`, P partitions (8), replication factor R (2), filled with
            `strata bench produce --acks 1 --size 16384 --linger-ms 5 --rotate 64`
            (every partition the same share) so that the move copies --gib GiB: a
            rebalance from 3 to 4 brokers puts P*R/4 of the P*R replicas on the new
            broker, so the fill is G*4/R GiB (2 GiB for the default). Waits until every
            replica's log files are as large as its leader's.
  sync      sync(2) after the fill and again just before the move (timed; --no-sync: not),
            so neither the references nor the move run behind the fill's writeback (the
            kernel throttles every writer once dirty pages pass dirty_ratio).
  disk      writes as many bytes as the move will copy to a file in the brokers' data
            filesystem (1 MiB writes, one fdatasync at the end), MiB/s to the last
            write returning (page cache) and to the end of the fdatasync (device); the
            file is deleted; then the same with O_DIRECT (1 MiB aligned writes, no page
            cache: the device's own speed).
  loopback  a TCP transfer of as many bytes over 127.0.0.1 between this process
            (sendall of a 1 MiB buffer) and a second python3 process (recv_into a 1 MiB
            buffer; kernel socket buffers autotuned), MiB/s from the first send to the
            receiver's acknowledgement of the last byte.
  before    `strata bench produce --acks all --rate 2000 --duration 10 --size 100
            --linger-ms 0` on topic `lat` (6 partitions, RF 3, min.insync.replicas 2):
            p50/p99/max of the whole load (its --json summary) and of each second (its
            progress lines).
  move      broker 4 is added (Cluster.add_broker()); the same latency load starts
            (with --duration = --move-timeout + 60; it is killed by PID once the move is
            over: the tool prints no summary on a signal, so the "during" figures come from
            its per-second progress lines, p50/p99/max of each second, taking every second
            that overlaps the move, with the share of it inside the move), and right after
            its second progress line `strata cluster rebalance --topics bulk --execute
            --keep-leaders --progress-ms 1000` moves replicas onto broker 4, unthrottled
            (--throttle: with the rebalance's --throttle).
            This script polls the metadata every 0.02 s: the move time runs from launching
            the command (its planning included; the same command without --execute is
            timed too) to every new replica being in its partition's ISR; MiB/s = the
            plan's bytes to copy / that time. Broker CPU (utime+stime, /proc) and the
            machine's CPU (/proc/stat: busy, steal, iowait) over the move are reported.

Prints a table (and, with --json, writes the raw figures). Every phase is bounded in
time; a bound that expires fails the run (exit 1) rather than printing a figure. The
machine is shared: read the figures as ratios within one run (docs/PERFORMANCE.md).
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MiB = 1 << 20

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--strata", default=os.path.join(ROOT, "build", "strata"))
ap.add_argument("--gib", type=float, default=1.0, help="GiB the move copies onto the new broker (the fill is G*4/R)")
ap.add_argument("--partitions", type=int, default=8, help="partitions of the moved topic")
ap.add_argument("--rf", type=int, default=2, help="replication factor of the moved topic")
ap.add_argument("--size", type=int, default=16384, help="message size of the fill")
ap.add_argument("--rate", type=int, default=2000, help="msgs/s of the latency load")
ap.add_argument("--lat-duration", type=float, default=10, help="seconds of the latency load before the move")
ap.add_argument("--throttle", type=int, default=0,
                help="bytes/s passed to the rebalance's --throttle (0: unthrottled, the issue's figure)")
ap.add_argument("--progress-ms", type=int, default=1000, help="the rebalance command's --progress-ms")
ap.add_argument("--fill-timeout", type=float, default=600, help="bound on the fill and its replication, s")
ap.add_argument("--ref-timeout", type=float, default=120, help="bound on each reference transfer, s")
ap.add_argument("--move-timeout", type=float, default=600, help="bound on the move, s")
ap.add_argument("--no-sync", action="store_true",
                help="do not sync(2) the dirty page cache after the fill and before the move (the references "
                     "and the move then run behind the fill's writeback)")
ap.add_argument("--sync-timeout", type=float, default=300, help="bound on each sync(2), s")
ap.add_argument("--no-prefault", action="store_true",
                help="do not touch and free scratch memory before the fill and the move")
ap.add_argument("--json", help="also write every raw figure to this file")
args = ap.parse_args()

os.environ["STRATA_BIN"] = os.path.abspath(args.strata)  # read by harness on import
# Every broker's and ZooKeeper's temp dir (and the disk reference file) inside one private
# dir, removed at the end.
WORK = tempfile.mkdtemp(prefix="move-bench-")
tempfile.tempdir = WORK
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import clients  # noqa: E402
import harness  # noqa: E402
from cluster import Cluster  # noqa: E402
from confluent_kafka.admin import NewTopic  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
CHILDREN: list[subprocess.Popen] = []  # every process this script starts itself (not the harness's)


def log(msg: str):
    print(f"move_bench: [{time.strftime('%H:%M:%S', time.gmtime())}] {msg}", file=sys.stderr, flush=True)


def fail(msg: str):
    raise SystemExit(f"move_bench: {msg}")


def cpu_s(pid: int) -> float:
    return sum(cpu_split(pid))


def cpu_split(pid: int) -> tuple:
    """(utime, stime) of the whole process, seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def dirty_mib() -> float:
    """Dirty + Writeback of /proc/meminfo, MiB."""
    n = 0
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            if k in ("Dirty", "Writeback"):
                n += int(v.split()[0])
    return n / 1024


def sync_all(what: str) -> dict:
    """sync(2), bounded: the page cache's dirty data written back before the next phase."""
    before = dirty_mib()
    if args.no_sync:
        return {"skipped": True, "dirty_mib": round(before, 1)}
    t = threading.Thread(target=os.sync, daemon=True)
    t0 = time.monotonic()
    t.start()
    t.join(args.sync_timeout)
    if t.is_alive():
        fail(f"sync(2) {what}: not done within {args.sync_timeout} s ({dirty_mib():.0f} MiB still dirty)")
    s = time.monotonic() - t0
    log(f"sync {what}: {before:.0f} MiB dirty, written back in {s:.1f} s")
    return {"dirty_mib": round(before, 1), "s": s}


def machine_cpu() -> dict:
    """Jiffies of the whole machine from /proc/stat's cpu line."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    return {"busy": user + nice + system + irq + softirq, "iowait": iowait, "steal": steal,
            "total": sum(v[:8])}


def prefault(nbytes: int):
    """As cluster_bench.py: touch and free nbytes (+16 MiB) in /dev/shm, so the page cache
    the brokers fill next grows into guest pages already touched (docs/PERFORMANCE.md)."""
    if args.no_prefault:
        return
    path = f"/dev/shm/move-bench-prefault.{os.getpid()}"
    chunk = b"\0" * MiB
    try:
        with open(path, "wb") as f:
            for _ in range(nbytes // MiB + 16):
                f.write(chunk)
    except OSError:
        pass
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def topic_md(bootstrap: str, topic: str):
    md = clients.admin(bootstrap).list_topics(topic=topic, timeout=5).topics.get(topic)
    return None if md is None or md.error is not None else md


def full_isr(c: Cluster, topic: str, partitions: int, rf: int) -> bool:
    for b in c.brokers:
        md = topic_md(b.bootstrap, topic)
        if md is None or len(md.partitions) != partitions:
            return False
        if any(p.leader < 0 or len(p.isrs) != rf for p in md.partitions.values()):
            return False
    return True


def create(c: Cluster, topic: str, partitions: int, rf: int, config: dict):
    a = clients.admin(c.bootstrap)
    res = clients.wait_futures(a.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=rf,
                                                         config=config)], operation_timeout=30,
                                               request_timeout=30), 40)
    if res[topic] is not None:
        fail(f"creating {topic}: {res[topic]!r}")
    harness.wait_until(lambda: full_isr(c, topic, partitions, rf), 30, f"{topic}: led, full ISR on every broker")


def log_bytes(b, topic: str) -> dict:
    """{partition: bytes of its *.log segment files} in broker b's data dirs."""
    out = {}
    for d in b.log_dirs:
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            m = re.fullmatch(re.escape(topic) + r"-(\d+)", name)
            if not m:
                continue
            pdir = os.path.join(d, name)
            total = 0
            for f in os.listdir(pdir):
                if f.endswith(".log"):
                    try:
                        total += os.path.getsize(os.path.join(pdir, f))
                    except OSError:
                        pass
            out[int(m.group(1))] = out.get(int(m.group(1)), 0) + total
    return out


def replicated(c: Cluster, topic: str) -> bool:
    """Every replica's log files as large as the others' (followers caught up)."""
    per = {}
    for b in c.brokers:
        for p, n in log_bytes(b, topic).items():
            per.setdefault(p, []).append(n)
    return bool(per) and all(len(set(v)) == 1 and v[0] > 0 for v in per.values())


def run_checked(cmd: list, timeout: float, what: str) -> subprocess.CompletedProcess:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"{what}: not done within {timeout:.0f} s: {' '.join(cmd)}")
    if out.returncode != 0:
        fail(f"{what}: {' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out


# ---- reference speeds ---------------------------------------------------------------

def disk_reference(path: str, nbytes: int) -> dict:
    buf = os.urandom(MiB)
    deadline = time.monotonic() + args.ref_timeout
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        t0 = time.monotonic()
        written = 0
        while written < nbytes:
            written += os.write(fd, buf[:min(MiB, nbytes - written)])
            if time.monotonic() > deadline:
                fail(f"disk reference: {written / MiB:.0f} of {nbytes / MiB:.0f} MiB written in {args.ref_timeout} s")
        t_written = time.monotonic() - t0
        os.fdatasync(fd)
        t_synced = time.monotonic() - t0
    finally:
        os.close(fd)
        os.unlink(path)
    if t_synced > args.ref_timeout:
        fail(f"disk reference: fdatasync ended after {t_synced:.0f} s (bound {args.ref_timeout} s)")
    return {"bytes": nbytes, "write_s": t_written, "write_fdatasync_s": t_synced,
            "page_cache_mib_per_s": nbytes / MiB / t_written, "mib_per_s": nbytes / MiB / t_synced,
            "how": f"1 MiB os.write() x {nbytes // MiB} to {path}, one fdatasync, unlink"}


def direct_reference(path: str, nbytes: int) -> dict:
    """The same bytes with O_DIRECT (no page cache): the device's write speed."""
    import mmap
    buf = mmap.mmap(-1, MiB)  # page-aligned, as O_DIRECT needs
    buf.write(os.urandom(MiB))
    deadline = time.monotonic() + args.ref_timeout
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o600)
    try:
        t0 = time.monotonic()
        written = 0
        while written < nbytes:
            written += os.write(fd, buf)
            if time.monotonic() > deadline:
                fail(f"O_DIRECT reference: {written / MiB:.0f} of {nbytes / MiB:.0f} MiB in {args.ref_timeout} s")
        os.fdatasync(fd)
        t = time.monotonic() - t0
    finally:
        os.close(fd)
        os.unlink(path)
        buf.close()
    return {"bytes": written, "s": t, "mib_per_s": written / MiB / t,
            "how": f"1 MiB O_DIRECT os.write() x {written // MiB} to {path}, one fdatasync, unlink"}


RECEIVER = r"""
import socket, sys
n, timeout = int(sys.argv[1]), float(sys.argv[2])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
print(ls.getsockname()[1], flush=True)
ls.settimeout(timeout)
s, _ = ls.accept()
s.settimeout(timeout)
buf = memoryview(bytearray(1 << 20))
got = 0
while got < n:
    k = s.recv_into(buf)
    if not k:
        break
    got += k
s.sendall(b"k" if got == n else b"x")
s.close()
print(got, flush=True)
"""


def loopback_reference(nbytes: int) -> dict:
    import socket
    p = subprocess.Popen(["/usr/bin/python3", "-c", RECEIVER, str(nbytes), str(args.ref_timeout)],
                         stdout=subprocess.PIPE, text=True)
    CHILDREN.append(p)
    try:
        port = int(p.stdout.readline())
        s = socket.create_connection(("127.0.0.1", port), timeout=args.ref_timeout)
        buf = memoryview(os.urandom(MiB))
        deadline = time.monotonic() + args.ref_timeout
        t0 = time.monotonic()
        sent = 0
        while sent < nbytes:
            k = min(MiB, nbytes - sent)
            s.sendall(buf[:k])
            sent += k
            if time.monotonic() > deadline:
                fail(f"loopback reference: {sent / MiB:.0f} MiB sent in {args.ref_timeout} s")
        ack = s.recv(1)
        t = time.monotonic() - t0
        s.close()
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if ack != b"k":
        fail(f"loopback reference: receiver answered {ack!r}")
    return {"bytes": nbytes, "s": t, "mib_per_s": nbytes / MiB / t,
            "how": "python3 socket.sendall(1 MiB) -> another python3 process's recv_into(1 MiB) over 127.0.0.1 "
                   "(kernel buffers autotuned), first send to the receiver's 1-byte ack"}


# ---- latency load ---------------------------------------------------------------------

UNIT = {"µs": 1, "ms": 1e3, "s": 1e6}
PROGRESS = re.compile(r"produce\s+([\d.]+) s .*p50 ([\d.]+) (µs|ms|s)\s+p99 ([\d.]+) (µs|ms|s)\s+max ([\d.]+) (µs|ms|s)")


class LatencyLoad:
    """`strata bench produce` at a fixed rate, acks=all, linger 0; its per-second progress
    lines (stderr) are kept with the time each arrived."""

    def __init__(self, c: Cluster, duration: float):
        self.cmd = [args.strata, "bench", "produce", "--bootstrap-server", c.bootstrap, "--topic", "lat",
                    "--acks", "all", "--rate", str(args.rate), "--duration", str(duration), "--messages", "0",
                    "--size", "100", "--linger-ms", "0", "--compression", "none", "--json"]
        self.lines = []  # (arrival monotonic, t since start, interval s, p50 µs, p99 µs, max µs, raw line)
        self.stdout = ""
        self.p = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        CHILDREN.append(self.p)
        self.errors = []
        self._t_err = threading.Thread(target=self._read_err, daemon=True)
        self._t_out = threading.Thread(target=self._read_out, daemon=True)
        self._t_err.start()
        self._t_out.start()

    def _read_err(self):
        prev_t = 0.0
        for line in self.p.stderr:
            now = time.monotonic()
            m = PROGRESS.search(line)
            if m:
                t = float(m.group(1))
                self.lines.append((now, t, t - prev_t, float(m.group(2)) * UNIT[m.group(3)],
                                   float(m.group(4)) * UNIT[m.group(5)], float(m.group(6)) * UNIT[m.group(7)],
                                   line.rstrip()))
                prev_t = t
            elif "error" in line.lower() and len(self.errors) < 20:
                self.errors.append(line.rstrip())

    def _read_out(self):
        self.stdout = self.p.stdout.read()

    def wait(self, timeout: float) -> dict:
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            fail(f"latency load not done within {timeout:.0f} s")
        self._t_out.join(10)
        self._t_err.join(10)
        if self.p.returncode != 0:
            fail(f"{' '.join(self.cmd)} failed ({self.p.returncode}): {self.errors}")
        return json.loads(self.stdout)

    def kill(self):
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGKILL)
        self.p.wait(timeout=10)
        self._t_err.join(10)


def per_second(lines: list, t_from: float = None, t_to: float = None) -> dict:
    """Statistics of the progress intervals (about 1 s each, ending when the line arrived)
    that overlap [t_from, t_to] (monotonic; None: every interval), and the share of each
    interval that lies inside it."""
    sel = [x for x in lines if (t_from is None or x[0] > t_from) and (t_to is None or x[0] - x[2] < t_to)]
    if not sel:
        return {"intervals": 0}
    p50 = [x[3] for x in sel]
    p99 = [x[4] for x in sel]
    mx = [x[5] for x in sel]
    cover = [(min(x[0], t_to) - max(x[0] - x[2], t_from)) / x[2] if t_from is not None and x[2] > 0 else 1.0
             for x in sel]
    return {"intervals": len(sel), "p50_median_us": round(statistics.median(p50)),
            "p99_median_us": round(statistics.median(p99)), "p99_worst_us": round(max(p99)),
            "max_us": round(max(mx)), "share_inside": [round(c, 2) for c in cover], "lines": [x[6] for x in sel]}


# ---- the move ---------------------------------------------------------------------------

class MetadataPoller:
    """Every 0.02 s: when a new replica first shows in a moved partition, and when every
    new replica is in its partition's ISR."""

    def __init__(self, bootstrap: str, topic: str, adding: dict, targets: dict):
        self.a = clients.admin(bootstrap)
        self.topic = topic
        self.adding = adding  # {partition: set of new replica ids}
        self.targets = targets  # {partition: set of replica ids after the move}
        self.t_first = None
        self.t_isr = None
        self.t_done = None  # the old replicas gone too (replicas == target)
        self.stop = threading.Event()
        self.polls = 0
        self.errors = 0
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                md = self.a.list_topics(topic=self.topic, timeout=5).topics.get(self.topic)
                now = time.monotonic()
                self.polls += 1
                if md is not None and md.error is None:
                    seen = in_isr = done = True
                    for p, new in self.adding.items():
                        pm = md.partitions.get(p)
                        if pm is None:
                            seen = in_isr = done = False
                            continue
                        if not new <= set(pm.replicas):
                            seen = False
                        if not new <= set(pm.isrs):
                            in_isr = False
                        if set(pm.replicas) != self.targets.get(p, set()):
                            done = False
                    any_seen = any(new & set(md.partitions[p].replicas) for p, new in self.adding.items()
                                   if p in md.partitions)
                    if any_seen and self.t_first is None:
                        self.t_first = now
                    if seen and in_isr and self.t_first is not None and self.t_isr is None:
                        self.t_isr = now
                    if done and self.t_isr is not None and self.t_done is None:
                        self.t_done = now
            except Exception:  # a poll that failed is retried at the next tick
                self.errors += 1
            self.stop.wait(0.02)


def main():
    started = time.monotonic()
    res = {"args": vars(args), "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
           "binary": os.path.abspath(args.strata),
           "binary_mtime_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(os.path.getmtime(args.strata))),
           "loadavg_start": os.getloadavg()}
    move_bytes_target = int(args.gib * (1 << 30))
    fill_bytes = move_bytes_target * 4 // args.rf
    rotate = 64
    per_cycle = args.partitions * rotate
    n_msgs = -(-fill_bytes // args.size // per_cycle) * per_cycle
    res["fill"] = {"messages": n_msgs, "bytes": n_msgs * args.size}
    overrides = {"auto.leader.rebalance.enable": "false"}
    with Cluster(3, overrides=overrides) as c:
        log(f"ZooKeeper {c.zk.connect_string}, brokers {c.bootstrap} (pids {[b.pid for b in c.brokers]}), "
            f"binary {args.strata}, work dir {WORK}")
        create(c, "bulk", args.partitions, args.rf, {})
        create(c, "lat", 6, 3, {"min.insync.replicas": "2"})

        # -- fill
        prefault(n_msgs * args.size * args.rf)
        cmd = [args.strata, "bench", "produce", "--bootstrap-server", c.bootstrap, "--topic", "bulk",
               "--messages", str(n_msgs), "--size", str(args.size), "--acks", "1", "--linger-ms", "5",
               "--batch-size", "1048576", "--compression", "none", "--rotate", str(rotate), "--json", "-q"]
        log(f"fill: {n_msgs:,} x {args.size} B = {n_msgs * args.size / MiB:,.0f} MiB into bulk "
            f"({args.partitions} partitions, RF {args.rf})")
        t0 = time.monotonic()
        out = run_checked(cmd, args.fill_timeout, "fill")
        fill = json.loads(out.stdout)
        if fill.get("messages") != n_msgs:
            fail(f"fill: {fill.get('messages')} of {n_msgs} messages delivered")
        harness.wait_until(lambda: replicated(c, "bulk"), max(10.0, args.fill_timeout - (time.monotonic() - t0)),
                           "bulk: every replica's log as large as the others'", interval=0.5)
        res["fill"].update(command=" ".join(cmd), mib_per_s=fill["mib_per_sec"], s=time.monotonic() - t0,
                           log_bytes={b.name: log_bytes(b, "bulk") for b in c.brokers})
        log(f"fill: {fill['mib_per_sec']:.0f} MiB/s; replicated after {res['fill']['s']:.1f} s")

        res["sync_after_fill"] = sync_all("after the fill")

        # -- reference speeds (as many bytes as the move copies)
        data_fs = os.stat(c.brokers[0].data_dir).st_dev
        ref_path = os.path.join(WORK, "disk-reference.bin")
        if os.stat(WORK).st_dev != data_fs:
            fail("the reference file would not be on the brokers' data filesystem")
        prefault(move_bytes_target)
        dirty0 = dirty_mib()
        res["disk"] = disk_reference(ref_path, move_bytes_target)
        res["disk"]["dirty_mib_before"] = round(dirty0, 1)
        res["disk_direct"] = direct_reference(ref_path, move_bytes_target)
        log(f"disk, O_DIRECT: {res['disk_direct']['mib_per_s']:.0f} MiB/s")
        log(f"disk: {res['disk']['page_cache_mib_per_s']:.0f} MiB/s to the page cache, "
            f"{res['disk']['mib_per_s']:.0f} MiB/s with fdatasync")
        res["loopback"] = loopback_reference(move_bytes_target)
        log(f"loopback: {res['loopback']['mib_per_s']:.0f} MiB/s")

        # -- latency before the move
        lat = LatencyLoad(c, args.lat_duration)
        res["before"] = {"command": " ".join(lat.cmd), "summary": lat.wait(args.lat_duration + 90)}
        res["before"]["per_second"] = per_second(lat.lines)
        s = res["before"]["summary"]["latency_us"]
        log(f"before: p50 {s['p50']} us, p99 {s['p99']} us, max {s['max']} us")

        # -- broker 4 and the move
        b4 = c.add_broker()
        log(f"broker 4 started (pid {b4.pid})")
        base = [args.strata, "cluster", "rebalance", "--bootstrap-server", c.bootstrap, "--topics", "bulk",
                "--keep-leaders"]
        t_plan = time.monotonic()
        plan = json.loads(run_checked(base + ["--output", "json"], 60, "rebalance plan").stdout)
        plan_s = time.monotonic() - t_plan
        adding, targets = {}, {}
        for entry in plan["plan"]["partitions"]:
            adding[entry["partition"]] = set(entry["replicas"])
        md = topic_md(c.bootstrap, "bulk")
        for p in list(adding):
            targets[p] = adding[p]
            adding[p] = adding[p] - set(md.partitions[p].replicas)
            if not adding[p]:
                del adding[p]
        res["plan"] = {"bytes_to_copy": plan["bytes_to_copy"], "replicas_to_copy": plan["replicas_to_copy"],
                       "brokers": plan["brokers"], "new_replicas": {p: sorted(v) for p, v in adding.items()}}
        if not adding or plan["bytes_to_copy"] <= 0:
            fail(f"the rebalance plan copies nothing: {plan}")
        log(f"plan: {plan['replicas_to_copy']} replica(s), {plan['bytes_to_copy'] / MiB:.1f} MiB to copy; "
            f"new replicas {res['plan']['new_replicas']}")
        prefault(plan["bytes_to_copy"])
        res["sync_before_move"] = sync_all("before the move")

        lat = LatencyLoad(c, args.move_timeout + 60)
        harness.wait_until(lambda: len(lat.lines) >= 2, 30, "the latency load's first progress lines")
        # Launch the move just after a progress line, so a short move falls mostly in one interval.
        n_lines = len(lat.lines)
        harness.wait_until(lambda: len(lat.lines) > n_lines, 5, "the latency load's next progress line",
                           interval=0.002)
        poller = MetadataPoller(c.bootstrap, "bulk", adding, targets)
        pids = [b.pid for b in c.brokers]
        cmd = base + ["--execute", "--progress-ms", str(args.progress_ms), "--wait-s", str(int(args.move_timeout))]
        if args.throttle:
            cmd += ["--throttle", str(args.throttle)]
        cpu0, m0, dirty0 = [cpu_split(p) for p in pids], machine_cpu(), dirty_mib()
        t_launch = time.monotonic()
        rb = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        CHILDREN.append(rb)
        rb_lines = []

        def read_rb():
            for line in rb.stdout:
                rb_lines.append((time.monotonic() - t_launch, line.rstrip()))

        rt = threading.Thread(target=read_rb, daemon=True)
        rt.start()
        try:
            harness.wait_until(lambda: poller.t_isr is not None, args.move_timeout,
                               "every new replica in its partition's ISR", interval=0.05)
            cpu1, m1, dirty1 = [cpu_split(p) for p in pids], machine_cpu(), dirty_mib()
            rb.wait(timeout=max(30.0, args.move_timeout - (time.monotonic() - t_launch)))
        except (AssertionError, subprocess.TimeoutExpired) as e:
            fail(f"move not done: {e}\n" + "\n".join(x[1] for x in rb_lines[-20:]))
        t_exit = time.monotonic()
        rt.join(10)
        harness.wait_until(lambda: poller.t_done is not None, 30, "the old replicas removed")
        poller.stop.set()
        time.sleep(1.1)  # the latency load's progress line of the last second of the move
        lat.kill()
        if rb.returncode != 0:
            fail(f"{' '.join(cmd)} failed ({rb.returncode}):\n" + "\n".join(x[1] for x in rb_lines))
        copy_s = poller.t_isr - t_launch
        cmd_lines = [x[1] for x in rb_lines]
        m = next((re.search(r"(\d+) replica\(s\) to copy \(([\d.]+) MiB\)", x) for x in cmd_lines
                  if "to copy (" in x), None)
        on_disk = sum(log_bytes(b4, "bulk").values())
        dm = {k: m1[k] - m0[k] for k in m0}
        res["move"] = {
            "command": " ".join(cmd), "output": [f"[+{t:.2f} s] {x}" for t, x in rb_lines],
            "plan_line_replicas": int(m.group(1)) if m else None, "plan_line_mib": float(m.group(2)) if m else None,
            "bytes_to_copy": plan["bytes_to_copy"], "bytes_on_broker4": on_disk,
            "launch_to_first_new_replica_s": poller.t_first - t_launch, "copy_s": copy_s,
            "first_new_replica_to_isr_s": poller.t_isr - poller.t_first,
            "launch_to_old_replicas_removed_s": poller.t_done - t_launch, "command_s": t_exit - t_launch,
            "dry_run_plan_s": plan_s,
            "mib_per_s": plan["bytes_to_copy"] / MiB / copy_s,
            "broker_cpu_s": {f"b{i + 1}": round(sum(b_) - sum(a_), 2) for i, (a_, b_) in enumerate(zip(cpu0, cpu1))},
            "broker_user_sys_s": {f"b{i + 1}": [round(b_[0] - a_[0], 2), round(b_[1] - a_[1], 2)]
                                  for i, (a_, b_) in enumerate(zip(cpu0, cpu1))},
            "dirty_mib_at_start_end": [round(dirty0, 1), round(dirty1, 1)],
            "machine_busy_cores": dm["busy"] / dm["total"] * os.cpu_count() if dm["total"] else None,
            "machine_steal_cores": dm["steal"] / dm["total"] * os.cpu_count() if dm["total"] else None,
            "machine_iowait_cores": dm["iowait"] / dm["total"] * os.cpu_count() if dm["total"] else None,
            "window_s": (t_launch, poller.t_isr), "metadata_polls": poller.polls, "metadata_poll_errors": poller.errors}
        res["during"] = {"command": " ".join(lat.cmd) + "   (killed after the move)",
                         "per_second": per_second(lat.lines, t_launch, poller.t_isr),
                         "all_lines": [x[6] for x in lat.lines], "errors": lat.errors}
        log(f"move: {plan['bytes_to_copy'] / MiB:.1f} MiB in {copy_s:.2f} s = {res['move']['mib_per_s']:.0f} MiB/s; "
            f"command {res['move']['command_s']:.1f} s")
    res["loadavg_end"] = os.getloadavg()
    res["elapsed_s"] = time.monotonic() - started
    report(res)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, default=str)
    if res["during"]["per_second"]["intervals"] == 0:
        fail("no progress interval of the latency load overlapped the move: no 'during' figures")


def report(res: dict):
    mv, dk, lb = res["move"], res["disk"], res["loopback"]
    b, d = res["before"], res["during"]["per_second"]
    bs = b["summary"]["latency_us"]
    bps = b["per_second"]
    print(f"\n{res['date_utc']} UTC, {args.strata} (built {res['binary_mtime_utc']} UTC); load average "
          f"{res['loadavg_start'][0]:.1f} at the start, {res['loadavg_end'][0]:.1f} at the end; {res['elapsed_s']:.0f} s "
          f"in all. Topic bulk: {args.partitions} partitions, RF {args.rf}, filled with {res['fill']['messages']:,} x "
          f"{args.size} B ({res['fill']['bytes'] / MiB:,.0f} MiB, {res['fill']['mib_per_s']:.0f} MiB/s acks=1); "
          f"3 -> 4 brokers, " + (f"--throttle {args.throttle:,} B/s" if args.throttle else "unthrottled") + ".\n")
    print("| figure | value |")
    print("| --- | ---: |")
    print(f"| move: new replicas / MiB to copy (plan) | {res['plan']['replicas_to_copy']} / "
          f"{mv['bytes_to_copy'] / MiB:,.1f} |")
    print(f"|   MiB in broker 4's .log files after the move | {mv['bytes_on_broker4'] / MiB:,.1f} |")
    print(f"|   move time: rebalance launched -> every new replica in the ISR (metadata polled every 0.02 s) | "
          f"{mv['copy_s']:.2f} s |")
    print(f"|     of which planning (the same command without --execute took) | {mv['dry_run_plan_s']:.2f} s |")
    print(f"|     first new replica in the metadata -> all in the ISR | {mv['first_new_replica_to_isr_s']:.2f} s |")
    print(f"|   `strata cluster rebalance --execute` from launch to exit | {mv['command_s']:.2f} s |")
    print(f"|   MiB/s (plan bytes / move time) | {mv['mib_per_s']:,.0f} |")
    sf = res["sync_after_fill"]
    if not sf.get("skipped"):
        print(f"| sync(2) after the fill: {sf['dirty_mib']:,.0f} MiB dirty written back in, s (MiB/s) | "
              f"{sf['s']:.1f} ({sf['dirty_mib'] / sf['s'] if sf['s'] else 0:,.0f}) |")
    print(f"| disk: {dk['bytes'] / MiB:,.0f} MiB, 1 MiB writes + fdatasync ({dk['dirty_mib_before']:,.0f} MiB dirty "
          f"before), MiB/s | {dk['mib_per_s']:,.0f} |")
    print(f"|   (to the page cache, before the fdatasync) | {dk['page_cache_mib_per_s']:,.0f} |")
    print(f"| disk, O_DIRECT (no page cache) + fdatasync, MiB/s | {res['disk_direct']['mib_per_s']:,.0f} |")
    print(f"| loopback TCP: {lb['bytes'] / MiB:,.0f} MiB, python3 sendall -> recv_into, MiB/s | "
          f"{lb['mib_per_s']:,.0f} |")
    print(f"| move / disk (fdatasync) | {mv['mib_per_s'] / dk['mib_per_s']:.2f} |")
    print(f"| move / disk (page cache) | {mv['mib_per_s'] / dk['page_cache_mib_per_s']:.2f} |")
    print(f"| move / disk (O_DIRECT) | {mv['mib_per_s'] / res['disk_direct']['mib_per_s']:.2f} |")
    print(f"| move / loopback | {mv['mib_per_s'] / lb['mib_per_s']:.2f} |")
    print(f"| CPU over the move: brokers, CPU s (user+sys) | "
          + ", ".join(f"{k} {v} ({u}+{s_})" for (k, v), (u, s_) in zip(mv["broker_cpu_s"].items(),
                                                                       mv["broker_user_sys_s"].values())) + " |")
    print(f"| page cache dirty+writeback at the move's start / end, MiB | {mv['dirty_mib_at_start_end'][0]:,.0f} / "
          f"{mv['dirty_mib_at_start_end'][1]:,.0f} |")
    print(f"|   machine: busy / steal / iowait, cores of {os.cpu_count()} | {mv['machine_busy_cores']:.2f} / "
          f"{mv['machine_steal_cores']:.2f} / {mv['machine_iowait_cores']:.2f} |")
    print()
    print(f"Produce latency, {args.rate}/s x 100 B, acks=all, linger 0, topic lat (6 partitions, RF 3, "
          f"min.insync 2), µs:\n")
    print("| latency | before: whole load | before: 1 s intervals | 1 s intervals overlapping the move | "
          "overlapping / before (intervals) |")
    print("| --- | ---: | ---: | ---: | ---: |")

    def row(name, whole, kb):
        x, y = bps.get(kb), d.get(kb)
        ratio = f"{y / x:.2f}" if x and y is not None else "n/a"
        print(f"| {name} | {whole if whole is not None else ''} | {x if x is not None else 'n/a'} | "
              f"{y if y is not None else 'n/a'} | {ratio} |")

    print(f"| intervals (share inside the move) | {b['summary']['messages']:,} msgs | {bps['intervals']} | "
          f"{d['intervals']} ({', '.join(f'{x:.2f}' for x in d.get('share_inside', []))}) | |")
    row("p50 (intervals: median)", f"{bs['p50']:,}", "p50_median_us")
    row("p99 (intervals: median)", f"{bs['p99']:,}", "p99_median_us")
    row("p99 (intervals: worst)", None, "p99_worst_us")
    row("max", f"{bs['max']:,}", "max_us")
    print()


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in CHILDREN:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        shutil.rmtree(WORK, ignore_errors=True)
