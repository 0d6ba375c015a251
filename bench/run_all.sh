#!/usr/bin/env bash
# Every scenario as run for docs/performance.md, in order (ceilings first). Tables land in bench/results/.
# Usage: bench/run_all.sh [group...]   groups: ceilings fanout hot many idle webhooks scaleout modes alerts events
# (events, issue #33's sale event, takes about 2.5 hours: it runs only when named)
# The fixes bench/serve_tuned.py once switched on (TCP_NODELAY, max_size, coalesced watcher counts, the
# login re-check) are all in run.py and the app now, so every run is the real server.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
REDIS=(--env SOCKETIO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0)
run() { echo "== $* (load $(cut -d' ' -f1-3 /proc/loadavg))"; "$PY" -m "$@"; }
groups=${*:-ceilings fanout hot many idle webhooks scaleout modes alerts}
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
      run bench.fanout --watchers 2000 --rate 50 ;;
    hot)
      run bench.hot_auction --ceiling
      run bench.hot_auction --rate 200
      run bench.hot_auction --env DB_OFFLOAD=none
      run bench.hot_auction --rate 200 --env DB_OFFLOAD=none
      run bench.hot_auction --profile cpu ;;
    many)
      run bench.many_auctions ;;
    idle)
      run bench.idle --connections 2000 --duration 10
      run bench.idle --connections 10000 --duration 10 ;;
    webhooks)
      run bench.webhooks
      run bench.webhooks --servers 2 ;;
    scaleout)
      run bench.fanout "${REDIS[@]}" --watchers 2000 --rate 50 --servers 2
      run bench.fanout "${REDIS[@]}" --watchers 2000 --rate 50 --servers 1 ;;
    modes)
      run bench.hot_auction --server threading
      run bench.fanout --server threading --watchers 500 --rate 20 ;;
    alerts)
      run bench.alerts_cpu
      run bench.alerts
      run bench.alerts --topology jobs --mails 0
      run bench.hot_auction
      run bench.hot_auction --env ALERTS_INTERVAL=0 ;;
    events)
      run bench.events --lots 40 --interval 5 --ceiling
      run bench.events --ceiling ;;
  esac
done
