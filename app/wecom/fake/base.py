"""The fake server's machinery: clock, tokens, frequency limits, cursors, errors, media."""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict


class FakeClock:
    """Unix seconds: real time plus an offset, or frozen at ``start`` plus the offset."""

    def __init__(self, start: float | None = None) -> None:
        self.start = start
        self.offset = 0.0

    def __call__(self) -> float:
        return (self.start if self.start is not None else time.time()) + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (tests never sleep)."""
        self.offset += seconds


class Fail(Exception):
    """An errcode answer (HTTP 200 with a non-zero ``errcode``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FakeBase:
    """Tokens, limits, one-shot failures, cursors and media shared by every endpoint."""

    def __init__(self, *, corp_id: str, secret: str, clock: FakeClock, token_ttl: int,
                 media_ttl: int) -> None:
        self.corp_id, self.secret, self.clock = corp_id, secret, clock
        self.token_ttl, self.media_ttl = token_ttl, media_ttl
        self.lock = threading.RLock()
        self.tokens: dict[str, float] = {}  # token → expiry (Unix seconds)
        self.revoked: set[str] = set()
        self.gettoken_calls = 0
        self.calls: list[tuple[str, str]] = []  # (method, path) of every business call
        self.limits: dict[str, tuple[int, float]] = {
            "externalcontact/add_moment_task": (10, 60.0)}  # path → (calls, window seconds)
        self.default_limit = (10_000, 60.0)
        self.counters: dict[tuple[str, int], int] = defaultdict(int)
        self.concurrency: dict[str, int] = {}  # path → most calls in flight
        self.in_flight: dict[str, int] = defaultdict(int)
        self.injected: dict[str, list[int]] = defaultdict(list)  # path → errcodes to answer
        self.holds: dict[str, threading.Event] = {}
        self.cursors: dict[str, int] = {}
        self.media: dict[str, dict] = {}
        self.uploads = 0

    # -- test controls --------------------------------------------------------------------
    def revoke_tokens(self) -> None:
        """Invalidate every live token early (WeCom answers 40014 from now on)."""
        with self.lock:
            self.revoked.update(self.tokens)

    def fail_next(self, path: str, code: int, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``path`` with ``code`` (-1, 45009, 45033 …)."""
        with self.lock:
            self.injected[path].extend([code] * times)

    def set_limit(self, path: str, calls: int, window_seconds: float) -> None:
        """At most ``calls`` calls of ``path`` per window (then 45009)."""
        self.limits[path] = (calls, window_seconds)

    def hold(self, path: str) -> threading.Event:
        """Process calls of ``path`` but answer only once the returned event is set."""
        event = threading.Event()
        self.holds[path] = event
        return event

    def count(self, path: str) -> int:
        """How many business calls of ``path`` reached the server."""
        return sum(1 for _, called in self.calls if called == path)

    # -- machinery ------------------------------------------------------------------------
    def gettoken(self, args) -> dict:
        if not args.get("corpsecret"):
            raise Fail(41004, "corpsecret missing")
        if args.get("corpid") != self.corp_id:
            raise Fail(40013, "invalid corpid")
        with self.lock:
            self.gettoken_calls += 1
            if args["corpsecret"] != self.secret:
                raise Fail(40001, "invalid credential")
            token = secrets.token_urlsafe(48)
            self.tokens[token] = self.clock() + self.token_ttl
        return {"access_token": token, "expires_in": self.token_ttl}

    def check_token(self, method: str, path: str, token: str | None) -> None:
        with self.lock:
            self.calls.append((method, path))
        if not token:
            raise Fail(41001, "access_token missing")
        with self.lock:
            expiry = self.tokens.get(token)
            if expiry is None or token in self.revoked:
                raise Fail(40014, "invalid access_token")
            if self.clock() >= expiry:
                raise Fail(42001, "access_token expired")

    def admit(self, method: str, path: str) -> None:
        """Record the call; apply injected errors and the frequency limit."""
        with self.lock:
            if self.injected.get(path):
                code = self.injected[path].pop(0)
                raise Fail(code, {45009: "api freq out of limit", -1: "system busy",
                                  45033: "api concurrent out of limit"}.get(code, "injected"))
            calls, window = self.limits.get(path, self.default_limit)
            key = (path, int(self.clock() // window))
            self.counters[key] += 1
            if self.counters[key] > calls:
                raise Fail(45009, "api freq out of limit")
            gate = self.concurrency.get(path)
            if gate is not None and self.in_flight[path] >= gate:
                raise Fail(45033, "api concurrent out of limit")
            self.in_flight[path] += 1

    def release(self, path: str) -> None:
        with self.lock:
            self.in_flight[path] = max(0, self.in_flight[path] - 1)

    def page(self, items: list, body: dict, *, default: int, maximum: int,
             over_max: str = "default") -> tuple[list, str]:
        """One page of ``items`` after the body's opaque ``cursor``; ``("", …)`` on the last.

        ``limit`` over ``maximum`` becomes ``default`` (or ``maximum`` if ``over_max``
        is ``"max"``), as WeCom documents per API.
        """
        limit = int(body.get("limit") or default)
        if limit > maximum:
            limit = maximum if over_max == "max" else default
        cursor = body.get("cursor") or ""
        with self.lock:
            if cursor and cursor not in self.cursors:
                raise Fail(40058, "invalid cursor")
            start = self.cursors.get(cursor, 0) if cursor else 0
            chunk = items[start:start + limit]
            next_cursor = ""
            if start + limit < len(items):
                next_cursor = secrets.token_hex(12)
                self.cursors[next_cursor] = start + limit
        return chunk, next_cursor

    def store_media(self, kind: str) -> dict:
        media_id = f"{kind[0]}{secrets.token_hex(20)}"
        with self.lock:
            self.uploads += 1
            self.media[media_id] = {"kind": kind, "created_at": self.clock()}
        return {"type": "image", "media_id": media_id, "created_at": str(int(self.clock()))}

    def check_media(self, media_id: str, kind: str) -> None:
        item = self.media.get(media_id)
        if item is None or item["kind"] != kind:
            raise Fail(40007, "invalid media_id")
        if self.clock() - item["created_at"] >= self.media_ttl:
            raise Fail(40007, "invalid media_id (expired)")

    def expire_media(self) -> None:
        """Age every uploaded media id past its TTL (the 3 days have passed)."""
        with self.lock:
            for item in self.media.values():
                item["created_at"] -= self.media_ttl
