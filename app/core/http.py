"""Input limits shared by every request: body size, JSON depth, integer ids.

``register_input_limits(app)`` (called by ``create_app`` before the blueprints) installs:

- ``MAX_REQUEST_BYTES`` as Flask's ``MAX_CONTENT_LENGTH`` (413 beyond it, checked against
  ``Content-Length`` before any byte is read; :func:`read_json_body` also refuses a chunked
  body that reaches it) and
  ``MAX_FORM_MEMORY_BYTES`` as ``MAX_FORM_MEMORY_SIZE`` (``MAX_FORM_PARTS`` is Flask's own
  name). A view decorated with :func:`body_limit` gets its own, larger limit.
- :class:`BoundedJSONProvider`: every JSON document parsed through ``app.json`` (request
  bodies, ``request.get_json()``) is refused beyond ``MAX_JSON_DEPTH`` levels of nesting,
  before the recursive parser can raise ``RecursionError``.
- :class:`BoundedIntegerConverter` as the ``int`` URL converter: ``<int:id>`` matches only
  ASCII digits up to ``MAX_ID``, so a larger id is a 404 rather than an ``OverflowError``
  (SQLite, beyond 64 bits) or "integer out of range" (PostgreSQL, beyond 32 bits).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable

from flask import Flask, Request, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

#: Largest id: ids (and the other integers in URLs) are ``INTEGER`` columns, 32-bit signed on
#: PostgreSQL, where a larger parameter is an "integer out of range" error (SQLite takes 64
#: bits). Raise it together with a migration of the id columns to ``BIGINT``.
MAX_ID = 2**31 - 1
DEFAULT_MAX_JSON_DEPTH = 32
#: werkzeug reads multipart bodies in chunks of this size and holds each one in memory.
MULTIPART_CHUNK_BYTES = 64 * 1024
EMPTY_BODY_MESSAGE = "请求体为空，须为 JSON"
INVALID_JSON_MESSAGE = "请求体不是有效的 JSON"
TOO_DEEP_MESSAGE = "请求体嵌套过深"

#: A JSON string literal, or an unterminated one up to the end (so scanning stays linear).
_STRING = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_BODY_LIMIT_ATTR = "body_limit_config_key"


class JSONTooDeep(ValueError):
    """A JSON document nests arrays and objects deeper than allowed."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested deeper than {max_depth} levels")
        self.max_depth = max_depth


