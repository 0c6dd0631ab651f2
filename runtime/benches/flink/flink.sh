# The part of the Flink harness every job script shares (sourced by wordcount.sh and latency.sh):
# installs Apache Flink 2.3 on first use, compiles a job, starts a cluster on free ports and stops
# it when the script exits.
#
# On first use it installs Flink from the `apache-flink` and `apache-flink-libraries` wheels on
# PyPI (they carry the whole distribution; about 400 MB) into FLINK_BENCH_CACHE (default
# target/flink-bench beside this repository's Cargo.toml) and compiles the job with javac
# against Flink's jars. Needs java and javac 17+, python3 with pip, curl.
#   FLINK_REST_PORT   Flink's REST port (default: a free one, as is its RPC port), so a wflink
#                     cluster (8081) or another Flink can run beside it
# On failure a script prints one line saying why on stderr and exits non-zero.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() { echo "$*" >&2; exit 1; }
cache="${FLINK_BENCH_CACHE:-$here/../../../target/flink-bench}"
mkdir -p "$cache" && cache=$(realpath "$cache")
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port="${FLINK_REST_PORT:-$(free_port)}"
home="$cache/flink-2.3.0"
rest="http://127.0.0.1:$port"
command -v javac >/dev/null || fail "javac not found (Flink 2.3 needs a JDK 17+)"
command -v python3 >/dev/null || fail "python3 not found (it installs Flink from PyPI)"

. "$here/install.sh"

# Compiles the job NAME.java beside this script into $cache/job/NAME.jar (when it is newer) and
# prints the jar's path.
job_jar() {
  local classes="$cache/job/$1-classes" jar="$cache/job/$1.jar"
  if [ ! -f "$jar" ] || [ "$here/$1.java" -nt "$jar" ]; then
    rm -rf "$classes" && mkdir -p "$classes"
    javac --release 17 -cp "$home/lib/*" -d "$classes" "$here/$1.java" >&2 ||
      fail "javac could not compile $1.java against Flink's jars"
    jar cf "$jar" -C "$classes" .
  fi
  echo "$jar"
}

# Starts the cluster (one JobManager, one TaskManager with 2 slots) on this run's ports, waits
# for the TaskManager, and stops the cluster when the script exits. Sets tm_pid.
start_cluster() {
  # the JobManager's RPC port is the one nested `    port:` of config.yaml
  sed -i "/^rest.port: /d; s/^    port: [0-9]*\$/    port: $(free_port)/" "$home/conf/config.yaml"
  printf 'rest.port: %s\n' "$port" >>"$home/conf/config.yaml"
  export FLINK_HOME="$home"
  curl -sf "$rest/overview" >/dev/null && fail "something already answers on $rest (set FLINK_REST_PORT)"
  "$home/bin/start-cluster.sh" >/dev/null 2>&1 || fail "Flink's start-cluster.sh failed (see $home/log)"
  trap '"$home/bin/stop-cluster.sh" >/dev/null 2>&1' EXIT
  local tms
  for _ in $(seq 1 120); do
    tms=$(curl -sf "$rest/overview" | python3 -c 'import json,sys;print(json.load(sys.stdin)["taskmanagers"])' 2>/dev/null) || true
    [ "$tms" = 1 ] && break
    sleep 0.5
  done
  [ "${tms:-0}" = 1 ] || fail "Flink's TaskManager did not register within 60 s (see $home/log)"
  tm_pid=$(cat "$home"/log/flink-*-taskexecutor.pid 2>/dev/null | head -1)
}

# Runs `flink run` with the arguments given (attached: it waits for the job) and prints its
# output; fails with the error's last lines.
flink_run() {
  local out
  out=$("$home/bin/flink" run -m "127.0.0.1:$port" "$@" 2>&1) ||
    fail "flink run failed: $(echo "$out" | grep -v '^\s*at ' | tail -2 | tr '\n' ' ')"
  echo "$out"
}
