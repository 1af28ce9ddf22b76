#!/usr/bin/env bash
# Strata vs librdkafka's mock cluster: the same `strata bench` loads, same run.
#
#   bench/compare.sh [--quick] [--rounds N] [--strata PATH] [--data-dir DIR]
#                    [--strata-override key=value]... [--no-prefault]
#                    [--keep] [--out FILE]
#   bench/compare.sh --report FILE     (the table again, from an --out FILE)
#
# Starts three servers on loopback ephemeral ports: Strata, Strata with
# strata.log.flush.on.ack=true, and `strata bench mock-broker` (librdkafka's
# mock cluster, rdkafka_mock.h, in a process of its own). Creates every topic
# (64 partitions) and writes one message to each partition (the first append
# to a partition writes its leader-epoch checkpoint with an fsync, a one-time
# cost), and reads one message back (Strata creates __consumer_offsets on the
# first FindCoordinator). Then, round after round, runs each load against
# Strata and then the mock (A B A B ...), reading each server's CPU time
# (time on CPU of all its threads, /proc/<pid>/task/*/schedstat, in ns) before and after the
# load. Prints a table of the medians over the rounds: figure, Strata, mock,
# ratio, target. Every process it started is stopped by PID on exit.
#
# --quick              small counts, one round: keeps the script working (CI).
# --rounds N           alternations (default 3).
# --data-dir DIR       where the Strata logs go (default: a temp dir in /tmp).
# --strata-override    extra `serve --override` for both Strata servers.
# --no-prefault        do not touch and free scratch memory before each load
#                      (see docs/PERFORMANCE.md: on this VM, page-cache growth
#                      into never-touched guest memory costs ~2 ms/MiB).
# --out FILE           also write every raw result (JSON lines) to FILE.
# --keep               keep the temp dir (logs, data, raw results).
# --report FILE        print the table of an earlier run's --out FILE; run nothing.
set -euo pipefail
# shellcheck source=bench/servers.sh
. "$(dirname "$0")/servers.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
STRATA=${STRATA_BIN:-$root/build-bench/strata}
ROUNDS=""
QUICK=0
KEEP=0
OUT=""
DATA_DIR=""
PREFAULT=1
OVERRIDES=()
REPORT=""
PARTS=64
PY=/usr/bin/python3

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --strata) STRATA=$2; shift ;;
    --data-dir) DATA_DIR=$2; shift ;;
    --strata-override) OVERRIDES+=(--override "$2"); shift ;;
    --no-prefault) PREFAULT=0 ;;
    --keep) KEEP=1 ;;
    --out) OUT=$2; shift ;;
    --report) REPORT=$2; shift ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

