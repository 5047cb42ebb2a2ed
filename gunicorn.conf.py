"""gunicorn configuration for Zhongtai 中台 (read by default from the working directory).

Run: ``gunicorn app.wsgi:application`` from the repository root (systemd unit in
docs/deployment.md). Every value can be overridden by an environment variable of the same
name prefixed ``GUNICORN_`` (below) or on the command line.

- Workers: ``gthread`` processes, each with ``GUNICORN_THREADS`` threads: a request waits
  on PostgreSQL most of its time, and threads share one SQLAlchemy pool per process
  (keep threads <= DB_POOL_SIZE + DB_MAX_OVERFLOW).
- Graceful restart: ``systemctl reload zhongtai-web`` sends SIGHUP: gunicorn starts new
  workers with the new code and config, then stops the old ones after their requests
  finish (``graceful_timeout``). Workers are also recycled after ``max_requests``.
- Metrics: ``PROMETHEUS_MULTIPROC_DIR`` (default a folder under /tmp, emptied at start)
  lets ``/metrics`` sum the counters of every worker.
"""

import multiprocessing
import os
import shutil
import tempfile


def _env_int(name, default):
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = _env_int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2)
threads = _env_int("GUNICORN_THREADS", 4)
#: A worker silent this long is killed and replaced (a request needs less; scorecard pages
#: of the whole bank take a few seconds).
timeout = _env_int("GUNICORN_TIMEOUT_SECONDS", 60)
#: On SIGHUP/SIGTERM, requests in flight get this long to finish.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT_SECONDS", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE_SECONDS", 5)
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 500)
backlog = _env_int("GUNICORN_BACKLOG", 2048)
#: Heartbeat files on tmpfs: a worker blocked on a slow disk is not taken for dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
#: Request line and header limits (bodies are limited by the app: MAX_REQUEST_BYTES).
limit_request_line = 4094
limit_request_fields = 100
#: The proxy in front (nginx) sets X-Forwarded-*; the app trusts PROXY_FIX_HOPS of them.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "zhongtai-web"

#: Access log to stderr as JSON, one object per request: no query string (it may carry
#: tokens), no client address or user agent (personal data); the request id ties it to the
#: app's own log records. ``GUNICORN_ACCESS_LOG=`` (empty) turns it off.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = (
    '{"time": "%(t)s", "logger": "gunicorn.access", "method": "%(m)s", "path": "%(U)s", '
    '"status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, '
    '"request_id": "%({x-request-id}o)s"}'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def on_starting(server):
    """Give the workers an empty folder for their Prometheus counters."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        folder = os.path.join(tempfile.gettempdir(), f"zhongtai-prometheus-{os.getpid()}")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    """Drop the live gauges of a worker that exited (its counters stay summed)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
