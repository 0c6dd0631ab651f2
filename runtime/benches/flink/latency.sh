#!/usr/bin/env bash
# Runs Apache Flink 2.3's latency job (Latency.java beside this script: numbers at RATE/s, each
# stamped at emit -> keyBy -> map -> sink, p=1) once per BUFFER_TIMEOUT given ("default" keeps
# Flink's execution.buffer-timeout.interval of 100 ms; a number of ms sets it, 0 = send after
# every record) and prints, per run, Flink's line
#   LATENCY p50_us=.. p99_us=.. p999_us=.. max_us=.. measured=N emitted=N buffer_timeout_ms=N
# with the run's buffer timeout argument in front. Records emitted in the first WARMUP_MS of a
# run are not measured; a short warm-up job runs first (class loading, JIT), on the same
# TaskManager. `wflink bench-latency` runs it; a user can too:
#
#   bash runtime/benches/flink/latency.sh 100000 5000 20000 1000 default 0
#
# Flink is installed on first use (flink.sh beside this script says where and what it needs).
# On failure it prints one line saying why on stderr and exits non-zero.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/flink.sh"
[ $# -ge 5 ] || fail "usage: latency.sh RATE WARMUP_MS MEASURE_MS KEYS BUFFER_TIMEOUT..."
rate=$1 warmup_ms=$2 measure_ms=$3 keys=$4; shift 4
count=$((rate * (warmup_ms + measure_ms) / 1000))
jar=$(job_jar Latency)
start_cluster

flink_run -c Latency "$jar" "$rate" "$((rate * 2))" 1000 "$keys" default >/dev/null # warm-up: 2 s
for bt in "$@"; do
  out=$(flink_run -c Latency "$jar" "$rate" "$count" "$warmup_ms" "$keys" "$bt")
  line=$(echo "$out" | grep '^LATENCY ') || fail "the Flink latency job (buffer timeout $bt) printed no LATENCY line"
  echo "$bt $line"
done