# report RESULTS.jsonl: the table of medians.
report() {
"$PY" - "$1" <<'EOF'
import json, statistics, sys
path = sys.argv[1]
rows = [json.loads(l) for l in open(path) if l.strip()]

def ok(r):
    return r["rc"] == 0 and r["result"]

def first(fig, key, default):
    for r in rows:
        if r["figure"] == fig and ok(r) and key in r["result"]:
            return r["result"][key]
    return default

n100 = max([r["result"].get("messages", 0) for r in rows if r["figure"] == "produce-100" and ok(r)], default=0)
n1k = max([r["result"].get("messages", 0) for r in rows if r["figure"] == "produce-1k" and ok(r)], default=0)
rate = first("latency", "rate", "?")

def by_round(fig, target, f):
    out = {}
    for r in rows:
        if r["figure"] == fig and r["target"] == target and ok(r):
            v = f(r)
            if v is not None:
                out[r["round"]] = v
    return out

def med(xs):
    return statistics.median(xs) if xs else None

rate_f = lambda r: r["result"]["msgs_per_sec"]
mib_f = lambda r: r["result"]["mib_per_sec"]
def per_m(key):
    def f(r):
        m = r["result"].get("messages", 0)
        return r[key] / m * 1e6 if m else None
    return f
lat = lambda k: (lambda r: r["result"].get("latency_us", {}).get(k))

table = []
def add(name, fig, f, fmt, target=None, better="high", a="strata", b="mock"):
    ra, rb = by_round(fig, a, f), by_round(fig, b, f)
    sa, sb = med(list(ra.values())), med(list(rb.values()))
    ratio = sa / sb if sa is not None and sb else None
    per = sorted(ra[k] / rb[k] for k in ra if k in rb and rb[k])
    spread = f"{per[0]:.2f}–{per[-1]:.2f}" if len(per) > 1 else ""
    met = ""
    if target is not None and ratio is not None:
        met = "yes" if (ratio >= target if better == "high" else ratio <= target) else "NO"
    tgt = "" if target is None else (f">= {target}" if better == "high" else f"<= {target}")
    table.append((name, sa, sb, ratio, spread, tgt, met, fmt))

n100s, n1ks = f"{n100:,}", f"{n1k:,}"
add(f"produce {n100s} x 100 B, acks=1: msgs/s", "produce-100", rate_f, "{:,.0f}", 1.0)
add("  broker CPU s / M msgs", "produce-100", per_m("server_cpu_s"), "{:.3f}", 0.7, "low")
add("  client CPU s / M msgs", "produce-100", per_m("client_cpu_s"), "{:.3f}")
add(f"produce {n100s} x 100 B, acks=all: msgs/s", "produce-100-all", rate_f, "{:,.0f}", 1.0)
add("  broker CPU s / M msgs", "produce-100-all", per_m("server_cpu_s"), "{:.3f}", 0.7, "low")
add("produce acks=all, flush.on.ack (Strata) vs mock: msgs/s", "produce-100-all", rate_f, "{:,.0f}", a="flush")
add("  flush.on.ack / no flush, both Strata acks=all: msgs/s", "produce-100-all", rate_f, "{:,.0f}", 0.8,
    a="flush", b="strata")
add("  broker CPU s / M msgs (flush.on.ack vs mock)", "produce-100-all", per_m("server_cpu_s"), "{:.3f}", a="flush")
add(f"consume {n100s} x 100 B: msgs/s", "consume-100", rate_f, "{:,.0f}", 2.0)
add("  broker CPU s / M msgs", "consume-100", per_m("server_cpu_s"), "{:.3f}", 0.5, "low")
add("  client CPU s / M msgs", "consume-100", per_m("client_cpu_s"), "{:.3f}")
add(f"produce {n1ks} x 1 KiB, acks=1: msgs/s", "produce-1k", rate_f, "{:,.0f}", 1.0)
add("  MiB/s", "produce-1k", mib_f, "{:.1f}")
add("  broker CPU s / M msgs", "produce-1k", per_m("server_cpu_s"), "{:.3f}", 0.7, "low")
add(f"consume {n1ks} x 1 KiB: msgs/s", "consume-1k", rate_f, "{:,.0f}", 2.0)
add("  MiB/s", "consume-1k", mib_f, "{:.1f}")
add("  broker CPU s / M msgs", "consume-1k", per_m("server_cpu_s"), "{:.3f}", 0.5, "low")
add(f"produce latency at {rate}/s, linger 0, acks=1: p50 µs", "latency", lat("p50"), "{:,.0f}")
add("  p99 µs", "latency", lat("p99"), "{:,.0f}", 1.2, "low")
add("  p99.9 µs", "latency", lat("p999"), "{:,.0f}")
add("  max µs", "latency", lat("max"), "{:,.0f}")
add("  broker CPU s / M msgs", "latency", per_m("server_cpu_s"), "{:.3f}")
add(f"e2e latency at {rate}/s (send -> consumer): p50 µs", "e2e", lat("p50"), "{:,.0f}")
add("  p99 µs", "e2e", lat("p99"), "{:,.0f}")

def f(v, fmt):
    return "n/a" if v is None else fmt.format(v)

rounds = max([r["round"] for r in rows], default=0)
print(f"\nMedians of {rounds} round(s); ratio = Strata / mock unless labelled (ratio of the medians; "
      "per round: the lowest and highest of the rounds' own ratios).\n")
print("| figure | Strata | mock | ratio | per round | target | met |")
print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
for name, sa, sb, ratio, spread, tgt, met, fmt in table:
    print(f"| {name} | {f(sa, fmt)} | {f(sb, fmt)} | {f(ratio, '{:.2f}')} | {spread} | {tgt} | {met} |")

# Each consume should read the load plus the one warm-up message per partition.
for fig, n in (("consume-100", n100), ("consume-1k", n1k)):
    for t in ("strata", "mock"):
        ms = list(by_round(fig, t, lambda r: r["result"].get("messages")).values())
        if any(m < n for m in ms):
            print(f"note: {fig} on {t} read {ms} messages (expected {n} + the warm-up messages)")
fails = [r for r in rows if r["rc"] != 0]
if fails:
    print(f"note: {len(fails)} load(s) failed: " + ", ".join(f'{r["figure"]}/{r["target"]}/r{r["round"]}' for r in fails))
    sys.exit(1)
EOF
}

if [[ -n $REPORT ]]; then
  report "$REPORT"
  exit
fi

# --rotate: ~100 KiB to each partition in turn, so all 64 get an equal share
# (librdkafka's own partitioner picks a random partition for keyless messages
# and sticks to it for a batch, leaving some partitions empty and others over
# the mock's 5 MiB).
if [[ $QUICK == 1 ]]; then
  N100=20000; N1K=4000; NLAT=1000; ROUNDS=${ROUNDS:-1}; CLIENT_TIMEOUT=60; ROT100=50; ROT1K=10
else
  N100=1000000; N1K=200000; NLAT=50000; ROUNDS=${ROUNDS:-3}; CLIENT_TIMEOUT=300; ROT100=1000; ROT1K=100
fi
RATE=5000
[[ -x $STRATA ]] || { echo "compare.sh: no strata binary at $STRATA (build it, or --strata PATH)" >&2; exit 2; }

work=$(mktemp -d /tmp/strata-compare.XXXXXX)
DATA_DIR=${DATA_DIR:-$work}
mkdir -p "$DATA_DIR"
data=$(mktemp -d "$DATA_DIR/strata-compare-data.XXXXXX")
results=$work/results.jsonl
: > "$results"
pids=()

cleanup() {
  stop_pids "${pids[@]}"
  rm -f /dev/shm/strata-compare-prefault.$$
  if [[ $KEEP == 1 ]]; then
    echo "compare.sh: kept $work and $data" >&2
  else
    rm -rf "$data" "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_strata NAME [serve args...]: sets SERVER_PID and SERVER_BS.
# Every topic the rounds use (the mock has no CreateTopics).
topics=()
for r in $(seq "$ROUNDS"); do topics+=("r$r-p100-a1" "r$r-p100-all" "r$r-p1k" "r$r-lat" "r$r-e2e"); done
topic_list=$(IFS=,; echo "${topics[*]}")

start_strata "$STRATA" "$data/strata" "$work/strata.log" --override num.partitions=$PARTS "${OVERRIDES[@]}"
STRATA_PID=$SERVER_PID; STRATA_BS=$SERVER_BS
start_strata "$STRATA" "$data/strata-flush" "$work/strata-flush.log" --override num.partitions=$PARTS \
  --override strata.log.flush.on.ack=true "${OVERRIDES[@]}"
FLUSH_PID=$SERVER_PID; FLUSH_BS=$SERVER_BS
start_mock "$STRATA" "$PARTS" "$topic_list" "$work/mock.log"
MOCK_PID=$SERVER_PID; MOCK_BS=$SERVER_BS
echo "compare.sh: strata $STRATA_BS (pid $STRATA_PID), strata flush-on-ack $FLUSH_BS (pid $FLUSH_PID)," \
     "mock $MOCK_BS (pid $MOCK_PID); $ROUNDS round(s), prefault=$PREFAULT, overrides: ${OVERRIDES[*]:-none}" >&2

warm_up "$STRATA" "$PARTS" "$topic_list" "$MOCK_BS" "$STRATA_BS" "$FLUSH_BS" "$MOCK_BS"

# Touch and free MiB of memory, so that the page cache the next load grows
# into is made of recently used guest pages (see --no-prefault).
prefault() {
  [[ $PREFAULT == 1 ]] || return 0
  dd if=/dev/zero of=/dev/shm/strata-compare-prefault.$$ bs=1M count="$1" status=none 2>/dev/null || true
  rm -f /dev/shm/strata-compare-prefault.$$
}

# Writes one JSON line per load to $results and a short line to stderr.
cat > "$work/record.py" <<'EOF'
import json, re, sys

def children_cpu(path):  # `times` output, second line: children's user and sys
    line = open(path).read().splitlines()[1]
    return sum(int(m) * 60 + float(s) for m, s in re.findall(r"(\d+)m([\d.]+)s", line))

fig, target, rnd, b, a, t0, t1, rc, path, results = sys.argv[1:]
try:
    res = json.load(open(path))
except Exception:
    res = {}
row = {"figure": fig, "target": target, "round": int(rnd), "rc": int(rc),
       "server_cpu_s": round((int(a) - int(b)) / 1e9, 4),
       "client_cpu_s": round(children_cpu(t1) - children_cpu(t0), 3), "result": res}
with open(results, "a") as f:
    f.write(json.dumps(row) + "\n")
lat = res.get("latency_us")
msg = (f"compare.sh: round {rnd} {fig:<16} {target:<7} {res.get('msgs_per_sec', 0):>10.0f} msg/s"
       f"  server cpu {row['server_cpu_s']:.3f} s  client cpu {row['client_cpu_s']:.2f} s"
       f"  msgs {res.get('messages', 0)}" + (f"  p50 {lat['p50']} us  p99 {lat['p99']} us" if lat else ""))
print(msg, file=sys.stderr)
EOF

# run FIGURE TARGET ROUND PREFAULT_MIB bench-args...
run() {
  local figure=$1 target=$2 round=$3 mib=$4; shift 4
  local pid bs before after rc=0 out="$work/out.json"
  case $target in
    strata) pid=$STRATA_PID; bs=$STRATA_BS ;;
    flush) pid=$FLUSH_PID; bs=$FLUSH_BS ;;
    mock) pid=$MOCK_PID; bs=$MOCK_BS ;;
  esac
  prefault "$mib"
  times > "$work/times0"   # not in a subshell: `times` reports this shell's children
  before=$(cpu_ns "$pid")
  timeout "$CLIENT_TIMEOUT" "$STRATA" bench "$@" --bootstrap-server "$bs" --json -q > "$out" 2> "$work/err" || rc=$?
  after=$(cpu_ns "$pid")
  times > "$work/times1"
  if [[ $rc != 0 || ! -s $out ]]; then
    echo "compare.sh: $figure against $target failed (exit $rc):" >&2
    cat "$work/err" >&2
    echo '{}' > "$out"
  fi
  "$PY" "$work/record.py" "$figure" "$target" "$round" "$before" "$after" \
    "$work/times0" "$work/times1" "$rc" "$out" "$results"
}

