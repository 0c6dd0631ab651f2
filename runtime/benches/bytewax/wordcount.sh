#!/usr/bin/env bash
# Runs Bytewax's word count (wordcount.py beside this script) on INPUT in one worker and
# prints `job_ms MS CPU_MS WORDS` (see wordcount.py). `wflink bench-languages` runs it beside
# wflink's Python word count; a user can too:
#
#   bash runtime/benches/bytewax/wordcount.sh INPUT
#
# On first use it installs Bytewax 0.21.1 from PyPI into a virtual environment in
# BYTEWAX_BENCH_CACHE (default target/bench-bytewax beside this repository's Cargo.toml).
# Needs python3 with venv and pip. On failure it prints one line saying why on stderr and
# exits non-zero.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() { echo "$*" >&2; exit 1; }
[ $# -eq 1 ] || fail "usage: wordcount.sh INPUT"
[ -f "$1" ] || fail "no input file at $1"
cache="${BYTEWAX_BENCH_CACHE:-$here/../../../target/bench-bytewax}"
mkdir -p "$cache" && cache=$(realpath "$cache")
venv="$cache/venv"
command -v python3 >/dev/null || fail "python3 not found (Bytewax is a Python package)"
if ! "$venv/bin/python" -c 'import bytewax' 2>/dev/null; then
  echo "installing Bytewax 0.21.1 from PyPI into $venv ..." >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2 || fail "python3 -m venv failed (is python3-venv installed?)"
  "$venv/bin/pip" install -q bytewax==0.21.1 >&2 || fail "could not install bytewax 0.21.1 from PyPI"
fi
exec "$venv/bin/python" "$here/wordcount.py" "$1"