def json_depth(text: str) -> int:
    """Deepest nesting of arrays and objects in a JSON text, counting brackets outside strings.

    Linear in the length of ``text`` (regular expressions and ``accumulate`` do the work).
    For malformed text the figure is an upper bound of what a parser would reach before
    failing, so it is safe to refuse on it.

    :param text: the JSON document, decoded.
    :returns: 0 for a scalar, 1 for ``[]`` or ``{}``, 2 for ``[[]]``...
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check_json_depth(text: str, max_depth: int) -> None:
    """Refuse a JSON text nested deeper than ``max_depth``.

    :raises JSONTooDeep: (a ``ValueError``) beyond the limit.
    """
    if text.count("[") + text.count("{") > max_depth and json_depth(text) > max_depth:
        raise JSONTooDeep(max_depth)


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with a nesting limit (``MAX_JSON_DEPTH``) on ``loads``."""

    def loads(self, s: str | bytes, **kwargs):
        """Parse JSON like ``json.loads`` after checking its depth.

        Bytes are decoded exactly as ``json.loads`` does (UTF-8, -16 or -32, detected), so
        the scan sees the characters the parser will see.

        :raises JSONTooDeep: nested deeper than ``MAX_JSON_DEPTH`` (default 32).
        :raises ValueError: malformed JSON or text (``json.JSONDecodeError``, ``UnicodeError``).
        """
        if isinstance(s, bytes | bytearray):
            s = s.decode(json.detect_encoding(s), "surrogatepass")
        check_json_depth(s, self._app.config.get("MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH))
        return super().loads(s, **kwargs)


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` limited to ASCII digits and ``0..MAX_ID`` (otherwise no match: 404)."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=MAX_ID if max is None else max, signed=signed)


class LimitedRequest(Request):
    """Request whose body limit follows the matched view's :func:`body_limit`, if any.

    The limit is known as soon as the URL is matched, before ``before_request`` hooks such
    as the CSRF check read the form, so a large upload is not refused by the default limit.
    """

    @property
    def max_content_length(self) -> int | None:
        """Bytes this request may send: the view's ``body_limit`` setting, else the default."""
        if self._max_content_length is None and current_app and self.url_rule is not None:
            view = current_app.view_functions.get(self.url_rule.endpoint)
            key = getattr(view, _BODY_LIMIT_ATTR, None)
            if key is not None:
                return current_app.config[key]
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def body_limit(config_key: str) -> Callable:
    """Give a view its own request-size limit, read from config (e.g. ``MAX_IMPORT_BYTES``).

    For file imports: werkzeug spools uploaded files beyond 500 KB to a temporary file, so
    the larger limit does not mean the body is held in memory.

    :param config_key: name of the config value, in bytes.
    :returns: a decorator; stack it under the route decorator.
    """

    def decorate(view: Callable) -> Callable:
        setattr(view, _BODY_LIMIT_ATTR, config_key)
        return view

    return decorate


def read_json_body(required: bool):
    """Decode the request body as JSON, whatever its content type.

    :param required: whether an empty body is an error.
    :returns: the decoded value, or ``None`` for an empty optional body.
    :raises BadRequest: empty required body, malformed JSON, an integer literal over 4,300
        digits (Python's limit) or nesting beyond ``MAX_JSON_DEPTH`` (「请求体嵌套过深」).
    :raises RequestEntityTooLarge: body over the request's size limit (413); a body without
        ``Content-Length`` (chunked) that reaches the limit counts as over it.
    """
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        raise RequestEntityTooLarge()  # a streamed body cut off at the limit by werkzeug
    if not data:
        if required:
            raise BadRequest(EMPTY_BODY_MESSAGE)
        return None
    try:
        return current_app.json.loads(data)
    except JSONTooDeep as error:
        raise BadRequest(f"{TOO_DEEP_MESSAGE}（最多 {error.max_depth} 层）") from error
    except ValueError as error:
        raise BadRequest(INVALID_JSON_MESSAGE) from error


def bounded_int(text: str, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """Parse a decimal id from a query string or form.

    :param text: ASCII digits, optionally surrounded by spaces.
    :returns: the integer, within ``minimum..maximum``.
    :raises ValueError: not plain ASCII digits, or out of range.
    """
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
        raise ValueError(f"not an integer id: {text[:32]!r}")
    number = int(text)
    if not minimum <= number <= maximum:
        raise ValueError(f"out of range: {number}")
    return number


def register_input_limits(app: Flask) -> None:
    """Install the size limits, the JSON depth limit and the bounded ``int`` converter.

    Call before registering blueprints: URL rules bind their converter when added.
    Reads ``MAX_REQUEST_BYTES``, ``MAX_FORM_MEMORY_BYTES`` (bytes) and ``MAX_JSON_DEPTH``.

    :raises RuntimeError: ``MAX_FORM_MEMORY_BYTES`` below ``MULTIPART_CHUNK_BYTES`` (werkzeug
        would then refuse every multipart form, uploads included).
    """
    if app.config["MAX_FORM_MEMORY_BYTES"] < MULTIPART_CHUNK_BYTES:
        raise RuntimeError(f"MAX_FORM_MEMORY_BYTES must be at least {MULTIPART_CHUNK_BYTES}")
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_REQUEST_BYTES"]
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_FORM_MEMORY_BYTES"]
    app.request_class = LimitedRequest
    app.json = BoundedJSONProvider(app)
    app.url_map.converters["int"] = BoundedIntegerConverter

