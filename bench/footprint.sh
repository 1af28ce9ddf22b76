#!/usr/bin/env bash
# Strata's footprint: start-to-serving time and resident memory.
#
#   bench/footprint.sh [--strata PATH] [--partitions N] [--connections N]
#                      [--runs N] [--data-dir DIR] [--quick]
#
# 1. Start to serving with an empty data directory, --runs times: the time
#    from exec to the first accepted TCP connection, and the "started in"
#    figure the broker logs.
# 2. One broker: a topic with --partitions partitions (CreateTopics, via
#    `strata bench setup`), ten 100-byte messages per partition, then
#    --connections idle connections (each sends one ApiVersions request, reads
#    the answer and stays open). VmRSS/VmHWM from /proc/<pid>/status before
#    and after the connections.
# 3. Clean shutdown (SIGTERM), then start to serving again with those
#    partitions, --runs times (a clean shutdown after each).
# Loopback only; every broker it starts is stopped by PID. --quick: 100
# partitions, 100 connections, 2 runs (CI smoke).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
STRATA=${STRATA_BIN:-$root/build-bench/strata}
PARTITIONS=1000
CONNECTIONS=1000
RUNS=5
DATA_DIR=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --strata) STRATA=$2; shift ;;
    --partitions) PARTITIONS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --data-dir) DATA_DIR=$2; shift ;;
    --quick) PARTITIONS=100; CONNECTIONS=100; RUNS=2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "footprint.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -x $STRATA ]] || { echo "footprint.sh: no strata binary at $STRATA" >&2; exit 2; }

PYTHONPATH="$here" exec /usr/bin/python3 - "$STRATA" "$PARTITIONS" "$CONNECTIONS" "$RUNS" "$DATA_DIR" <<'EOF'
import os, re, resource, shutil, signal, socket, statistics, subprocess, sys, tempfile, time
import idle_clients  # bench/, on PYTHONPATH

strata, partitions, connections, runs, data_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
work = tempfile.mkdtemp(prefix="strata-footprint.", dir=data_dir or None)
brokers = []  # Popen objects still running

def stop_all(*_):
    for p in brokers:
        if p.poll() is None:
            p.terminate()
    for p in brokers:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    shutil.rmtree(work, ignore_errors=True)

def on_signal(signum, _):
    stop_all()
    sys.exit(128 + signum)

signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
need = connections + 64
if soft < need:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(need, soft), hard), hard))

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def start(data, port, log):
    """Starts a broker; returns (popen, exec->accept seconds, logged 'started in' ms)."""
    out = open(log, "w")
    t0 = time.monotonic()
    p = subprocess.Popen([strata, "serve",
                          "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                          "--override", f"log.dirs={data}",
                          "--override", "strata.admin.listener="],
                         stdout=out, stderr=subprocess.STDOUT)
    brokers.append(p)
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if p.poll() is not None:
                raise SystemExit(f"footprint.sh: broker exited: {open(log).read()}")
            if time.monotonic() - t0 > 60:
                raise SystemExit("footprint.sh: broker not serving after 60 s")
            time.sleep(0.0005)
    accept_s = time.monotonic() - t0
    logged = None
    for _ in range(2000):
        m = re.search(r"started in ([\d.]+) ms", open(log).read())
        if m:
            logged = float(m.group(1))
            break
        time.sleep(0.005)
    return p, accept_s, logged

def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=60)
    brokers.remove(p)

def rss(pid):
    st = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM", "Threads"):
            st[k] = v.strip()
    return st

def mib(s):
    return int(s.split()[0]) / 1024

results = {}
try:
    # 1. Empty data directory.
    empty = []
    for i in range(runs):
        p, acc, logged = start(os.path.join(work, f"empty{i}"), free_port(), os.path.join(work, f"empty{i}.log"))
        stop(p)
        empty.append((acc * 1000, logged))
        print(f"footprint: empty start {i + 1}: serving after {acc * 1000:.1f} ms (logged 'started in' {logged} ms)",
              file=sys.stderr)
    results["empty"] = empty

    # 2. Partitions and idle connections.
    data = os.path.join(work, "data")
    port = free_port()
    bs = f"127.0.0.1:{port}"
    p, _, _ = start(data, port, os.path.join(work, "main.log"))
    base = rss(p.pid)
    t = time.monotonic()
    subprocess.run([strata, "bench", "setup", "-b", bs, "-t", "fp", "--partitions", str(partitions), "-q"],
                   check=True, stdout=subprocess.DEVNULL)
    create_s = time.monotonic() - t
    subprocess.run([strata, "bench", "produce", "-b", bs, "-t", "fp", "--messages", str(partitions * 10),
                    "--rotate", "10", "--linger-ms", "5", "-q"], check=True, stdout=subprocess.DEVNULL)
    time.sleep(1)
    with_parts = rss(p.pid)
    socks = idle_clients.open_idle(port, connections)
    time.sleep(1)
    with_conns = rss(p.pid)
    for s in socks:
        s.close()
    stop(p)
    results["rss"] = (base, with_parts, with_conns, create_s)
    print(f"footprint: RSS empty {base['VmRSS']}, {partitions} partitions {with_parts['VmRSS']}, "
          f"+{connections} idle connections {with_conns['VmRSS']} (peak {with_conns['VmHWM']})", file=sys.stderr)

    # 3. Restart with the partitions after a clean shutdown.
    restart = []
    for i in range(runs):
        p, acc, logged = start(data, port, os.path.join(work, f"restart{i}.log"))
        stop(p)
        restart.append((acc * 1000, logged))
        print(f"footprint: restart {i + 1} with {partitions} partitions: serving after {acc * 1000:.1f} ms "
              f"(logged 'started in' {logged} ms)", file=sys.stderr)
    results["restart"] = restart
finally:
    stop_all()

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")

base, with_parts, with_conns, create_s = results["rss"]
print()
print(f"| figure | value | target |")
print(f"| --- | ---: | --- |")
print(f"| start to serving, empty data dir: exec -> first accept (median of {runs}) | "
      f"{med([a for a, _ in results['empty']]):.1f} ms | <= 50 ms |")
print(f"| start to serving, empty data dir: logged 'started in' (median) | {med([l for _, l in results['empty']]):.1f} ms | |")
print(f"| start to serving, {partitions} partitions after a clean shutdown: exec -> first accept (median of {runs}) | "
      f"{med([a for a, _ in results['restart']]):.1f} ms | <= 500 ms |")
print(f"| start to serving, {partitions} partitions: logged 'started in' (median) | "
      f"{med([l for _, l in results['restart']]):.1f} ms | |")
print(f"| RSS, empty broker | {mib(base['VmRSS']):.1f} MiB | |")
print(f"| RSS, {partitions} partitions (10 messages each) | {mib(with_parts['VmRSS']):.1f} MiB | |")
print(f"| RSS, {partitions} partitions + {connections} idle connections | {mib(with_conns['VmRSS']):.1f} MiB | <= 200 MB |")
print(f"| peak RSS (VmHWM) | {mib(with_conns['VmHWM']):.1f} MiB | |")
print(f"| threads | {with_conns['Threads']} | |")
print(f"| CreateTopics of {partitions} partitions | {create_s * 1000:.0f} ms | |")
EOF
