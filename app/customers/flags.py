"""Gaming flags 异常添加: evidence, not verdicts, each with a code, a description and its rows.

- ``cross_bank`` 跨行互加: the contact is a WeCom user (contact type 2) of another bank's corp
  (``corp_name`` names a bank, credit cooperative or the like, and is not one of
  ``BANK_CORP_NAMES``).
- ``bought_followers`` 疑似买粉: an add that never verified or is not a customer, inside a
  burst of at least ``FLAG_BURST_MIN_ADDS`` adds of one staff member within
  ``FLAG_BURST_WINDOW_MINUTES``, most of them (``FLAG_BURST_BAD_SHARE``) likewise unverified
  or not customers, or verified from another province.
- ``re_add`` 删除后再加: the same staff member had this contact before and the relationship had
  ended (deleted by either side) before this add.
- ``colleague`` 同事互加: the contact is the bank's own staff: a WeCom user of the bank's own
  corp, or a contact followed by at least ``FLAG_COLLEAGUE_MIN_STAFF`` (4) staff members (staff
  add each other to fill quotas).

Flags are computed for the adds of a report (``AddDetail`` rows, set-based queries for the
earlier contacts and follower counts), so a burst straddling the report's first day is seen
only from its part inside the period.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from app.core.clock import to_local
from app.core.extensions import db
from app.customers.adds import AddDetail
from app.customers.models import ContactType, WecomContact
from app.org.models import User

FLAG_LABELS = {
    "cross_bank": "跨行互加：联系人是他行企业微信用户",
    "bought_followers": "疑似买粉：短时间内集中添加，且未认证或非本行客户",
    "re_add": "删除后再添加：同一客户被删除后又重新添加",
    "colleague": "疑似同事互加：联系人是本行员工",
}
#: A corp name that names a bank or similar institution (他行).
BANK_CORP = re.compile(r"银行|信用社|农商|农信|信用合作|村镇|金融|bank", re.IGNORECASE)
_LOOKUP_CHUNK = 2000


@dataclass
class Flag:
    """One flag on an add: its code, Chinese description, evidence rows (dicts of text)."""

    code: str
    evidence: list[dict] = field(default_factory=list)

    @property
    def label(self) -> str:
        """Chinese description of the flag."""
        return FLAG_LABELS[self.code]


def _own_corps() -> set[str]:
    return {name.strip() for name in current_app.config["BANK_CORP_NAMES"].split(",")
            if name.strip()}


def _when(instant: dt.datetime | None) -> str:
    return to_local(instant).strftime("%Y-%m-%d %H:%M") if instant else ""


def _corp_flags(add: AddDetail, own: set[str]) -> list[Flag]:
    if add.contact_type != ContactType.wecom or not add.corp_name:
        return []
    evidence = [{"外部联系人": add.external_userid, "联系人类型": "企业微信用户",
                 "企业名称": add.corp_name, "添加时间": _when(add.added_at)}]
    if add.corp_name in own:
        return [Flag("colleague", evidence)]
    if BANK_CORP.search(add.corp_name):
        return [Flag("cross_bank", evidence)]
    return []


def _chunks(values: list, size: int = _LOOKUP_CHUNK):
    for first in range(0, len(values), size):
        yield values[first:first + size]


def _history(adds: list[AddDetail]) -> dict[str, list]:
    """Every contact row of the adds' external_userids: (staff_id, username, added, removed)."""
    rows: dict[str, list] = defaultdict(list)
    for chunk in _chunks(sorted({a.external_userid for a in adds})):
        for r in db.session.execute(
                select(WecomContact.external_userid, WecomContact.staff_id, User.username,
                       WecomContact.added_at, WecomContact.removed_at)
                .join(User, User.id == WecomContact.staff_id)
                .where(WecomContact.external_userid.in_(chunk))):
            rows[r.external_userid].append(r)
    return rows


def _history_flags(add: AddDetail, history: list, min_staff: int) -> list[Flag]:
    flags = []
    before = [r for r in history if r.staff_id == add.staff_id and r.added_at < add.added_at
              and r.removed_at is not None and r.removed_at <= add.added_at]
    if before:
        flags.append(Flag("re_add", [{"员工": r.username, "添加时间": _when(r.added_at),
                                      "删除时间": _when(r.removed_at)} for r in before]))
    followers = {r.staff_id: r for r in history}
    if len(followers) >= min_staff:
        flags.append(Flag("colleague", [{"员工": r.username, "添加时间": _when(r.added_at)}
                                        for r in sorted(followers.values(),
                                                        key=lambda r: r.added_at)]))
    return flags


def _is_bad(add: AddDetail) -> bool:
    return "not_verified" in add.reasons or "not_customer" in add.reasons


def _burst_flags(adds: list[AddDetail]) -> dict[int, Flag]:
    """Adds inside a burst of one staff member's adds that are mostly bad (sliding window)."""
    config = current_app.config
    window = dt.timedelta(minutes=config["FLAG_BURST_WINDOW_MINUTES"])
    min_adds, bad_share = config["FLAG_BURST_MIN_ADDS"], config["FLAG_BURST_BAD_SHARE"]
    by_staff: dict[int, list[AddDetail]] = defaultdict(list)
    for add in adds:
        by_staff[add.staff_id].append(add)
    flags: dict[int, Flag] = {}
    for own_adds in by_staff.values():
        own_adds.sort(key=lambda a: a.added_at)
        first = 0
        for last, add in enumerate(own_adds):
            while add.added_at - own_adds[first].added_at > window:
                first += 1
            burst = own_adds[first:last + 1]
            bad = [a for a in burst if _is_bad(a) or "out_of_province" in a.reasons]
            if len(burst) >= min_adds and len(bad) >= bad_share * len(burst):
                evidence = [{"时间段": f"{_when(burst[0].added_at)} – {_when(add.added_at)}",
                             "添加数": str(len(burst)), "未认证或非客户": str(len(bad))}]
                for member in burst:
                    if _is_bad(member):
                        flags[member.add_id] = Flag("bought_followers", evidence)
    return flags


def flag_adds(adds: list[AddDetail]) -> list[AddDetail]:
    """Fill ``flags`` of each add (in place) with the gaming flags that apply to it.

    :param adds: ``app.customers.adds.add_details`` rows (validity reasons filled).
    :returns: the same list.
    """
    own = _own_corps()
    history = _history(adds)
    bursts = _burst_flags(adds)
    min_staff = current_app.config["FLAG_COLLEAGUE_MIN_STAFF"]
    for add in adds:
        flags = _corp_flags(add, own) + _history_flags(
            add, history.get(add.external_userid, []), min_staff)
        if add.add_id in bursts:
            flags.append(bursts[add.add_id])
        seen = set()
        add.flags = [f for f in flags if not (f.code in seen or seen.add(f.code))]
    return adds


def flag_counts(adds: list[AddDetail]) -> dict[str, int]:
    """Flagged adds per flag code (every code present, 0 when none)."""
    counts = dict.fromkeys(FLAG_LABELS, 0)
    for add in adds:
        for flag in add.flags:
            counts[flag.code] += 1
    return counts

