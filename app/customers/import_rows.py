"""The three import kinds: their headers (canonical and Chinese) and how a row is parsed.

Parsing is pure (no database): each ``parse_*`` function takes a row's cells by canonical
field name and returns a record dict, or raises :class:`RowError` with a Chinese message.
Names that need the database (usernames, segment names) are resolved per batch by
``app.customers.writers``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from app.core.provinces import UnknownProvince, province_code
from app.customers.files import Cell

MAX_ID_CHARS = 64
MAX_AUM_CNY = Decimal("9999999999999999.99")  # Numeric(18, 2)


class RowError(ValueError):
    """A row cannot be imported; ``message`` is Chinese, for the per-row error list."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Kind:
    """One import kind: header aliases per canonical field, the required fields, the key.

    ``key`` names the record fields that identify a row (before usernames are resolved):
    two rows of one file with the same key are the same row written twice.
    """

    name: str
    label: str
    aliases: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    key: tuple[str, ...]


CUSTOMERS = Kind(
    name="customers", label="客户名单",
    aliases={
        "customer_id": ("客户号", "客户编号", "客户ID"),
        "rm": ("客户经理", "管户客户经理", "客户经理工号"),
        "segment": ("客群", "客户分层", "客户类别"),
        "has_account": ("是否本行开户", "本行开户"),
        "province": ("省份", "开户省份"),
        "aum_cny": ("AUM", "aum", "AUM（元）", "AUM(元)", "资产"),
        "marketing_opt_out": ("拒绝营销", "营销退订"),
    },
    required=("customer_id", "rm", "segment", "has_account"),
    key=("customer_ref",),
)
CONTACTS = Kind(
    name="contacts", label="企业微信联系人",
    aliases={
        "external_userid": ("外部联系人ID", "外部联系人id", "external_user_id"),
        "staff": ("员工", "员工账号", "添加人"),
        "add_time": ("添加时间",),
        "add_way": ("添加方式",),
        "contact_type": ("联系人类型",),
        "corp_name": ("企业名称", "所属企业"),
        "removed_at": ("删除时间",),
    },
    required=("external_userid", "staff", "add_time"),
    key=("staff", "external_userid", "added_at"),
)
VERIFICATIONS = Kind(
    name="verifications", label="实名认证记录",
    aliases={
        "external_userid": ("外部联系人ID", "外部联系人id", "external_user_id"),
        "customer_id": ("客户号", "客户编号", "客户ID"),
        "method": ("认证方式",),
        "verified_at": ("认证时间",),
        "ip_province": ("IP省份", "ip省份", "IP 省份"),
    },
    required=("external_userid", "customer_id", "verified_at"),
    key=("external_userid", "customer_ref", "verified_at"),
)
KINDS = {kind.name: kind for kind in (CUSTOMERS, CONTACTS, VERIFICATIONS)}

_TRUE = frozenset({"是", "y", "yes", "1", "true", "t"})
_FALSE = frozenset({"否", "n", "no", "0", "false", "f"})
_CONTACT_TYPES = {"1": 1, "2": 2, "微信": 1, "微信用户": 1, "企业微信": 2, "企业微信用户": 2}
_METHODS = {"link": "link", "app": "app", "链接": "link", "认证链接": "link", "表单": "link",
            "手机银行": "app", "app绑定": "app", "手机银行绑定": "app"}
_EPOCH_SECONDS = re.compile(r"[0-9]{10}")


def header_key(cell: str) -> str:
    """Header text normalised for matching: NFKC, no BOM or spaces, case-folded."""
    text = unicodedata.normalize("NFKC", str(cell)).replace("\ufeff", "")
    return re.sub(r"\s+", "", text).casefold()


def text(cells: dict[str, Cell], field: str, required: bool = True) -> str | None:
    """A text cell, stripped; kept exactly as written otherwise (``=1+1`` stays ``=1+1``).

    :raises RowError: a required cell is empty, or longer than 64 characters.
    """
    value = cells.get(field)
    if isinstance(value, dt.datetime):
        value = value.isoformat(sep=" ")
    value = (value or "").strip()
    if not value:
        if required:
            raise RowError(f"{field} 为空")
        return None
    if len(value) > MAX_ID_CHARS:
        raise RowError(f"{field} 超过 {MAX_ID_CHARS} 个字符")
    return value


