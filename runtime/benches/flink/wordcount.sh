#!/usr/bin/env bash
# Runs Apache Flink 2.3's word count (WordCount.java beside this script) on INPUT at each
# parallelism given and prints, per run, one line `job_ms P MS CPU_MS`: Flink's own job
# duration (REST /jobs/:id "duration") on a warm TaskManager, after one warm-up run (the
# cluster's start is not counted), and the CPU time (user + system) the TaskManager process
# used meanwhile, which a loaded machine inflates less than the duration. `wflink bench` runs it; a user can too:
#
#   bash runtime/benches/flink/wordcount.sh INPUT 1 2
#
# On first use it installs Flink from the `apache-flink` and `apache-flink-libraries` wheels on
# PyPI (install.sh; about 400 MB) into FLINK_BENCH_CACHE (default
# target/flink-bench beside this repository's Cargo.toml) and compiles the job with javac
# against Flink's jars. Needs java and javac 17+, python3 with pip, curl.
#   FLINK_BENCH_RUNS  measured runs per parallelism (default 1; the best is what counts)
#   FLINK_REST_PORT   Flink's REST port (default: a free one, as is its RPC port), so a wflink
#                     cluster (8081) or another Flink can run beside it
# On failure it prints one line saying why on stderr and exits non-zero.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() { echo "$*" >&2; exit 1; }
[ $# -ge 2 ] || fail "usage: wordcount.sh INPUT PARALLELISM..."
input=$(realpath "$1"); shift
cache="${FLINK_BENCH_CACHE:-$here/../../../target/flink-bench}"
mkdir -p "$cache" && cache=$(realpath "$cache")
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port="${FLINK_REST_PORT:-$(free_port)}"
runs="${FLINK_BENCH_RUNS:-1}"
jar="$cache/job/wordcount.jar"
command -v javac >/dev/null || fail "javac not found (Flink 2.3 needs a JDK 17+)"
command -v python3 >/dev/null || fail "python3 not found (it installs Flink from PyPI)"

. "$here/install.sh"
if [ ! -f "$jar" ] || [ "$here/WordCount.java" -nt "$jar" ]; then
  rm -rf "$cache/job/classes" && mkdir -p "$cache/job/classes"
  javac --release 17 -cp "$home/lib/*" -d "$cache/job/classes" "$here/WordCount.java" >&2 ||
    fail "javac could not compile WordCount.java against Flink's jars"
  jar cf "$jar" -C "$cache/job/classes" .
fi

# this run's ports: the JobManager's RPC port is the one nested `    port:` of config.yaml
sed -i "/^rest.port: /d; s/^    port: [0-9]*\$/    port: $(free_port)/" "$home/conf/config.yaml"
printf 'rest.port: %s\n' "$port" >>"$home/conf/config.yaml"
export FLINK_HOME="$home"
rest="http://127.0.0.1:$port"
curl -sf "$rest/overview" >/dev/null && fail "something already answers on $rest (set FLINK_REST_PORT)"
"$home/bin/start-cluster.sh" >/dev/null 2>&1 || fail "Flink's start-cluster.sh failed (see $home/log)"
trap '"$home/bin/stop-cluster.sh" >/dev/null 2>&1' EXIT
for _ in $(seq 1 120); do
  tms=$(curl -sf "$rest/overview" | python3 -c 'import json,sys;print(json.load(sys.stdin)["taskmanagers"])' 2>/dev/null) || true
  [ "$tms" = 1 ] && break
  sleep 0.5
done
[ "${tms:-0}" = 1 ] || fail "Flink's TaskManager did not register within 60 s (see $home/log)"

tm_pid=$(cat "$home"/log/flink-*-taskexecutor.pid 2>/dev/null | head -1)
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
  out=$("$home/bin/flink" run -m "127.0.0.1:$port" -p "$1" -c WordCount "$jar" "$input" "$1" 2>&1) ||
    fail "flink run failed: $(echo "$out" | grep -v '^\s*at ' | tail -2 | tr '\n' ' ')"
  jid=$(echo "$out" | awk '/^JOB_ID /{print $2}')
  echo "$(curl -sf "$rest/jobs/$jid" | python3 -c 'import json,sys;print(json.load(sys.stdin)["duration"])') $(($(tm_cpu_ms) - cpu))"
}

job_ms 2 >/dev/null # warm-up: loads the classes and JIT-compiles the job in both slots
for p in "$@"; do
  for _ in $(seq 1 "$runs"); do echo "job_ms $p $(job_ms "$p")"; done
done
