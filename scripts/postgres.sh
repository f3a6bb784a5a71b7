#!/usr/bin/env bash
# Makes sure the machine's PostgreSQL answers on 127.0.0.1:5432 (database
# "test", trust auth), starting the Debian cluster when it has stopped.
set -euo pipefail
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ready; then exit 0; fi
if ! command -v pg_ctlcluster >/dev/null; then
  echo "postgres.sh: PostgreSQL is not answering on 127.0.0.1:5432 and pg_ctlcluster is not installed" >&2
  exit 1
fi
for v in $(ls /etc/postgresql); do
  pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
done
for _ in $(seq 1 60); do
  if ready; then
    psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" postgres | grep -q 1 \
      || psql -h 127.0.0.1 -U postgres -c "create database test" postgres >/dev/null
    exit 0
  fi
  sleep 0.5
done
echo "postgres.sh: PostgreSQL did not become ready on 127.0.0.1:5432" >&2
exit 1
