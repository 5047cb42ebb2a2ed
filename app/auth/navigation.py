"""Top navigation per role (only endpoints that exist are shown)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user

from app.auth import bp
from app.org.models import Role

NAV = [
    ("feed.today", "今日任务", {Role.frontline}),
    ("content.index", "内容模板", {Role.editor, Role.reviewer, Role.admin}),
    ("broadcasts.plans", "SOP 计划", {Role.editor, Role.reviewer, Role.admin, Role.manager}),
    ("broadcasts.tracking", "日跟踪", {Role.editor, Role.reviewer, Role.admin, Role.manager}),
    ("metrics.scorecard", "考核看板", {Role.manager, Role.admin, Role.editor, Role.reviewer}),
    ("feed.api_token", "API 令牌", {Role.frontline}),
]


@dataclass(frozen=True)
class NavItem:
    """One link in the top bar."""

    url: str
    label: str
    active: bool


@bp.app_context_processor
def inject_nav():
    """Expose ``nav_items()`` to every page template."""

    def nav_items() -> list[NavItem]:
        if not current_user.is_authenticated:
            return []
        items = []
        for endpoint, label, roles in NAV:
            if current_user.role in roles and endpoint in current_app.view_functions:
                items.append(NavItem(url_for(endpoint), label, request.endpoint == endpoint))
        return items

    return {"nav_items": nav_items}
