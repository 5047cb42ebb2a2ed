"""The WeCom (企业微信) server API client: token, retries, back-off, typed errors, paging.

Every business call carries ``access_token`` in the query string. The client decides on
``errcode`` only (../shared/wecom-api.md §0, §8):

- 40014 / 42001 / 40001 (token rejected): refresh the token (single-flight, shared store)
  and retry the call once;
- -1, 45009, 45033 and the other frequency limits: back off exponentially with jitter
  (tenacity; ``sleep`` is injectable, tests never sleep) up to ``max_attempts``;
- any other code: the typed error of ``app.wecom.errors``.

Transport failures (timeouts, refused connections) are retried only for reads; a write
that timed out may have been accepted, so the caller (the push outbox) decides.
Logs name the method, path, errcode and duration; never the secret, the token, query
strings or bodies (bodies hold customer names on ``externalcontact/get``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterator

import httpx
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from app.wecom.errors import (
    ConfigError,
    RateLimited,
    TokenRejected,
    WeComError,
    WeComTransportError,
    error_for,
)
from app.wecom.tokens import TokenStore

logger = logging.getLogger(__name__)
OFFICIAL_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"
#: Paths that only read: a transport failure on them is retried like a rate limit.
_WRITE_PREFIXES = ("externalcontact/add_", "externalcontact/remind_", "externalcontact/cancel_",
                   "externalcontact/mark_tag", "media/")


class WeComClient:
    """One corp app's connection to WeCom (thread-safe; share one per process).

    :param base_url: API base ending in ``/`` (``WECOM_API_BASE``; tests: the fake server).
    :param corp_id: CorpID; :param secret: the 客户联系 app secret (never logged).
    :param token_store: shared token cache (``DatabaseTokenStore`` or ``RedisTokenStore``).
    :param sleep: called with seconds to wait between attempts (tests pass a recorder).
    :param clock: current Unix time in seconds (token and media expiry).
    :param timeout_seconds: per-request HTTP timeout.
    :param max_attempts: attempts per call under rate limits (1 = no retry).
    :param backoff_seconds: first wait; doubles per attempt up to ``backoff_max_seconds``.
    """

    def __init__(self, *, base_url: str, corp_id: str, secret: str, token_store: TokenStore,
                 http: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, timeout_seconds: float = 10.0,
                 max_attempts: int = 5, backoff_seconds: float = 2.0,
                 backoff_max_seconds: float = 120.0) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.corp_id = corp_id
        self._secret = secret
        self.token_store = token_store
        self.http = http or httpx.Client(timeout=timeout_seconds)
        self.sleep = sleep
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.cache_key = hashlib.sha256(f"{corp_id}\0{secret}".encode()).hexdigest()
        # httpx logs full URLs (with the token) at INFO: keep it to warnings.
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)

    def __repr__(self) -> str:
        return f"<WeComClient corp={self.corp_id} base={self.base_url}>"

    def now(self) -> dt.datetime:
        """The client clock as an aware UTC instant."""
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    # -- token ---------------------------------------------------------------------------
    def access_token(self, rejected: str | None = None) -> str:
        """A valid access token: the shared cached one, or one fetched single-flight.

        :param rejected: a token WeCom just refused; it is never handed out again.
        :raises ConfigError: wrong CorpID or secret (40013, 40001 at ``gettoken``).
        """
        now = self.now()
        if rejected is None:
            token = self.token_store.get(self.cache_key, now)
            if token is not None:
                return token
        return self.token_store.refresh(self.cache_key, now, self._fetch_token, rejected)

    def _fetch_token(self) -> tuple[str, int]:
        data = self._send("GET", "gettoken", params={"corpid": self.corp_id,
                                                      "corpsecret": self._secret})
        logger.info("wecom token fetched corp=%s expires_in=%s", self.corp_id,
                    data.get("expires_in"))
        return data["access_token"], int(data.get("expires_in", 7200))

    # -- calls ---------------------------------------------------------------------------
    def call(self, method: str, path: str, *, json: dict | None = None,
             params: dict | None = None, files: dict | None = None) -> dict:
        """Call ``path`` (relative to the base) with the access token; return the JSON body.

        :param method: ``GET`` or ``POST``.
        :param json: request body for POST; :param params: extra query parameters;
            :param files: multipart parts (media uploads: ``{"media": (name, bytes, type)}``).
        :returns: the decoded response, ``errcode`` 0.
        :raises WeComError: a subclass per errcode (``app.wecom.errors``) after the token
            retry and the back-off are spent; ``WeComTransportError`` without an answer.
        """
        retrying = Retrying(
            retry=retry_if_exception(lambda error: self._retryable(error, path)),
            wait=wait_exponential(multiplier=self.backoff_seconds, min=self.backoff_seconds,
                                  max=self.backoff_max_seconds)
            + wait_random(0, self.backoff_seconds),
            stop=stop_after_attempt(self.max_attempts), sleep=self._wait, reraise=True)
        return retrying(self._call_with_token, method, path, json, params, files)

    def _retryable(self, error: BaseException, path: str) -> bool:
        if isinstance(error, RateLimited):
            return True
        return isinstance(error, WeComTransportError) and not path.startswith(_WRITE_PREFIXES)

    def _wait(self, seconds: float) -> None:
        logger.warning("wecom backing off %.1f s", seconds)
        self.sleep(seconds)

    def _call_with_token(self, method, path, json, params, files) -> dict:
        token = self.access_token()
        try:
            return self._send(method, path, json, {**(params or {}), "access_token": token},
                              files)
        except TokenRejected as error:
            logger.info("wecom token rejected errcode=%s on %s: refreshing once", error.code,
                        path)
            token = self.access_token(rejected=token)
            return self._send(method, path, json, {**(params or {}), "access_token": token},
                              files)

    def _send(self, method: str, path: str, json: dict | None = None,
              params: dict | None = None, files: dict | None = None) -> dict:
        started = time.perf_counter()
        try:
            response = self.http.request(method, self.base_url + path, params=params,
                                         json=json, files=files)
            data = response.json() if response.status_code == 200 else None
        except (httpx.TransportError, ValueError) as error:
            logger.warning("wecom %s %s no answer: %s", method, path, type(error).__name__)
            arrived = not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
            raise WeComTransportError(None, type(error).__name__, path,
                                      may_have_arrived=arrived) from error
        elapsed_ms = (time.perf_counter() - started) * 1000
        if data is None:
            logger.warning("wecom %s %s HTTP %s", method, path, response.status_code)
            raise WeComTransportError(None, f"HTTP {response.status_code}", path)
        code = int(data.get("errcode", 0) or 0)
        logger.info("wecom %s %s errcode=%s %.0f ms", method, path, code, elapsed_ms)
        if code == 0:
            return data
        error = error_for(code, str(data.get("errmsg", "")), path)
        if path == "gettoken" and isinstance(error, TokenRejected):
            raise ConfigError(code, error.errmsg, path)  # 40001 here: wrong secret
        raise error

    def paginate(self, path: str, body: dict, list_key: str) -> Iterator[dict]:
        """POST ``path`` page by page, following ``next_cursor`` until it is empty.

        :param body: request fields other than ``cursor``.
        :param list_key: the response list to yield from (e.g. ``task_list``).
        :returns: an iterator over the items of every page, in order.
        :raises WeComError: as :meth:`call`; also when WeCom repeats a cursor (a loop).
        """
        cursor, seen = "", set()
        while True:
            data = self.call("POST", path, json={**body, "cursor": cursor})
            yield from data.get(list_key) or []
            cursor = data.get("next_cursor") or ""
            if not cursor:
                return
            if cursor in seen:
                raise WeComError(None, "repeated next_cursor", path)
            seen.add(cursor)
