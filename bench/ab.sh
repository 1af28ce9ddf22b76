#!/usr/bin/env bash
# Two Strata configurations (or binaries) and librdkafka's mock, one load, same run.
#
#   bench/ab.sh [--rounds N] [--a-strata PATH] [--b-strata PATH]
#               [--a key=value]... [--b key=value]... [--load produce|produce-all|consume|latency|latency-all]
#               [--messages N] [--keep]
#
# For A/B checks of one change: starts Strata A, Strata B (same binary unless
# --b-strata; each with its own --override list) and the mock, creates and warms
# the topics as compare.sh does, then per round runs the load against A, B and the
# mock in turn (rotating the order each round so none always goes first), reading
# each server's CPU time (ns, /proc/<pid>/task/*/schedstat) around the load. Prints each run and
# the medians of msgs/s, broker CPU s per million and, for latency, p50/p99, with
# B/A and A/mock, B/mock ratios. Every process it started is stopped by PID on exit.
set -euo pipefail
# shellcheck source=bench/servers.sh
. "$(dirname "$0")/servers.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
A_BIN=${STRATA_BIN:-$root/build-bench/strata}
B_BIN=""
ROUNDS=5
LOAD=produce
N=1000000
KEEP=0
A_OV=()
B_OV=()
PARTS=64
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --a-strata) A_BIN=$2; shift ;;
    --b-strata) B_BIN=$2; shift ;;
    --a) A_OV+=(--override "$2"); shift ;;
    --b) B_OV+=(--override "$2"); shift ;;
    --load) LOAD=$2; shift ;;
    --messages) N=$2; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ab.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
B_BIN=${B_BIN:-$A_BIN}

make_work_dir ab

topics=()
for r in $(seq "$ROUNDS"); do topics+=("ab$r"); done
topic_list=$(IFS=,; echo "${topics[*]}")
start_strata "$A_BIN" "$work/a" "$work/a.log" --override num.partitions=$PARTS "${A_OV[@]}"
A_PID=$SERVER_PID; A_BS=$SERVER_BS
start_strata "$B_BIN" "$work/b" "$work/b.log" --override num.partitions=$PARTS "${B_OV[@]}"
B_PID=$SERVER_PID; B_BS=$SERVER_BS
start_mock "$A_BIN" "$PARTS" "$topic_list" "$work/mock.log"
M_PID=$SERVER_PID; M_BS=$SERVER_BS
warm_up "$A_BIN" "$PARTS" "$topic_list" "$M_BS" "$A_BS" "$B_BS" "$M_BS"
echo "ab.sh: A=$A_BS (${A_OV[*]:-defaults}) B=$B_BS (${B_OV[*]:-defaults}) mock=$M_BS; load $LOAD, $ROUNDS rounds" >&2

P100=(--size 100 --linger-ms 5 --batch-size 1048576 --compression none --rotate 1000)
: > "$work/results"
for r in $(seq "$ROUNDS"); do
  order=(a b m)
  case $(( r % 3 )) in 1) order=(b m a) ;; 2) order=(m a b) ;; esac
  if [[ $LOAD == consume ]]; then  # unmeasured: the data each consume reads
    for bs in "$A_BS" "$B_BS" "$M_BS"; do
      "$A_BIN" bench produce --bootstrap-server "$bs" --topic "ab$r" --messages "$N" --acks 1 "${P100[@]}" -q > /dev/null
    done
  fi
  for t in "${order[@]}"; do
    case $t in a) pid=$A_PID; bs=$A_BS ;; b) pid=$B_PID; bs=$B_BS ;; m) pid=$M_PID; bs=$M_BS ;; esac
    case $LOAD in
      produce) args=(produce --topic "ab$r" --messages "$N" --acks 1 "${P100[@]}") ;;
      produce-all) args=(produce --topic "ab$r" --messages "$N" --acks all "${P100[@]}") ;;
      consume) args=(consume --topic "ab$r") ;;
      latency) args=(produce --topic "ab$r" --size 100 --linger-ms 0 --acks 1 --rate 5000 --messages "$N") ;;
      latency-all) args=(produce --topic "ab$r" --size 100 --linger-ms 0 --acks all --rate 5000 --messages "$N") ;;
      *) echo "ab.sh: unknown load $LOAD" >&2; exit 2 ;;
    esac
    before=$(cpu_ns "$pid")
    "$A_BIN" bench "${args[@]}" --bootstrap-server "$bs" --json -q > "$work/out.json"
    after=$(cpu_ns "$pid")
    echo "$r $t $before $after $(cat "$work/out.json")" >> "$work/results"
  done
done

/usr/bin/python3 - "$work/results" <<'EOF'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, t, b, a, js = line.split(" ", 4)
    res = json.loads(js)
    m = res.get("messages", 0) or 1
    lat = res.get("latency_us", {})
    rows.setdefault(t, []).append((res.get("msgs_per_sec", 0), (int(a) - int(b)) / 1e9 / m * 1e6,
                                   lat.get("p50", 0), lat.get("p99", 0)))
    print(f"round {r} {t}: {res.get('msgs_per_sec', 0):>10.0f} msg/s  cpu {(int(a)-int(b))/1e9:.3f} s "
          f"({(int(a)-int(b))/1e9/m*1e6:.4f} s/M)  p50 {lat.get('p50')} p99 {lat.get('p99')}")
names = {"a": "A", "b": "B", "m": "mock"}
med = {t: [statistics.median(x[i] for x in v) for i in range(4)] for t, v in rows.items()}
print("\n| figure | A | B | mock | B/A | A/mock | B/mock |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for i, name in enumerate(["msgs/s", "broker CPU s / M msgs", "p50 µs", "p99 µs"]):
    a, b, m = med["a"][i], med["b"][i], med["m"][i]
    if not (a or b or m): continue
    q = lambda x, y: f"{x / y:.2f}" if y else "n/a"
    print(f"| {name} | {a:,.3f} | {b:,.3f} | {m:,.3f} | {q(b, a)} | {q(a, m)} | {q(b, m)} |")
EOF
