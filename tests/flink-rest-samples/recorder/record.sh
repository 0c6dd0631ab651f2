#!/usr/bin/env bash
# Records a real Flink 2.3's answers to the REST calls below as samples in the folder above this one
# (../NAME, listed in ../INDEX.txt), which the tests compare wflink's answers' shapes with:
#
#   bash tests/flink-rest-samples/recorder/record.sh
#
# Installs Flink from PyPI into target/flink-bench (runtime/benches/flink/install.sh), compiles
# ShapesJob.java beside this script against it, starts a cluster on free ports (its own config,
# logs and pid files under target/flink-bench/shapes), uploads and runs the job through /jars and
# calls each endpoint with curl; stops the cluster on exit. Needs java and javac 17+, python3, curl.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="$(cd "$here/.." && pwd)"
fail() { echo "$*" >&2; exit 1; }
cache="${FLINK_BENCH_CACHE:-$repo/target/flink-bench}"
mkdir -p "$cache" && cache=$(realpath "$cache")
. "$repo/runtime/benches/flink/install.sh"
work="$cache/shapes"
savepoints=/tmp/flink-shapes-savepoints # a path that says nothing of this machine, in the answers
rm -rf "$work" "$savepoints" && mkdir -p "$work/classes" "$work/log"
javac --release 17 -cp "$home/lib/*" -d "$work/classes" "$here/ShapesJob.java" >&2
jar cf "$work/shapes.jar" -C "$work/classes" .

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(free_port)
cp -r "$home/conf" "$work/conf"
# the JobManager's RPC port is the one nested `    port:`
sed -i "/^env.pid.dir: /d; s/^    port: [0-9]*\$/    port: $(free_port)/" "$work/conf/config.yaml"
printf 'rest.port: %s\nenv.pid.dir: %s\nenv.log.dir: %s\n' "$port" "$work/log" "$work/log" >>"$work/conf/config.yaml"
export FLINK_HOME="$home" FLINK_CONF_DIR="$work/conf"
rest="http://127.0.0.1:$port"
"$home/bin/start-cluster.sh" >/dev/null 2>&1 || fail "Flink's start-cluster.sh failed (see $work/log)"
trap '"$home/bin/stop-cluster.sh" >/dev/null 2>&1; rm -rf "$savepoints"' EXIT

json() { python3 -c "import json,sys;d=json.load(sys.stdin);print($1)"; }
# Polls `curl $2 | json $3` until it prints "True", for at most $1 seconds.
await() {
  for _ in $(seq 1 "$(($1 * 2))"); do
    [ "$(curl -sf "$rest$2" | json "$3" 2>/dev/null)" = True ] && return 0
    sleep 0.5
  done
  fail "timed out waiting for $2 to satisfy $3"
}
# Indents a JSON file, its Java stack traces cut to their first 3 lines and other long strings to 200
# characters (only the shapes matter).
shorten='
import json, sys
def cut(v):
    if isinstance(v, str) and v.count("\n") > 3: return "\n".join(v.split("\n")[:3]) + "\n\t..."
    if isinstance(v, str) and len(v) > 200: return v[:200] + "..."
    if isinstance(v, list): return [cut(x) for x in v]
    if isinstance(v, dict): return {k: cut(x) for k, x in v.items()}
    return v
print(json.dumps(cut(json.load(open(sys.argv[1]))), indent=1))'
# rec NAME METHOD PATH [CURL ARGS...]: saves the answer as ../NAME (indented JSON) and its line in ../INDEX.txt.
rec() {
  local name=$1 method=$2 path=$3 status
  shift 3
  status=$(curl -s -o "$work/answer" -w '%{http_code}' -X "$method" "$@" "$rest$path")
  python3 -c "$shorten" "$work/answer" >"$out/$name"
  index "$name" "$method $path ($status)"
  echo "$name: $status" >&2
}
# head NAME PATH: saves the status line and Content-Type of a file answer as ../NAME.
head_of() {
  curl -s -o /dev/null -D - "$rest$2" | tr -d '\r' | grep -i '^HTTP/\|^content-type:' >"$out/$1"
  index "$1" "GET $2 (status line and Content-Type)"
}
index() { { grep -v "^$1	" "$out/INDEX.txt" || true; printf '%s\t%s\n' "$1" "$2"; } >"$work/index" && mv "$work/index" "$out/INDEX.txt"; }

