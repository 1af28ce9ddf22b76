#!/usr/bin/env bash
# Instructions a Strata broker executes for one `strata bench` load (callgrind).
#
#   bench/callgrind_load.sh BROKER_BIN OUT_DIR LOAD_ARGS...
#   e.g. bench/callgrind_load.sh build/strata /tmp/cg produce --messages 1000000 --size 100 --acks 1
#
# Starts BROKER_BIN under `valgrind --tool=callgrind` (64 partitions by default, data in
# OUT_DIR, which is emptied first), creates topic t and writes one message to each
# partition, zeroes the counters (callgrind_control -z), runs `strata bench LOAD_ARGS
# --topic t` natively (the client is $STRATA_CLIENT, default build/strata), dumps the
# counters (callgrind_control -d), stops the broker (SIGTERM; SIGKILL after 10 s) and
# prints the load's instruction count. The dump is OUT_DIR/cg.<pid>.1
# (callgrind_annotate it for where). Unlike wall-clock figures, the count of a
# throughput load barely moves with the machine's load; a fixed-rate load's count
# includes the broker's idle wake-ups during it.
set -euo pipefail
[[ $# -ge 3 ]] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$1 out=$2; shift 2
client=${STRATA_CLIENT:-$root/build/strata}
rm -rf "$out"; mkdir -p "$out/data"
valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" \
  "$bin" serve --override listeners=PLAINTEXT://127.0.0.1:0 --override "log.dirs=$out/data" \
  --override strata.admin.listener= --override num.partitions=64 > "$out/log" 2>&1 &
pid=$!
stop() {
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap stop EXIT
bs=""
for _ in $(seq 600); do
  bs=$(grep -m1 -o 'listening on PLAINTEXT://127\.0\.0\.1:[0-9]*' "$out/log" || true)
  [[ -n $bs ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $bs ]] || { echo "callgrind_load.sh: the broker did not start:" >&2; cat "$out/log" >&2; exit 1; }
bs=${bs#listening on PLAINTEXT://}
"$client" bench setup --bootstrap-server "$bs" --topics t --partitions 64 -q > /dev/null
"$client" bench produce --bootstrap-server "$bs" --topic t --messages 64 --rotate 1 -q > /dev/null
callgrind_control -z "$pid" > /dev/null 2>&1
timeout 300 "$client" bench "$@" --bootstrap-server "$bs" --topic t --json -q > "$out/result.json"
callgrind_control -d "$pid" > /dev/null 2>&1
stop
trap - EXIT
f=$(ls "$out"/cg.*.1)
echo "$(callgrind_annotate "$f" | awk '/PROGRAM TOTALS/ {print $1; exit}') instructions, $f"
