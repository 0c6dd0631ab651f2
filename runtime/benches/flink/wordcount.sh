#!/usr/bin/env bash
# Runs Apache Flink 2.3's word count (WordCount.java beside this script) on INPUT at each
# parallelism given and prints, per run, one line `job_ms P MS CPU_MS`: Flink's own job
# duration (REST /jobs/:id "duration") on a warm TaskManager, after one warm-up run (the
# cluster's start is not counted), and the CPU time (user + system) the TaskManager process
# used meanwhile, which a loaded machine inflates less than the duration; at the end one line
# `tm_peak_rss_kb KB`, the TaskManager's peak resident set. `wflink bench` runs it; a user can too:
#
#   bash runtime/benches/flink/wordcount.sh INPUT 1 2
#
# Flink is installed on first use (flink.sh beside this script says where and what it needs).
#   FLINK_BENCH_RUNS  measured runs per parallelism (default 1; the best is what counts)
# On failure it prints one line saying why on stderr and exits non-zero.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/flink.sh"
[ $# -ge 2 ] || fail "usage: wordcount.sh INPUT PARALLELISM..."
input=$(realpath "$1"); shift
runs="${FLINK_BENCH_RUNS:-1}"
jar=$(job_jar WordCount)
start_cluster

# CPU ms (user + system) the TaskManager has used so far (0 where /proc is missing).
tm_cpu_ms() {
  local ticks
  ticks=$(awk '{print $14 + $15}' "/proc/$tm_pid/stat" 2>/dev/null) || { echo 0; return; }
  echo $((ticks * 1000 / $(getconf CLK_TCK)))
}

# Runs the job at parallelism $1 and prints Flink's job duration and the TaskManager's CPU, in ms.
job_ms() {
  local out jid cpu
  cpu=$(tm_cpu_ms)
  out=$(flink_run -p "$1" -c WordCount "$jar" "$input" "$1")
  jid=$(echo "$out" | awk '/^JOB_ID /{print $2}')
  echo "$(curl -sf "$rest/jobs/$jid" | python3 -c 'import json,sys;print(json.load(sys.stdin)["duration"])') $(($(tm_cpu_ms) - cpu))"
}

job_ms 2 >/dev/null # warm-up: loads the classes and JIT-compiles the job in both slots
for p in "$@"; do
  for _ in $(seq 1 "$runs"); do echo "job_ms $p $(job_ms "$p")"; done
done
# The TaskManager's peak resident set over all of the above, in kB.
echo "tm_peak_rss_kb $(awk '/^VmHWM:/{print $2}' "/proc/$tm_pid/status" 2>/dev/null || echo 0)"
