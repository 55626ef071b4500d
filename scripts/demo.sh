#!/usr/bin/env bash
# `make demo` after the install: migrate, load the demo data, then serve it the way production
# is served - gunicorn (+ WhiteNoise for static files), a Celery worker and beat when REDIS_URL
# is set, and the simulated department systems (two departments, four utility companies). The
# console shows a short summary and warnings only; everything else goes to var/ (demo.log,
# demo-*.log). Ctrl-C stops every process this script started and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}
SIM_PORT=${SIM_PORT:-8766}
VAR=${DEMO_VAR:-$PWD/var}  # logs, simulator records (tests/core/test_demo_script.py: a tmp dir)
mkdir -p "$VAR"
export DEBUG=${DEBUG:-true}
export SITE_URL=${SITE_URL:-http://127.0.0.1:$PORT}
export DEMO_SIMULATOR_PORT=$SIM_PORT
export LOG_LEVEL=${LOG_LEVEL:-WARNING}
export LOG_FILE=${LOG_FILE:-$VAR/demo.log}
# Every SMS to var/demo-sms.log; only verification codes also print here.
export SMS_BACKEND=${SMS_BACKEND:-apps.notifications.sms.DemoSmsBackend}
export SMS_LOG_FILE=${SMS_LOG_FILE:-$VAR/demo-sms.log}
MANAGE=("$BIN/python" manage.py)

run_logged() {  # run_logged <log> <command...>: output to the log; its tail on failure
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "demo: '$*' failed; full output in $log" >&2
        exit 1
    fi
}

trap 'echo; echo "demo: interrupted while loading"; exit 0' INT TERM
echo "demo: migrating and loading demo data (details in var/demo-load.log) ..."
run_logged "$VAR/demo-load.log" "${MANAGE[@]}" migrate --noinput -v 1
run_logged "$VAR/demo-load.log.tmp" "${MANAGE[@]}" loaddemo
cat "$VAR/demo-load.log.tmp" >>"$VAR/demo-load.log" && rm -f "$VAR/demo-load.log.tmp"

# Every process below runs in a session of its own (setsid), so Ctrl-C reaches this script
# only, which stops them with TERM: gunicorn and Celery shut down gracefully.
pids=()
stop() {  # stop [exit status]: end every process started here
    trap - INT TERM EXIT
    echo
    echo "demo: stopping ..."
    if [ ${#pids[@]} -gt 0 ]; then
        kill -TERM "${pids[@]}" 2>/dev/null || true
        for _ in $(seq 1 40); do
            kill -0 "${pids[@]}" 2>/dev/null || break
            sleep 0.25
        done
        kill -KILL "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
    echo "demo: stopped"
    exit "${1:-0}"
}
trap stop INT TERM
trap 'kill -TERM "${pids[@]}" 2>/dev/null || true' EXIT

SIM_PORTAL=(--portal-url "http://127.0.0.1:$PORT" --client-secret govportal-demo-secret)
setsid "${MANAGE[@]}" department_simulator --mode push --port "$SIM_PORT" \
    --key demo-k1=demo-handoff-secret-please-rotate --record "$VAR/demo-sim-push.sqlite3" \
    "${SIM_PORTAL[@]}" --client-id demo-dept-api --answer both --answer-subject cases.case \
    --answer-delay 5 >"$VAR/demo-sim-push.log" 2>&1 &
pids+=($!)
setsid "${MANAGE[@]}" department_simulator --mode pull --record "$VAR/demo-sim-pull.sqlite3" \
    "${SIM_PORTAL[@]}" --client-id demo-pull-api --poll-interval 2 --answer received \
    >"$VAR/demo-sim-pull.log" 2>&1 &
pids+=($!)
# The water, power, gas and network companies of 二手房水电气网联动过户 (pull departments, one
# client each; apps/handoffs/demo.py UTILITY_CLIENTS): each polls its inbox, answers "received"
# and its decision 5 s later, so a transfer's utility children conclude by themselves. The
# simulator package runs without Django (`python -m apps.handoffs.simulator`), which keeps
# these four processes small.
for utility in water power gas network; do
    setsid "$BIN/python" -m apps.handoffs.simulator --mode pull \
        --record "$VAR/demo-sim-$utility.sqlite3" "${SIM_PORTAL[@]}" \
        --client-id "demo-$utility-api" --poll-interval 5 --answer both \
        --answer-subject cases.case --answer-delay 5 >"$VAR/demo-sim-$utility.log" 2>&1 &
    pids+=($!)
done
if [ -n "${REDIS_URL:-}" ]; then
    setsid "$BIN/celery" -A govportal worker -l warning --concurrency 2 -n "demo@%h" \
        --logfile "$VAR/demo-worker.log" >/dev/null 2>&1 &
    pids+=($!)
    setsid "$BIN/celery" -A govportal beat -l warning --schedule "$VAR/demo-beat-schedule" \
        --logfile "$VAR/demo-beat.log" >/dev/null 2>&1 &
    pids+=($!)
    tasks="a Celery worker and beat on $REDIS_URL (var/demo-worker.log, var/demo-beat.log)"
else
    tasks="in the web process (no REDIS_URL: Celery runs eagerly)"
fi
# SQLite demo: WAL and IMMEDIATE transactions (settings.py) let the workers' threads write.
setsid "$BIN/gunicorn" govportal.wsgi --bind "127.0.0.1:$PORT" --workers 2 --threads 4 \
    --timeout 60 --graceful-timeout 5 --log-level warning \
    --access-logfile "$VAR/demo-access.log" --error-logfile - &
pids+=($!)

database=$("${MANAGE[@]}" shell --no-imports -c \
    "from django.db import connection as c; print(c.vendor, c.settings_dict['NAME'])" 2>/dev/null)
"$BIN/python" - "http://127.0.0.1:$PORT/healthz" <<'PY' || true
import sys, time, urllib.request
for _ in range(60):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2)
        break
    except OSError:
        time.sleep(0.5)
PY
cat <<EOF

  govportal demo   $SITE_URL/
  back office      $SITE_URL/office/        API docs  $SITE_URL/api/docs/
  health           $SITE_URL/healthz
  accounts         demo-citizen, demo-enterprise, demo-clerk, demo-dept-admin
                   (password govportal-demo; SMS verification codes print here,
                   every SMS the demo sends is in var/demo-sms.log)
  database         $database
  tasks            $tasks
  departments      push receiver on :$SIM_PORT, pull poller, water/power/gas/network
                   companies polling their inboxes (var/demo-sim-*.log)
  logs             warnings here; details in var/demo.log, requests in var/demo-access.log

  Ctrl-C stops everything.
EOF
wait -n "${pids[@]}" || true
echo "demo: a process ended unexpectedly; see the logs in var/" >&2
stop 1
