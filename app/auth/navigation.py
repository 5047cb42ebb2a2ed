"""Top navigation per role (only endpoints that exist are shown)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user

from app.auth import bp
from app.auth.permissions import Action, can

#: (endpoint, label, the action the page needs); shown to users whom the policy allows it.
NAV = [
    ("feed.today", "今日任务", Action.use_feed),
    ("content.index", "内容模板", Action.read_content),
    ("broadcasts.plans", "SOP 计划", Action.read_plans),
    ("broadcasts.tracking", "日跟踪", Action.read_tracking),
    ("metrics.scorecard", "考核看板", Action.read_scorecard),
    ("customers.mine", "我的客户", Action.use_customer_book),
    ("customers.coverage", "客户覆盖率", Action.read_coverage),
    ("customers.imports", "导入客户数据", Action.import_customers),
    ("feed.api_token", "API 令牌", Action.use_feed),
    ("admin.users", "用户管理", Action.manage_users),
    ("admin.branches", "机构管理", Action.manage_branches),
    ("audit.index", "审计日志", Action.read_audit),
]


@dataclass(frozen=True)
class NavItem:
    """One link in the top bar."""

    url: str
    label: str
    active: bool


@bp.app_context_processor
def inject_nav():
    """Expose ``nav_items()``, ``can`` and ``Action`` (the permission policy) to every page."""

    def nav_items() -> list[NavItem]:
        if not current_user.is_authenticated:
            return []
        items = []
        for endpoint, label, action in NAV:
            if can(current_user, action) and endpoint in current_app.view_functions:
                items.append(NavItem(url_for(endpoint), label, request.endpoint == endpoint))
        return items

    return {"nav_items": nav_items, "can": can, "Action": Action}
