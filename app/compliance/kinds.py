"""Content kinds and channels: which rules a text gets, and each channel's text limit.

A template has a **content kind** 内容类别:

- ``market_commentary`` 市场点评: market data and commentary; checked with the ``general``
  scope (every forbidding rule except the words normal in commentary, marked
  ``in_general = false``; required statements only for ``all`` products), so a plain market
  report with its source and date is never blocked as if it promoted a fund. It also carries
  a freshness limit (:func:`app.compliance.freshness.stale_series`).
- ``product_promotion`` 产品推介: needs a product category; gets every rule of it.
- ``service_notice`` 服务通知 and ``greeting`` 节日问候: the ``general`` scope.

A text of a non-promotion kind that promotes a product anyway (KIND-01 in ``rules.toml``) is
blocked, so choosing a lenient kind cannot hide a promotion. With no kind at all (the CLI
without ``--product``) the product decides, and an unknown product reads most cautiously.

Channel limits (``shared/wecom-api.md``): a mass message 群发 and a customer-group post 客户群
carry at most 4,000 bytes of UTF-8 text (``add_msg_template`` ``text.content``); a Moments
post 朋友圈 at most 2,000 characters (``add_moment_task``). Video, live and audio channels
(FD-11: a risk frame of at least 5 s, a spoken notice) are not supported: no such channel
exists here, so a template cannot be planned for one.
"""

from __future__ import annotations

CONTENT_KINDS = frozenset({"market_commentary", "product_promotion", "service_notice",
                           "greeting"})
PROMOTION = "product_promotion"

#: channel → (limit, unit): ``bytes`` of UTF-8 or ``chars`` (code points).
CHANNEL_LIMITS = {
    "mass_message": (4000, "bytes"),
    "customer_group": (4000, "bytes"),
    "moments_post": (2000, "chars"),
}
CHANNELS = frozenset(CHANNEL_LIMITS)
CHANNEL_NAMES = {"mass_message": "群发", "customer_group": "客户群", "moments_post": "朋友圈"}


def rule_scope(content_kind: str | None, product: str | None) -> str | None:
    """The product scope the checker applies for a content kind and product category.

    :param content_kind: one of :data:`CONTENT_KINDS` or ``None`` (no kind: ``product`` rules).
    :param product: product category value or ``None`` (unknown).
    :returns: ``product`` for a promotion or when no kind is given; ``"general"`` otherwise.
    :raises ValueError: for an unknown kind, or a promotion without a product category.
    """
    if content_kind is None:
        return product
    if content_kind not in CONTENT_KINDS:
        raise ValueError(f"unknown content kind: {content_kind!r}")
    if content_kind == PROMOTION:
        if product in (None, "general"):
            raise ValueError("a product promotion needs a product category")
        return product
    return "general"


def over_limit(text: str, channel: str) -> str | None:
    """Chinese reason when ``text`` is longer than the channel allows, else ``None``.

    :param text: the text that would be sent.
    :param channel: one of :data:`CHANNELS`.
    :returns: e.g. 「群发文本 4,120 字节，超过企业微信上限 4,000 字节」 or ``None``.
    :raises ValueError: for an unknown channel (video, live and audio are not supported).
    """
    if channel not in CHANNEL_LIMITS:
        raise ValueError(f"unsupported channel: {channel!r}")
    limit, unit = CHANNEL_LIMITS[channel]
    size = len(text.encode("utf-8")) if unit == "bytes" else len(text)
    if size <= limit:
        return None
    label = "字节" if unit == "bytes" else "字"
    return (f"{CHANNEL_NAMES[channel]}文本 {size:,} {label}，超过企业微信上限 "
            f"{limit:,} {label}")
