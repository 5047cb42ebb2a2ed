"""How the app meets its server and its database: proxy headers, connection pool, JIT.

- ``PROXY_FIX_HOPS`` > 0 wraps the WSGI app in werkzeug's ``ProxyFix``, trusting that many
  ``X-Forwarded-For/-Proto/-Host/-Port/-Prefix`` values: the client address (login limits,
  logs), the scheme (secure cookies, HSTS) and the host of URLs come from the proxy, and a
  client cannot forge them past the trusted hops.
- PostgreSQL connections run with ``jit = off``: JIT compiled the scorecard query for 1.6 s
  although it then ran in 60 ms. They also run with ``random_page_cost = 1.1``
  (``DB_RANDOM_PAGE_COST``): with the server's default of 4, made for spinning disks, the
  planner read the whole of ``tasks`` and ``interaction_events`` for one day of the whole
  bank, or a month of a branch, and took 2 to 4 times longer than with the index lookups
  (tests/metrics/test_explain_postgres.py). Each process keeps a pool of ``DB_POOL_SIZE``
  connections plus ``DB_MAX_OVERFLOW`` in bursts (docs/deployment.md "Connections" sizes them).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def install_proxy_fix(app: Flask) -> None:
    """Trust ``PROXY_FIX_HOPS`` reverse proxies (0: none, the app faces clients directly).

    :raises ValueError: a negative number of hops.
    """
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops < 0:
        raise ValueError("PROXY_FIX_HOPS must be 0 or more")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)


def postgres_connect_options(config) -> str:
    """The libpq ``options`` of the app's connections: ``-c jit=off`` and the planner's costs.

    :param config: app config; ``DB_RANDOM_PAGE_COST`` (non-empty: a number > 0) sets
        ``random_page_cost``; ``DB_STATEMENT_TIMEOUT_MS`` > 0 adds ``statement_timeout``.
    :raises ValueError: ``DB_RANDOM_PAGE_COST`` is not a positive number.
    """
    options = "-c jit=off"
    page_cost = str(config.get("DB_RANDOM_PAGE_COST") or "").strip()
    if page_cost:
        try:
            valid = float(page_cost) > 0
        except ValueError:
            valid = False
        if not valid:
            raise ValueError(f"DB_RANDOM_PAGE_COST must be a number > 0, not {page_cost!r}")
        options += f" -c random_page_cost={float(page_cost)}"
    timeout = int(config.get("DB_STATEMENT_TIMEOUT_MS") or 0)
    if timeout > 0:
        options += f" -c statement_timeout={timeout}"
    return options


def configure_engine_options(app: Flask) -> None:
    """Fill ``SQLALCHEMY_ENGINE_OPTIONS`` for the configured database (before ``db.init_app``).

    PostgreSQL: pool size, overflow, timeout and recycle from ``DB_*`` settings, and
    :func:`postgres_connect_options`. Options already set in the config win.
    """
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_pre_ping", True)
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        options.setdefault("pool_size", app.config["DB_POOL_SIZE"])
        options.setdefault("max_overflow", app.config["DB_MAX_OVERFLOW"])
        options.setdefault("pool_timeout", app.config["DB_POOL_TIMEOUT_SECONDS"])
        options.setdefault("pool_recycle", app.config["DB_POOL_RECYCLE_SECONDS"])
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", postgres_connect_options(app.config))
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
