#!/usr/bin/env bash
# Every scenario as run for docs/performance.md, in order (ceilings first). Tables land in bench/results/.
# Usage: bench/run_all.sh [group...]   groups: ceilings fanout hot many idle webhooks scaleout modes
# "fixed" = bench/serve_tuned.py: run.py plus the fixes proposed in docs/performance.md.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
REDIS=(--env SOCKETIO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0)
FIXED=(--server eventlet-tuned --env BENCH_TCP_NODELAY=1 --env BENCH_WSGI_MAX_SIZE=100000
       --env BENCH_COALESCE_WATCHERS=1 --env BENCH_SESSION_RECHECK=5)
run() { echo "== $* (load $(cut -d' ' -f1-3 /proc/loadavg))"; "$PY" -m "$@"; }
groups=${*:-ceilings fanout hot many idle webhooks scaleout modes}
for g in $groups; do
  case $g in
    ceilings)
      run bench.db_ceiling --threads 1 8 16 --duration 10
      run bench.fanout --server bare --watchers 500 --rate 20
      run bench.fanout --server bare --watchers 2000 --rate 50
      run bench.fanout --server bare --watchers 500 --rate 20 --env TCP_NODELAY=1
      run bench.fanout --server bare --watchers 2000 --rate 50 --env TCP_NODELAY=1 ;;
    fanout)
      run bench.fanout --watchers 500 --rate 20
      run bench.fanout "${FIXED[@]}" --watchers 500 --rate 20
      run bench.fanout "${FIXED[@]}" --watchers 2000 --rate 50 ;;
    hot)
      run bench.hot_auction --ceiling
      run bench.hot_auction --rate 200
      run bench.hot_auction --env DB_OFFLOAD=none
      run bench.hot_auction --rate 200 --env DB_OFFLOAD=none
      run bench.hot_auction "${FIXED[@]}" --rate 200
      run bench.hot_auction --profile cpu ;;
    many)
      run bench.many_auctions "${FIXED[@]}" ;;
    idle)
      run bench.idle --connections 2000 --duration 10
      run bench.idle "${FIXED[@]}" --connections 10000 --duration 10 ;;
    webhooks)
      run bench.webhooks ;;
    scaleout)
      run bench.fanout "${FIXED[@]}" "${REDIS[@]}" --watchers 2000 --rate 50 --servers 2
      run bench.fanout "${FIXED[@]}" "${REDIS[@]}" --watchers 2000 --rate 50 --servers 1 ;;
    modes)
      run bench.hot_auction --server threading
      run bench.fanout --server threading --watchers 500 --rate 20 ;;
  esac
done
