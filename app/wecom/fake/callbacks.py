"""The fake's callback driver: WeCom's signed, encrypted calls to the app's callback URL."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import httpx

from app.wecom.crypto import CallbackCrypto

#: WeCom waits this long for the answer, then tries again (3 attempts in all).
ANSWER_SECONDS = 5.0
ATTEMPTS = 3


@dataclass
class Delivery:
    """What the app answered: HTTP status, body and seconds taken, per attempt."""

    statuses: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    body: str = ""

    @property
    def status(self) -> int | None:
        """Status of the last attempt (``None`` when it timed out)."""
        return self.statuses[-1] if self.statuses else None


class CallbackDriver:
    """Send URL checks and ``change_external_contact`` events as WeCom does (§7).

    :param url: the app's callback URL (``…/wecom/callback``).
    :param http: an ``httpx.Client`` (tests: ``httpx.WSGITransport`` over the Flask app).
    :param clock: Unix seconds for ``timestamp`` and ``CreateTime``.
    """

    def __init__(self, url: str, *, token: str, aes_key: str, corp_id: str,
                 http: httpx.Client | None = None, clock=time.time) -> None:
        self.url = url
        self.crypto = CallbackCrypto(token, aes_key, corp_id)
        self.corp_id = corp_id
        self.http = http or httpx.Client(timeout=ANSWER_SECONDS)
        self.clock = clock

    def verify_url(self, echo: str | None = None) -> tuple[int, str]:
        """The URL check: GET with an encrypted ``echostr``; returns (status, body)."""
        echostr = self.crypto.encrypt(echo or secrets.token_hex(8))
        params = self._signed(echostr)
        response = self.http.get(self.url, params={**params, "echostr": echostr})
        return response.status_code, response.text

    def event_xml(self, change_type: str, userid: str, external_userid: str,
                  create_time: int | None = None, **extra: str) -> str:
        """The decrypted XML of a ``change_external_contact`` event."""
        fields = {"ToUserName": self.corp_id, "FromUserName": "sys",
                  "CreateTime": str(create_time or int(self.clock())), "MsgType": "event",
                  "Event": "change_external_contact", "ChangeType": change_type,
                  "UserID": userid, "ExternalUserID": external_userid, **extra}
        inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
        return f"<xml>{inner}</xml>"

    def send(self, message: str, *, forge: bool = False, timestamp: int | None = None,
             retry: bool = True) -> Delivery:
        """POST an encrypted ``message``; retry (up to 3 attempts) on non-200 or > 5 s.

        :param forge: sign with a wrong token (the app must refuse it).
        :param timestamp: override the signed ``timestamp`` (stale-timestamp tests).
        """
        encrypted = self.crypto.encrypt(message)
        envelope = (f"<xml><ToUserName><![CDATA[{escape(self.corp_id)}]]></ToUserName>"
                    f"<AgentID><![CDATA[1000002]]></AgentID>"
                    f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        params = self._signed(encrypted, timestamp)
        if forge:
            params["msg_signature"] = CallbackCrypto(
                "forged-token", "A" * 43, self.corp_id).signature(
                params["timestamp"], params["nonce"], encrypted)
        return self.post_raw(envelope, params, retry=retry)

    def post_raw(self, body: str, params: dict, retry: bool = True) -> Delivery:
        """POST ``body`` as is with ``params``; records each attempt."""
        delivery = Delivery()
        for _ in range(ATTEMPTS if retry else 1):
            started = time.perf_counter()
            try:
                response = self.http.post(self.url, params=params, content=body.encode(),
                                          headers={"Content-Type": "text/xml"})
                delivery.statuses.append(response.status_code)
                delivery.body = response.text
            except httpx.TimeoutException:
                delivery.statuses.append(0)
            delivery.seconds.append(time.perf_counter() - started)
            if delivery.statuses[-1] == 200 and delivery.seconds[-1] <= ANSWER_SECONDS:
                break
        return delivery

    def _signed(self, encrypted: str, timestamp: int | None = None) -> dict:
        stamp, nonce = str(timestamp or int(self.clock())), secrets.token_hex(5)
        return {"msg_signature": self.crypto.signature(stamp, nonce, encrypted),
                "timestamp": stamp, "nonce": nonce}
