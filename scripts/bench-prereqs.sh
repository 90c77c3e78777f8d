#!/usr/bin/env bash
# What `make bench` needs besides the virtualenv: wrk (Debian's package) and a PostgreSQL server to measure against.
set -euo pipefail
if ! command -v wrk >/dev/null && [ ! -x /usr/bin/wrk ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "==> installing Debian's wrk (the load generator of bench/api.py and bench/memory.py)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "wrk is missing and cannot be installed here (need root and apt-get): sudo apt-get install wrk" >&2
    exit 1
  fi
fi
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
    echo "==> starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi
