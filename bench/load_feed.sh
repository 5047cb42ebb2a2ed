#!/usr/bin/env bash
# Load test of the production-like stack on PostgreSQL (issue 11), bounded in time, loopback only.
#
# Starts deploy/serve_stack.sh (gunicorn + scheduler + task worker, Redis for limits and the
# queue) on its own database, waits for /readyz, then runs wrk at 50 connections for
# DURATION seconds each against:
#   floor      GET /healthz                  (gunicorn + Flask, no database: the serving floor)
#   feed       GET /api/v1/feed/today        (rm001's bearer token)
#   scorecard  GET /metrics/scorecard        (manager's session cookie, one branch, this week)
# and prints requests/s, p50, p95, p99 and errors for each. Stops the stack on exit.
#
# Usage: bench/load_feed.sh [DURATION_SECONDS=20] ; env: BENCH_DATABASE, BENCH_PORT,
#        GUNICORN_WORKERS / GUNICORN_THREADS (gunicorn.conf.py defaults: 2 x cores, 4 threads).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-20}"
PORT="${BENCH_PORT:-8722}"
DATABASE="${BENCH_DATABASE:-zhongtai_bench}"
BIN=.venv/bin
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
export FLASK_APP=app.factory BUSINESS_DATE=2025-04-25
export DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$DATABASE"
export RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 TASK_QUEUE_URL=redis://127.0.0.1:6379/1
export TASK_QUEUE_NAMESPACE=zhongtai-bench LOG_FORMAT=json GUNICORN_BIND="127.0.0.1:$PORT"
export GUNICORN_ACCESS_LOG=""  # the app logs one JSON line per request already
psql -h 127.0.0.1 -U postgres -d "$DATABASE" -c 'SELECT 1' >/dev/null 2>&1 || \
  createdb -h 127.0.0.1 -U postgres "$DATABASE"
work="$(mktemp -d)"
setsid bash deploy/serve_stack.sh >"$work/stack.log" 2>&1 &
stack=$!
trap 'kill -- -$stack 2>/dev/null || true; wait $stack 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 240); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 $stack 2>/dev/null || { tail -20 "$work/stack.log"; exit 1; }
  sleep 1
done
curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null || { tail -20 "$work/stack.log"; curl -s "http://127.0.0.1:$PORT/readyz"; exit 1; }
TOKEN="$($BIN/flask users token rm001 | tail -1)"
COOKIE="$($BIN/python - <<'PY'
from sqlalchemy import select
from app.factory import create_app
from app.core.extensions import db
from app.org.models import User
app = create_app()
with app.app_context():
    user = db.session.scalar(select(User).where(User.username == "manager"))
    value = app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": user.get_id(), "_fresh": True, "_permanent": True})
print(f"{app.config['SESSION_COOKIE_NAME']}={value}")
PY
)"
cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %.1f %.1f %.1f %.1f %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, errors, summary.requests))
end
LUA
run() {  # name path header
  local line
  line="$(wrk -t2 -c50 -d"${DURATION}s" --timeout 10s -s "$work/report.lua" -H "$3" \
          "http://127.0.0.1:$PORT$2" | grep '^RESULT')"
  read -r _ rps p50 p95 p99 errors total <<<"$line"
  printf '%-10s %8s req/s  p50 %7s ms  p95 %7s ms  p99 %7s ms  errors %s of %s\n' \
    "$1" "$rps" "$p50" "$p95" "$p99" "$errors" "$total"
}
echo "load: 50 connections, ${DURATION}s each, wrk 2 threads on the same $(nproc) cores;" \
     "gunicorn ${GUNICORN_WORKERS:-$(( $(nproc) * 2 ))} workers x ${GUNICORN_THREADS:-4} threads;" \
     "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
run floor /healthz "X-Bench: floor"
run feed /api/v1/feed/today "Authorization: Bearer $TOKEN"
run scorecard "/metrics/scorecard?period=weekly&end=2025-04-25" "Cookie: $COOKIE"
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
