# Sourced by compare.sh, ab.sh and tls.sh: starting, measuring and stopping the servers
# a benchmark script runs. Started processes are appended to the caller's
# `pids` array so that its exit trap can stop_pids them.

# stop_pids PID...: SIGTERM to each, up to 10 s for each to exit, then SIGKILL
# what is left, and reap it.
stop_pids() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# make_work_dir NAME: a fresh /tmp/strata-NAME.XXXXXX in `work`, an empty `pids`, and
# traps that on exit stop every process in `pids` and remove `work` (kept, and named
# on stderr, when KEEP=1).
make_work_dir() {
  work=$(mktemp -d "/tmp/strata-$1.XXXXXX")
  pids=()
  trap remove_work_dir EXIT
  trap 'exit 130' INT TERM
}
remove_work_dir() {
  stop_pids "${pids[@]}"
  if [[ ${KEEP:-0} == 1 ]]; then echo "$(basename "$0"): kept $work" >&2; else rm -rf "$work"; fi
}

# start_strata BIN DATA_DIR LOG_FILE [serve arguments...]: a broker on an
# ephemeral loopback port, admin listener off. Sets SERVER_PID and SERVER_BS
# (host:port); exits the script if it does not start within 10 s.
start_strata() {
  local bin=$1 data=$2 log=$3; shift 3
  mkdir -p "$data"
  "$bin" serve --override listeners=PLAINTEXT://127.0.0.1:0 --override "log.dirs=$data" \
    --override strata.admin.listener= "$@" > "$log" 2>&1 &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  local line=""
  for _ in $(seq 200); do
    line=$(grep -m1 -o 'listening on PLAINTEXT://127\.0\.0\.1:[0-9]*' "$log" || true)
    [[ -n $line ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $line ]] || { echo "$(basename "$0"): $log: the broker did not start:" >&2; cat "$log" >&2; exit 1; }
  SERVER_BS=${line#listening on PLAINTEXT://}
}

# start_mock BIN PARTITIONS TOPICS LOG_FILE: librdkafka's mock cluster with the
# comma-separated TOPICS (it has no CreateTopics). Sets SERVER_PID, SERVER_BS.
start_mock() {
  local bin=$1 parts=$2 topics=$3 log=$4
  "$bin" bench mock-broker --partitions "$parts" --topic "$topics" > "$log" 2>&1 &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  SERVER_BS=""
  for _ in $(seq 200); do
    SERVER_BS=$(sed -n 's/^bootstrap.servers=//p' "$log" | head -1)
    [[ -n $SERVER_BS ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $SERVER_BS ]] || { echo "$(basename "$0"): mock-broker did not start:" >&2; cat "$log" >&2; exit 1; }
}

# warm_up BIN PARTITIONS TOPICS MOCK_BS BS...: outside the measured loads,
# creates the comma-separated TOPICS on every Strata (not on the mock, which
# has them), appends once to each partition (the first append writes the
# leader-epoch checkpoint) and reads one message (the first FindCoordinator
# creates __consumer_offsets).
warm_up() {
  local bin=$1 parts=$2 topics=$3 mock_bs=$4 bs t; shift 4
  for bs in "$@"; do
    [[ $bs != "$mock_bs" ]] && "$bin" bench setup --bootstrap-server "$bs" --topics "$topics" \
      --partitions "$parts" -q > /dev/null
    for t in ${topics//,/ }; do
      "$bin" bench produce --bootstrap-server "$bs" --topic "$t" --messages "$parts" --rotate 1 -q > /dev/null
    done
    "$bin" bench consume --bootstrap-server "$bs" --topic "${topics%%,*}" --messages 1 -q > /dev/null
  done
}

# cpu_ns PID: CPU time of a process in nanoseconds, the sum over its threads of
# /proc/PID/task/TID/schedstat (time on CPU). /proc/PID/stat counts in clock ticks
# of 10 ms, too coarse for a broker that spends 20-40 ms on a whole consume load.
# Threads that exit during a load would be missed; the servers measured here
# (Strata, the mock) start all their threads before the loads begin.
cpu_ns() {
  local f total=0 run rest
  for f in /proc/"$1"/task/*/schedstat; do
    read -r run rest < "$f" 2>/dev/null || continue
    total=$((total + run))
  done
  echo "$total"
}
