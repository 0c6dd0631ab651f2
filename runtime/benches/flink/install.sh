#!/usr/bin/env bash
# Installs Apache Flink 2.3.0 from the `apache-flink` and `apache-flink-libraries` wheels on PyPI
# (they carry the whole distribution; about 400 MB) into $cache/flink-2.3.0, once, and sets `home`
# to it. Sourced, with `cache` set and a `fail` function defined, by flink.sh beside it (the
# bench jobs' shared part) and by tests/flink-rest-samples/recorder/record.sh. Needs python3 with pip.
if [ ! -f "$cache/flink-2.3.0/lib/flink-dist-2.3.0.jar" ]; then
  home="$cache/flink-2.3.0"
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
  # one TaskManager with 2 slots; pid files of its own (stop-cluster.sh stops what they list)
  sed -i 's/numberOfTaskSlots: 1$/numberOfTaskSlots: 2/' "$home/conf/config.yaml"
  printf '\nenv.pid.dir: %s\n' "$home/log" >>"$home/conf/config.yaml"
  rm -rf "$cache/wheels" "$cache/unpacked"
fi
home="$cache/flink-2.3.0"