def instant(cells: dict[str, Cell], field: str, zone: ZoneInfo,
            required: bool = True) -> dt.datetime | None:
    """A date-time cell as an aware UTC instant; without an offset it is ``zone`` wall time.

    Accepts ISO 8601 (``2025-04-01 09:30``, ``2025/04/01 09:30:05``, ``…T…+08:00``, ``…Z``),
    a date alone (midnight), Unix epoch seconds (WeCom's ``createtime``) and XLSX date cells.

    :raises RowError: empty (when required) or not a date-time.
    """
    value = cells.get(field)
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        raw = (value or "").strip()
        if not raw:
            if required:
                raise RowError(f"{field} 为空")
            return None
        if _EPOCH_SECONDS.fullmatch(raw):
            return dt.datetime.fromtimestamp(int(raw), dt.UTC)
        try:
            parsed = dt.datetime.fromisoformat(raw.replace("/", "-"))
        except ValueError:
            raise RowError(f"{field} 不是有效的时间：{raw}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(dt.UTC)


def _province(cells: dict[str, Cell], field: str) -> str | None:
    try:
        return province_code(text(cells, field, required=False))
    except UnknownProvince as error:
        raise RowError(f"{field} 不是可识别的省份：{error}") from None


def _choice(cells, field: str, choices: dict[str, object], default=None):
    raw = text(cells, field, required=default is None)
    if raw is None:
        return default
    if raw in choices:  # the common spelling, without normalising
        return choices[raw]
    key = header_key(raw)
    if key not in choices:
        raise RowError(f"{field} 取值无效：{raw}")
    return choices[key]


_YES_NO = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
#: ``_choice`` default of an optional flag: absent means "keep what is stored".
_KEEP = object()


def parse_customer(cells: dict[str, Cell], zone: ZoneInfo) -> dict:
    """A customers row → its customer fields (``marketing_opt_out`` too) plus ``rm``.

    Keys: ``customer_ref, rm, segment, has_account, province_code, aum_cny,
    marketing_opt_out``.

    ``segment`` and ``rm`` stay names here (resolved per batch); ``aum_cny`` is a
    ``Decimal`` ≥ 0 in CNY (thousands separators allowed; empty = 0);
    ``marketing_opt_out`` (拒绝营销) is ``None`` when the file has no such cell (the stored
    flag is kept).

    :raises RowError: missing fields, has_account or marketing_opt_out not one of 是/否,
        Y/N, 1/0, true/false, an unknown province, a negative or malformed AUM.
    """
    has_account = _choice(cells, "has_account", _YES_NO)
    aum_text = (text(cells, "aum_cny", required=False) or "0").replace(",", "")
    try:
        aum = Decimal(aum_text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise RowError(f"aum_cny 不是数字：{aum_text}") from None
    if not aum.is_finite() or aum < 0 or aum > MAX_AUM_CNY:
        raise RowError(f"aum_cny 超出范围：{aum_text}")
    return {
        "customer_ref": text(cells, "customer_id"), "rm": text(cells, "rm"),
        "segment": text(cells, "segment"), "has_account": has_account,
        "province_code": _province(cells, "province"), "aum_cny": aum,
        "marketing_opt_out": _optional_flag(cells, "marketing_opt_out"),
    }


def _optional_flag(cells, field: str) -> bool | None:
    """是/否-style flag, ``None`` when the cell is absent or empty."""
    value = _choice(cells, field, _YES_NO, default=_KEEP)
    return None if value is _KEEP else value


def parse_contact(cells: dict[str, Cell], zone: ZoneInfo) -> dict:
    """A contacts row → a record of ``app.customers.models.WecomContact`` columns plus ``staff``.

    :raises RowError: missing fields, bad times, ``removed_at`` before ``add_time``, a contact
        type other than 1 (WeChat) or 2 (WeCom), a non-integer ``add_way``.
    """
    added_at = instant(cells, "add_time", zone)
    removed_at = instant(cells, "removed_at", zone, required=False)
    if removed_at is not None and removed_at < added_at:
        raise RowError("removed_at 早于 add_time")
    add_way = text(cells, "add_way", required=False)
    if add_way is not None and not (add_way.isascii() and add_way.isdigit() and len(add_way) < 5):
        raise RowError(f"add_way 不是整数：{add_way}")
    return {
        "staff": text(cells, "staff"), "external_userid": text(cells, "external_userid"),
        "added_at": added_at, "add_way": int(add_way) if add_way is not None else None,
        "contact_type": _choice(cells, "contact_type", _CONTACT_TYPES, default=1),
        "corp_name": _corp_name(cells), "removed_at": removed_at,
    }


def _corp_name(cells) -> str | None:
    value = cells.get("corp_name")
    value = (value or "").strip() if isinstance(value, str | None) else str(value)
    if len(value) > 128:
        raise RowError("corp_name 超过 128 个字符")
    return value or None


def parse_verification(cells: dict[str, Cell], zone: ZoneInfo) -> dict:
    """A verifications row → a record of ``app.customers.models.Verification`` columns.

    ``method`` is ``link`` (the RM's form link) or ``app`` (binding in the bank's app);
    empty means ``link``.

    :raises RowError: missing fields, a bad time, an unknown method or province.
    """
    return {
        "external_userid": text(cells, "external_userid"),
        "customer_ref": text(cells, "customer_id"),
        "method": _choice(cells, "method", _METHODS, default="link"),
        "verified_at": instant(cells, "verified_at", zone),
        "ip_province_code": _province(cells, "ip_province"),
    }


PARSERS = {"customers": parse_customer, "contacts": parse_contact,
           "verifications": parse_verification}
