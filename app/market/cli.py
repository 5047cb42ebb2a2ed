"""CLI: ``flask market ...``."""

from flask.cli import AppGroup

market_cli = AppGroup("market", help="Market data 行情数据.")
