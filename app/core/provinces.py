"""China's provincial-level divisions (GB/T 2260), so provinces compare as provinces.

A bank export, an IP-geolocation service and a branch form name the same province in
different ways: 浙江, 浙江省, Zhejiang, ``zhejiang province``, 浙江省杭州市. Every place that
stores a province stores its two-digit GB/T 2260 code (``"33"``) from :func:`province_code`,
so SQL compares codes, never spellings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Province:
    """One provincial-level division: GB/T 2260 code, full and short Chinese names, pinyin."""

    code: str
    name: str
    short_name: str
    english: tuple[str, ...]


#: The 34 provincial-level divisions. ``english`` lists the romanisations in common use.
PROVINCES: tuple[Province, ...] = (
    Province("11", "北京市", "北京", ("beijing", "peking")),
    Province("12", "天津市", "天津", ("tianjin",)),
    Province("13", "河北省", "河北", ("hebei",)),
    Province("14", "山西省", "山西", ("shanxi",)),
    Province("15", "内蒙古自治区", "内蒙古", ("inner mongolia", "nei mongol", "neimenggu")),
    Province("21", "辽宁省", "辽宁", ("liaoning",)),
    Province("22", "吉林省", "吉林", ("jilin",)),
    Province("23", "黑龙江省", "黑龙江", ("heilongjiang",)),
    Province("31", "上海市", "上海", ("shanghai",)),
    Province("32", "江苏省", "江苏", ("jiangsu",)),
    Province("33", "浙江省", "浙江", ("zhejiang",)),
    Province("34", "安徽省", "安徽", ("anhui",)),
    Province("35", "福建省", "福建", ("fujian",)),
    Province("36", "江西省", "江西", ("jiangxi",)),
    Province("37", "山东省", "山东", ("shandong",)),
    Province("41", "河南省", "河南", ("henan",)),
    Province("42", "湖北省", "湖北", ("hubei",)),
    Province("43", "湖南省", "湖南", ("hunan",)),
    Province("44", "广东省", "广东", ("guangdong", "canton")),
    Province("45", "广西壮族自治区", "广西", ("guangxi",)),
    Province("46", "海南省", "海南", ("hainan",)),
    Province("50", "重庆市", "重庆", ("chongqing",)),
    Province("51", "四川省", "四川", ("sichuan",)),
    Province("52", "贵州省", "贵州", ("guizhou",)),
    Province("53", "云南省", "云南", ("yunnan",)),
    Province("54", "西藏自治区", "西藏", ("tibet", "xizang")),
    Province("61", "陕西省", "陕西", ("shaanxi",)),
    Province("62", "甘肃省", "甘肃", ("gansu",)),
    Province("63", "青海省", "青海", ("qinghai",)),
    Province("64", "宁夏回族自治区", "宁夏", ("ningxia",)),
    Province("65", "新疆维吾尔自治区", "新疆", ("xinjiang",)),
    Province("71", "台湾省", "台湾", ("taiwan",)),
    Province("81", "香港特别行政区", "香港", ("hong kong", "hongkong")),
    Province("82", "澳门特别行政区", "澳门", ("macao", "macau")),
)
BY_CODE = {p.code: p for p in PROVINCES}
_ENGLISH_SUFFIX = re.compile(r"\s+(province|sheng|shi|city|municipality|(autonomous )?region|sar)$")
_ALIASES: dict[str, str] = {}
for _p in PROVINCES:
    for _alias in (_p.code, _p.name, _p.short_name, *_p.english):
        _ALIASES[_alias] = _p.code
#: Short names, longest first, for texts such as 浙江省杭州市 or 中国浙江.
_CHINESE_PREFIXES = sorted(((p.short_name, p.code) for p in PROVINCES), key=lambda s: -len(s[0]))
#: What an export writes when it does not know (stored as no province).
UNKNOWN = frozenset({"", "-", "未知", "其他", "unknown", "n/a", "null", "none"})


class UnknownProvince(ValueError):
    """The text names no provincial-level division of China."""


def province_code(text: str | None) -> str | None:
    """The GB/T 2260 two-digit code of the province that ``text`` names.

    Accepts full names (浙江省), short names (浙江), names with a city after them (浙江省杭州市,
    中国浙江), English or pinyin (Zhejiang, ``zhejiang province``, Inner Mongolia), the code
    itself (``33``), in any width or case.

    :param text: the province as written; ``None``, empty or 未知/unknown mean "not known".
    :returns: the code (e.g. ``"33"``), or ``None`` when the text says the province is unknown.
    :raises UnknownProvince: the text is not recognisable as a province.
    """
    if text is None:
        return None
    key = unicodedata.normalize("NFKC", text).strip().casefold()
    key = re.sub(r"\s+", " ", key)
    if key in UNKNOWN:
        return None
    if key in _ALIASES:
        return _ALIASES[key]
    english = _ENGLISH_SUFFIX.sub("", key).replace(",", "").strip()
    if english in _ALIASES:
        return _ALIASES[english]
    chinese = key.removeprefix("中国").removeprefix("中國")
    for short_name, code in _CHINESE_PREFIXES:
        if chinese.startswith(short_name):
            return code
    raise UnknownProvince(text)


def province_name(code: str | None) -> str:
    """Chinese short name of a province code, for the UI (``"33"`` → 浙江; ``None`` → 未知)."""
    province = BY_CODE.get(code or "")
    return province.short_name if province else "未知"