P100=(--size 100 --linger-ms 5 --batch-size 1048576 --compression none --rotate "$ROT100")
P1K=(--size 1024 --linger-ms 5 --batch-size 1048576 --compression none --rotate "$ROT1K")
LAT=(--size 100 --linger-ms 0 --acks 1 --rate "$RATE" --messages "$NLAT")
MIB100=$(( N100 * 100 * 2 / 1048576 + 16 ))
MIB1K=$(( N1K * 1024 * 2 / 1048576 + 16 ))

for r in $(seq "$ROUNDS"); do
  for t in strata mock; do
    run produce-100 "$t" "$r" "$MIB100" produce --topic "r$r-p100-a1" --messages "$N100" --acks 1 "${P100[@]}"
  done
  for t in strata mock; do
    run consume-100 "$t" "$r" 0 consume --topic "r$r-p100-a1"
  done
  for t in strata mock flush; do
    run produce-100-all "$t" "$r" "$MIB100" produce --topic "r$r-p100-all" --messages "$N100" --acks all "${P100[@]}"
  done
  for t in strata mock; do
    run produce-1k "$t" "$r" "$MIB1K" produce --topic "r$r-p1k" --messages "$N1K" --acks 1 "${P1K[@]}"
  done
  for t in strata mock; do
    run consume-1k "$t" "$r" 0 consume --topic "r$r-p1k"
  done
  for t in strata mock; do
    run latency "$t" "$r" 16 produce --topic "r$r-lat" "${LAT[@]}"
  done
  for t in strata mock; do
    run e2e "$t" "$r" 16 e2e --topic "r$r-e2e" "${LAT[@]}"
  done
done

[[ -n $OUT ]] && cp "$results" "$OUT"
report "$results"