await 60 /overview 'd["taskmanagers"] == 1'
tm=$(curl -sf "$rest/taskmanagers" | json 'd["taskmanagers"][0]["id"]')
rec jars_upload.json POST /jars/upload -F "jarfile=@$work/shapes.jar"
jar=$(json 'd["filename"].split("/")[-1]' <"$out/jars_upload.json")
rec jars_list.json GET /jars
rec jars_id_plan.json GET "/jars/$jar/plan?entry-class=ShapesJob&parallelism=2"
rec jars_id_plan_post.json POST "/jars/$jar/plan" -H 'Content-Type: application/json' \
  -d '{"entryClass":"ShapesJob","parallelism":2}'
rec jars_id_run.json POST "/jars/$jar/run" -H 'Content-Type: application/json' \
  -d '{"entryClass":"ShapesJob","parallelism":2}'
job=$(json 'd["jobid"]' <"$out/jars_id_run.json")
jobs="/jobs/$job"
# running again after its first attempt failed, with a checkpoint since
await 120 "$jobs/exceptions" 'len(d["exceptionHistory"]["entries"]) > 0'
await 60 "$jobs/checkpoints" 'd["counts"]["completed"] >= 2'
await 60 "$jobs" 'd["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in d["vertices"])'
vertex=$(curl -sf "$rest$jobs" | json 'd["vertices"][0]["id"]')
checkpoint=$(curl -sf "$rest$jobs/checkpoints" | json 'd["latest"]["completed"]["id"]')
rec jobs_id_plan.json GET "$jobs/plan"
rec jobs_id_exceptions.json GET "$jobs/exceptions"
rec jobs_id_checkpoints.json GET "$jobs/checkpoints"
rec jobs_id_checkpoints_config.json GET "$jobs/checkpoints/config"
rec jobs_id_checkpoints_details_id.json GET "$jobs/checkpoints/details/$checkpoint"
rec jobs_id_vertices_id.json GET "$jobs/vertices/$vertex"
rec taskmanagers_id.json GET "/taskmanagers/$tm"
rec jobmanager_logs.json GET /jobmanager/logs
rec taskmanagers_id_logs.json GET "/taskmanagers/$tm/logs"
head_of jobmanager_log.head.txt /jobmanager/log
head_of jobmanager_stdout.head.txt /jobmanager/stdout
head_of jobmanager_logs_name.head.txt "/jobmanager/logs/$(json 'd["logs"][0]["name"]' <"$out/jobmanager_logs.json")"
head_of taskmanagers_id_log.head.txt "/taskmanagers/$tm/log"
head_of taskmanagers_id_stdout.head.txt "/taskmanagers/$tm/stdout"
head_of taskmanagers_id_logs_name.head.txt "/taskmanagers/$tm/logs/$(json 'd["logs"][0]["name"]' <"$out/taskmanagers_id_logs.json")"

rec jobs_id_savepoints.json POST "$jobs/savepoints" -H 'Content-Type: application/json' \
  -d "{\"target-directory\":\"file://$savepoints\",\"cancel-job\":false}"
trigger=$(json 'd["request-id"]' <"$out/jobs_id_savepoints.json")
await 60 "$jobs/savepoints/$trigger" 'd["status"]["id"] == "COMPLETED"'
rec jobs_id_savepoints_triggerid_completed.json GET "$jobs/savepoints/$trigger"
rec jobs_id_checkpoints_after_savepoint.json GET "$jobs/checkpoints"
rec jobs_id_savepoints_failing.json POST "$jobs/savepoints" -H 'Content-Type: application/json' \
  -d '{"target-directory":"file:///proc/no-savepoints-here","cancel-job":false}'
trigger=$(json 'd["request-id"]' <"$out/jobs_id_savepoints_failing.json")
await 60 "$jobs/savepoints/$trigger" 'd["status"]["id"] == "COMPLETED"'
rec jobs_id_savepoints_triggerid_failed.json GET "$jobs/savepoints/$trigger"
rec jobs_id_stop.json POST "$jobs/stop" -H 'Content-Type: application/json' \
  -d "{\"targetDirectory\":\"file://$savepoints\",\"drain\":false}"
trigger=$(json 'd["request-id"]' <"$out/jobs_id_stop.json")
await 60 "$jobs/savepoints/$trigger" 'd["status"]["id"] == "COMPLETED"'
rec jobs_id_stop_triggerid_completed.json GET "$jobs/savepoints/$trigger"
await 60 "$jobs" 'd["state"] == "FINISHED"'

job=$(curl -sf -X POST "$rest/jars/$jar/run?entry-class=ShapesJob" | json 'd["jobid"]')
await 60 "/jobs/$job" 'd["state"] == "RUNNING"'
rec jobs_id_patch_cancel.json PATCH "/jobs/$job?mode=cancel"
await 60 "/jobs/$job" 'd["state"] == "CANCELED"'
rec jars_id_delete.json DELETE "/jars/$jar"
rec jars_id_run_deleted.json POST "/jars/$jar/run"
