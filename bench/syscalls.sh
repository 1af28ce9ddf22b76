#!/usr/bin/env bash
# System calls the broker makes per produce request: `strace -c` on every broker thread.
#
#   bench/syscalls.sh [--strata PATH] [--big] [-- serve overrides key=value...]
#
# Starts a broker (64 partitions, data in a temp dir), warms one topic, attaches
# strace -c to all its threads and runs either the latency load (5,000 x 100 B at
# 5,000/s, linger 0, acks=1: one small request at a time) or, with --big, 200,000 x
# 100 B at full speed (linger 5 ms, 1 MiB batches, ~1 MiB requests). Prints strace's
# table; divide by the pwrite64 count (one append per partition per request) for
# per-request figures. Stops what it started by PID.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${STRATA_BIN:-$(dirname "$here")/build-bench/strata}
BIG=0
OV=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --strata) BIN=$2; shift ;;
    --big) BIG=1 ;;
    --) shift; for kv in "$@"; do OV+=(--override "$kv"); done; break ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "syscalls.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
d=$(mktemp -d /tmp/strata-syscalls.XXXXXX)
P=""; S=""
cleanup() {
  [[ -n $S ]] && kill -INT "$S" 2>/dev/null && wait "$S" 2>/dev/null || true
  [[ -n $P ]] && kill -TERM "$P" 2>/dev/null && wait "$P" 2>/dev/null || true
  rm -rf "$d"
}
trap cleanup EXIT
"$BIN" serve --override listeners=PLAINTEXT://127.0.0.1:0 --override "log.dirs=$d/data" \
  --override strata.admin.listener= --override num.partitions=64 "${OV[@]}" > "$d/log" 2>&1 &
P=$!
bs=""
for _ in $(seq 100); do bs=$(grep -m1 -o 'PLAINTEXT://127\.0\.0\.1:[0-9]*' "$d/log" || true); [[ -n $bs ]] && break; sleep 0.05; done
bs=${bs#PLAINTEXT://}
[[ -n $bs ]] || { echo "syscalls.sh: broker did not start" >&2; cat "$d/log" >&2; exit 1; }
"$BIN" bench produce --bootstrap-server "$bs" --topic t --messages 640 --rotate 1 -q > /dev/null
args=()
for t in /proc/$P/task/*; do args+=(-p "${t##*/}"); done
strace -c -f "${args[@]}" -o "$d/strace" 2> /dev/null &
S=$!
sleep 1
if [[ $BIG == 1 ]]; then
  "$BIN" bench produce --bootstrap-server "$bs" --topic t --size 100 --linger-ms 5 --batch-size 1048576 \
    --compression none --rotate 1000 --messages 200000 --acks 1 --json -q
else
  "$BIN" bench produce --bootstrap-server "$bs" --topic t --size 100 --linger-ms 0 --acks 1 --rate 5000 \
    --messages 5000 --json -q
fi
sleep 0.5
kill -INT "$S"; wait "$S" 2>/dev/null || true; S=""
cat "$d/strace"
