"""Operational endpoints: probes, metrics, request logging, security headers, CLI."""

from flask import Blueprint

bp = Blueprint("ops", __name__)

from app.ops import headers, requests, views  # noqa: E402,F401
