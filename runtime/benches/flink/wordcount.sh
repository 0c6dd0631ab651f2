#!/usr/bin/env bash
# Runs Apache Flink 2.3's word count (WordCount.java beside this script) on INPUT at each
# parallelism given and prints, per run, one line `job_ms P MS`: Flink's own job duration
# (REST /jobs/:id "duration") on a warm TaskManager, after one warm-up run; the cluster's
# start is not counted. `wflink bench` runs it; a user can too:
#
#   bash runtime/benches/flink/wordcount.sh INPUT 1 2
#
# On first use it installs Flink from the `apache-flink` and `apache-flink-libraries` wheels on
# PyPI (they carry the whole distribution; about 400 MB) into FLINK_BENCH_CACHE (default
# target/flink-bench beside this repository's Cargo.toml) and compiles the job with javac
# against Flink's jars. Needs java and javac 17+, python3 with pip, curl.
#   FLINK_BENCH_RUNS  measured runs per parallelism (default 1; the best is what counts)
#   FLINK_REST_PORT   Flink's REST port (default 18181; its RPC port is 16223), so a wflink
#                     cluster (8081) or another Flink can run beside it
# On failure it prints one line saying why on stderr and exits non-zero.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() { echo "$*" >&2; exit 1; }
[ $# -ge 2 ] || fail "usage: wordcount.sh INPUT PARALLELISM..."
input=$(realpath "$1"); shift
cache="${FLINK_BENCH_CACHE:-$here/../../../target/flink-bench}"
mkdir -p "$cache" && cache=$(realpath "$cache")
port="${FLINK_REST_PORT:-18181}"
runs="${FLINK_BENCH_RUNS:-1}"
home="$cache/flink-2.3.0"
jar="$cache/job/wordcount.jar"
command -v javac >/dev/null || fail "javac not found (Flink 2.3 needs a JDK 17+)"
command -v python3 >/dev/null || fail "python3 not found (it installs Flink from PyPI)"

if [ ! -f "$home/lib/flink-dist-2.3.0.jar" ]; then
  echo "installing Apache Flink 2.3.0 from PyPI into $home ..." >&2
  rm -rf "$cache/wheels" "$cache/unpacked" "$home"
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux2014_x86_64 -d "$cache/wheels" apache-flink==2.3.0 apache-flink-libraries==2.3.0 \
    >&2 || fail "could not download the apache-flink 2.3.0 wheels from PyPI"
  for wheel in "$cache"/wheels/*.whl; do python3 -m zipfile -e "$wheel" "$cache/unpacked"; done
  mkdir -p "$home/log"
  # real copies: bin/config.sh runs `find lib/`, which does not follow a symlinked folder
  cp -r "$cache"/unpacked/pyflink/{bin,conf,lib,opt,plugins} "$home/"
  chmod +x "$home"/bin/*.sh "$home/bin/flink"
  # one TaskManager with 2 slots; ports and pid files of its own
  sed -i 's/numberOfTaskSlots: 1$/numberOfTaskSlots: 2/' "$home/conf/config.yaml"
  printf '\nrest.port: %s\njobmanager.rpc.port: 16223\nenv.pid.dir: %s\n' "$port" "$home/log" \
    >>"$home/conf/config.yaml"
  rm -rf "$cache/wheels" "$cache/unpacked"
fi
if [ ! -f "$jar" ] || [ "$here/WordCount.java" -nt "$jar" ]; then
  rm -rf "$cache/job/classes" && mkdir -p "$cache/job/classes"
  javac --release 17 -cp "$home/lib/*" -d "$cache/job/classes" "$here/WordCount.java" >&2 ||
    fail "javac could not compile WordCount.java against Flink's jars"
  jar cf "$jar" -C "$cache/job/classes" .
fi

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

# Runs the job at parallelism $1 and prints Flink's job duration in ms.
job_ms() {
  local out jid
  out=$("$home/bin/flink" run -m "127.0.0.1:$port" -p "$1" -c WordCount "$jar" "$input" "$1" 2>&1) ||
    fail "flink run failed: $(echo "$out" | grep -v '^\s*at ' | tail -2 | tr '\n' ' ')"
  jid=$(echo "$out" | awk '/^JOB_ID /{print $2}')
  curl -sf "$rest/jobs/$jid" | python3 -c 'import json,sys;print(json.load(sys.stdin)["duration"])'
}

job_ms 2 >/dev/null # warm-up: loads the classes and JIT-compiles the job in both slots
for p in "$@"; do
  for _ in $(seq 1 "$runs"); do echo "job_ms $p $(job_ms "$p")"; done
done
