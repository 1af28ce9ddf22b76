#!/usr/bin/env bash
# Broker memory under the TCP fuzz load (tests/integration/tcp_fuzz.py).
#
#   bench/fuzz_rss.sh [--strata PATH] [--frames N] [--seconds S]
#                     [--connections N] [--seed N] [--interval S]
#                     [--out DIR] [-- --override k=v ...]
#
# Starts one broker on a fresh data dir (loopback, an ephemeral port), runs
# the fuzz driver against it and samples every --interval seconds: seconds,
# VmRSS kB, open fds, topic-partition directories and the driver's frame
# count so far. At the end it stops the broker with SIGTERM (so an ASan/LSan
# build reports its leaks), waits for it (its exit code is printed), and
# prints the curve. Defaults: 10,000,000 frames, at most 3600 s, 50
# connections, auto.create.topics.enable=false (pass
# `-- --override auto.create.topics.enable=true` to fuzz with Kafka's default,
# which creates a topic per mutated name).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
STRATA=${STRATA_BIN:-$root/build/strata}
FRAMES=10000000
SECONDS_MAX=3600
CONNECTIONS=50
SEED=$RANDOM
INTERVAL=10
OUT=""
EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --strata) STRATA=$2; shift 2 ;;
    --frames) FRAMES=$2; shift 2 ;;
    --seconds) SECONDS_MAX=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-$(mktemp -d /tmp/strata-fuzz-rss.XXXXXX)}
mkdir -p "$OUT"
data="$OUT/data"
rm -rf "$data"

"$STRATA" serve --override listeners=PLAINTEXT://127.0.0.1:0 --override "log.dirs=$data" \
  --override strata.admin.listener=127.0.0.1:0 --override auto.create.topics.enable=false \
  "${EXTRA[@]}" >"$OUT/broker.log" 2>&1 &
broker=$!
cleanup() { kill -KILL "$broker" 2>/dev/null || true; [[ -n "${driver:-}" ]] && kill "$driver" 2>/dev/null || true; }
trap cleanup EXIT
port=""
for _ in $(seq 300); do
  port=$(grep -oP 'listening on PLAINTEXT://127\.0\.0\.1:\K[0-9]+' "$OUT/broker.log" | head -1 || true)
  [[ -n "$port" ]] && grep -q "started in" "$OUT/broker.log" && break
  kill -0 "$broker" || { echo "broker exited during startup" >&2; tail "$OUT/broker.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "broker did not start" >&2; exit 1; }

/usr/bin/python3 "$root/tests/integration/tcp_fuzz.py" --bootstrap "127.0.0.1:$port" --frames "$FRAMES" \
  --seconds "$SECONDS_MAX" --connections "$CONNECTIONS" --seed "$SEED" --progress "$INTERVAL" \
  --exclude-api 19,20,37 >"$OUT/driver.out" 2>"$OUT/driver.err" &
driver=$!
t0=$(date +%s)
echo "# seed $SEED, broker pid $broker, port $port, out $OUT" | tee "$OUT/rss.txt"
echo "# seconds rss_kB fds partition_dirs frames" | tee -a "$OUT/rss.txt"
sample() {
  local rss fds dirs frames
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$broker/status" 2>/dev/null || echo dead)
  fds=$(ls "/proc/$broker/fd" 2>/dev/null | wc -l)
  dirs=$(find "$data" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
  frames=$(tail -1 "$OUT/driver.err" | grep -oP '"frames": \K[0-9]+' || echo 0)
  echo "$(( $(date +%s) - t0 )) $rss $fds $dirs $frames" | tee -a "$OUT/rss.txt"
}
sample
while kill -0 "$driver" 2>/dev/null; do
  for _ in $(seq "$((INTERVAL * 10))"); do kill -0 "$driver" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$broker" 2>/dev/null || { echo "BROKER DIED" | tee -a "$OUT/rss.txt"; break; }
  sample
done
rc=0; wait "$driver" || rc=$?
driver=""
echo "# driver exit $rc: $(tail -1 "$OUT/driver.out")" | tee -a "$OUT/rss.txt"
kill -TERM "$broker" 2>/dev/null || true
brc=0; wait "$broker" || brc=$?
echo "# broker exit code $brc after SIGTERM" | tee -a "$OUT/rss.txt"
trap - EXIT
