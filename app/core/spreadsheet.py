"""Safe spreadsheet exports: cells that cannot run as formulas, download names that cannot hurt.

Every CSV or XLSX export passes its text cells through :func:`safe_cell` and sends its
file with :func:`attachment_disposition`. (For XLSX, also write text cells with an explicit
string type: a library such as openpyxl otherwise turns ``"=..."`` into a formula.)
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from werkzeug.http import dump_options_header

#: A text cell starting with one of these is read as a formula by Excel, LibreOffice or
#: Google Sheets (OWASP "CSV Injection"); tab and carriage return hide such a prefix.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: What a file name may not contain on any common system, plus what would end a header
#: parameter: path separators, Windows reserved characters, quotes, ``;`` and ``%``.
_RESERVED = re.compile(r'[\\/:*?"<>|;%\']+')
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
     *(f"LPT{i}" for i in range(1, 10))}
)
MAX_FILENAME_CHARS = 120
#: RFC 5987 ``attr-char`` besides letters and digits: left as is in ``filename*``.
_ATTR_CHARS = "!#$&+-.^_`|~"


def safe_cell(value):
    """Neutralise a spreadsheet cell that would start a formula.

    :param value: any cell value. Only strings are changed: numbers (negative ones too),
        ``None`` and dates come back as they are.
    :returns: ``value``, or ``"'" + value`` when it is a string starting with ``=``, ``+``,
        ``-``, ``@``, tab or carriage return (the quote makes Excel show it as text).
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_filename(name: str, default: str = "download") -> str:
    """A download file name without path parts, control characters or reserved characters.

    Chinese and other letters are kept (NFC). Reserved characters, whitespace runs and
    invisible format characters (such as U+202E, which reverses the shown extension)
    become ``_``; leading and trailing dots, spaces and underscores are dropped; Windows
    device names get a ``_`` prefix; the stem is cut so the name stays within
    ``MAX_FILENAME_CHARS`` characters, keeping the extension.

    :param name: the wished-for name, e.g. ``"考核看板_分行A_20250425.csv"``.
    :param default: used when nothing is left.
    :returns: the cleaned name.
    """
    name = unicodedata.normalize("NFC", name)
    name = "".join("_" if unicodedata.category(c)[0] in "CZ" else c for c in name)
    name = re.sub(r"_{2,}", "_", _RESERVED.sub("_", name)).strip("._ ")
    if not name:
        return default
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 10:
        stem, dot, extension = name, "", ""
    if stem.upper() in _WINDOWS_DEVICES:
        stem = f"_{stem}"
    stem = stem[: MAX_FILENAME_CHARS - len(dot + extension)].rstrip("._ ") or default
    return stem + dot + extension


def attachment_disposition(filename: str, ascii_fallback: str | None = None) -> str:
    """A ``Content-Disposition: attachment`` value for ``filename`` (RFC 6266 / RFC 5987).

    :param filename: the name to offer; cleaned with :func:`safe_filename`. A non-ASCII
        name goes into ``filename*=UTF-8''…`` (percent-encoded).
    :param ascii_fallback: the plain ``filename=`` for old clients when ``filename`` is not
        ASCII; default: ``filename`` with its non-ASCII letters dropped.
    :returns: e.g. ``attachment; filename=scorecard.csv;
        filename*=UTF-8''%E8%80%83%E6%A0%B8.csv``; quotes are escaped by werkzeug.
    """
    name = safe_filename(filename)
    if name.isascii():
        return dump_options_header("attachment", {"filename": name})
    if ascii_fallback is None:
        ascii_fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = safe_filename(ascii_fallback.encode("ascii", "ignore").decode())
    return dump_options_header("attachment", {
        "filename": fallback, "filename*": f"UTF-8''{quote(name, safe=_ATTR_CHARS)}",
    })
