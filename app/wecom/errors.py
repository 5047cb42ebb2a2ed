"""Typed errors of the WeCom (企业微信) server API, one class per way the connector reacts.

WeCom answers HTTP 200 with a JSON ``errcode`` (0 = success); the connector decides on the
code only, never on ``errmsg`` (its text varies and carries hint suffixes). Source of the
codes and their meaning: ../shared/wecom-api.md section 8 (doc 90313 as mirrored by
go-workwx ``errcodes/mod.go``).
"""

from __future__ import annotations


class WeComError(Exception):
    """A WeCom call failed; ``code`` is the errcode (``None`` for transport failures)."""

    def __init__(self, code: int | None, message: str = "", path: str = "") -> None:
        super().__init__(f"WeCom {path or 'call'} failed: errcode={code} {message}".strip())
        self.code = code
        self.errmsg = message
        self.path = path


class WeComTransportError(WeComError):
    """No answer: connection refused, reset or timed out.

    ``may_have_arrived`` is false when the request certainly never reached WeCom
    (connection refused or not established); otherwise WeCom may have acted on it.
    """

    def __init__(self, code: int | None, message: str = "", path: str = "",
                 may_have_arrived: bool = True) -> None:
        super().__init__(code, message, path)
        self.may_have_arrived = may_have_arrived


class TokenRejected(WeComError):
    """40014 invalid, 42001 expired, 40001 invalid credential: refresh the token, retry once."""


class RateLimited(WeComError):
    """-1 system busy, 45009 frequency, 45033 concurrency, 45011/45035 per-API limits: back off."""


class NotReadyYet(WeComError):
    """41063 mass message or 41079 moment still being dispatched, 41078 too many jobs: later."""


class MediaExpired(WeComError):
    """40007 invalid or expired media_id (or one from the wrong upload API): re-upload."""


class ConfigError(WeComError):
    """40013 bad CorpID, 41004 no secret, 48002 API not allowed, 60011 outside visibility."""


class InvalidRequest(WeComError):
    """40058 bad parameter or field limit; 41064/41065/41088/41089 attachments; 41067; 81017."""


class UnknownMember(WeComError):
    """40003 / 60111 unknown staff userid."""


class UnknownCustomer(WeComError):
    """40096 invalid external_userid."""


class NoRelationship(WeComError):
    """84061: the member has no external-contact relationship (an empty answer)."""


class TaskCancelled(WeComError):
    """41093: the mass-message task was already cancelled."""


class RemindLimitReached(WeComError):
    """41094: more than 3 reminders for one msgid within 24 hours."""


class Unlicensed(WeComError):
    """701008: no licensed (互通) member in the request."""


_BY_CODE: dict[int, type[WeComError]] = {
    **dict.fromkeys((40014, 42001, 40001), TokenRejected),
    **dict.fromkeys((-1, 45009, 45033, 45011, 45035), RateLimited),
    **dict.fromkeys((41063, 41079, 41078), NotReadyYet),
    40007: MediaExpired,
    **dict.fromkeys((40013, 41004, 48002, 60011, 41001), ConfigError),
    **dict.fromkeys((40058, 41064, 41065, 41088, 41089, 41067, 40068, 81013, 81017, 41061,
                     41062), InvalidRequest),
    **dict.fromkeys((40003, 60111), UnknownMember),
    40096: UnknownCustomer,
    84061: NoRelationship,
    41093: TaskCancelled,
    41094: RemindLimitReached,
    701008: Unlicensed,
}


def error_for(code: int, message: str, path: str) -> WeComError:
    """The typed error of a non-zero errcode.

    :param code: WeCom's ``errcode`` (non-zero).
    :param message: WeCom's ``errmsg`` (kept for diagnostics, never matched on).
    :param path: the API path relative to the base, e.g. ``externalcontact/add_msg_template``.
    :returns: an instance of the class mapped to ``code``; plain ``WeComError`` for a code the
        connector has no rule for.
    """
    return _BY_CODE.get(code, WeComError)(code, message, path)
