#!/usr/bin/env bash
# The production-like stack in the foreground: migrate, seed the demo once, then gunicorn,
# the scheduler and one task worker; Ctrl+C (or SIGTERM) stops all three.
# Environment: DATABASE_URL (PostgreSQL), RATELIMIT_STORAGE_URI and TASK_QUEUE_URL (Redis),
# GUNICORN_BIND (default 127.0.0.1:8000) and the other gunicorn.conf.py settings.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FLASK_APP=app.factory BUSINESS_DATE="${BUSINESS_DATE-2025-04-25}"
$BIN/flask db upgrade
$BIN/flask demo seed
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; }
trap stop EXIT INT TERM
$BIN/flask scheduler run & pids+=($!)
$BIN/flask tasks worker --threads 2 & pids+=($!)
$BIN/gunicorn app.wsgi:application & pids+=($!)
echo "serving on http://${GUNICORN_BIND:-127.0.0.1:8000} (Ctrl+C stops)"
wait -n "${pids[@]}"
