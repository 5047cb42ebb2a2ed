"""Deterministic demo data: a small bank, its people, templates, plans and 30 days of activity.

Everything derives from fixed names and a seeded ``random.Random``, so two seeds
of an empty database produce the same rows. Demo users carry ``is_demo`` so that
production refuses to start while they exist.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update

from app.admin.names import mark_checked_names
from app.auth.services import hash_password
from app.broadcasts.audience import audience_of
from app.broadcasts.calendars import runs_on
from app.broadcasts.models import Post, SopPlan, Task, TaskStatus
from app.broadcasts.revisions import record_revision, snapshot
from app.broadcasts.run_day import run_day
from app.content.library import install_library
from app.content.models import ContentTemplate
from app.core.extensions import db
from app.customers.imports import import_file
from app.customers.snapshots import take_snapshots
from app.customers.targets import set_target
from app.demo.synthetic_adds import generate, write_population
from app.interactions.models import InteractionEvent
from app.market.services import refresh_market_data
from app.org.models import Branch, BranchLevel, Role, User
from app.org.services import set_branch_path

logger = logging.getLogger(__name__)
SEED = 20250425

BRANCHES = [  # code, name, level, parent code
    ("HQ", "示例银行总行", BranchLevel.hq, None),
    ("HZ", "杭州分行", BranchLevel.branch, "HQ"),
    ("NB", "宁波分行", BranchLevel.branch, "HQ"),
    ("HZ-XH", "杭州西湖支行", BranchLevel.sub_branch, "HZ"),
    ("HZ-BJ", "杭州滨江支行", BranchLevel.sub_branch, "HZ"),
    ("NB-HS", "宁波海曙支行", BranchLevel.sub_branch, "NB"),
    ("NB-YZ", "宁波鄞州支行", BranchLevel.sub_branch, "NB"),
]
STAFF = [  # username, display name, role, branch code
    ("admin", "系统管理员", Role.admin, "HQ"),
    ("editor", "王编辑", Role.editor, "HQ"),
    ("reviewer", "李复核", Role.reviewer, "HQ"),
    ("manager", "赵行长（杭州分行）", Role.manager, "HZ"),
    ("manager_nb", "钱行长（宁波分行）", Role.manager, "NB"),
]
SURNAMES = "张王李赵陈刘杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
FRONTLINE_PER_SUB_BRANCH = 9
DEMO_PROVINCE = "33"  # 浙江 (GB/T 2260)
#: Coverage targets 覆盖率目标 of the demo quarter, per segment.
DEMO_TARGETS = {"private": 0.6, "vip": 0.5, "payroll": 0.4, "mass": 0.3}
PLANS = [  # name, chart spec of the template, send time, calendar
    ("每日环球市场早报", "global_indices", dt.time(8, 30), "weekdays"),
    ("黄金行情早知道", "gold", dt.time(8, 45), "weekdays"),
    ("人民币汇率速览", "cny_fx", dt.time(9, 0), "weekdays"),
]


@dataclass
class SeedResult:
    """What ``seed`` did: ``created`` False when demo data was already there."""

    created: bool
    users: int = 0
    templates: int = 0
    plans: int = 0
    days: int = 0
    posts: int = 0
    tasks: int = 0
    events: int = 0
    customers: int = 0


def demo_usernames() -> list[str]:
    """Every demo login, in display order (admin, middle office, managers, rm001…)."""
    frontline = len(BRANCHES[3:]) * FRONTLINE_PER_SUB_BRANCH
    return [s[0] for s in STAFF] + [f"rm{i:03d}" for i in range(1, frontline + 1)]


def seed(password: str, end_date: dt.date, days: int = 30) -> SeedResult:
    """Create the demo bank once; a second call finds ``admin`` and does nothing.

    :param password: the one password of every demo login.
    :param end_date: the demo business date (last day with posts).
    :param days: number of weekday run dates ending on ``end_date``.
    :returns: counts of what was created. Flushes; the caller commits.
    """
    if db.session.scalar(select(User.id).where(User.username == "admin")) is not None:
        return SeedResult(created=False)
    branches = _branches()
    users = _users(branches, hash_password(password))
    mark_checked_names()  # as if saved in 系统管理: the daily runs need not check them
    templates = install_library(users["editor"].id, users["reviewer"].id)
    plans = _plans(templates, branches["HQ"], users["editor"])
    dates = _run_dates(end_date, days)
    result = SeedResult(True, len(users), len(templates), len(plans), len(dates))
    refresh_market_data(end_date)  # covers every earlier run date too
    for day in dates:
        outcome = run_day(day, refresh_market=False)
        result.posts += outcome.posts_created
        result.tasks += outcome.tasks_created
    result.events = _activity(dates, end_date)
    result.customers = _customer_book(users, end_date)
    return result


def _branches() -> dict[str, Branch]:
    created: dict[str, Branch] = {}
    for code, name, level, parent in BRANCHES:
        branch = Branch(code=code, name=name, level=level, parent=created.get(parent),
                        province_code=DEMO_PROVINCE)
        db.session.add(branch)
        set_branch_path(branch)
        created[code] = branch
    return created


def _users(branches: dict[str, Branch], password_hash: str) -> dict[str, User]:
    rng = random.Random(SEED)
    people = list(STAFF)
    number = 0
    for code, *_ in BRANCHES[3:]:
        for _ in range(FRONTLINE_PER_SUB_BRANCH):
            number += 1
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
            people.append((f"rm{number:03d}", name, Role.frontline, code))
    users = {}
    for username, name, role, code in people:
        user = User(username=username, display_name=name, role=role, branch=branches[code],
                    password_hash=password_hash, is_demo=True)
        db.session.add(user)
        users[username] = user
    db.session.flush()
    return users


def _plans(templates, hq: Branch, editor: User) -> list[SopPlan]:
    by_chart = {t.chart_spec: t for t in templates if t.chart_spec}
    plans = []
    for name, chart, send_time, calendar in PLANS:
        plan = SopPlan(name=name, template_id=by_chart[chart].id, branch_id=hq.id,
                       send_time=send_time, calendar=calendar, created_by_id=editor.id)
        db.session.add(plan)
        plans.append(plan)
    db.session.flush()
    for plan in plans:  # revision 1, as the plan form writes it
        record_revision(plan, snapshot(plan, audience_of(plan)), editor.id)
    return plans


def _run_dates(end_date: dt.date, days: int) -> list[dt.date]:
    dates, day = [], end_date
    while len(dates) < days:
        if runs_on("weekdays", day):
            dates.append(day)
        day -= dt.timedelta(days=1)
    return sorted(dates)


#: Per-template outcome profile: (like, comment, inquiry, conversion) rates per reached customer.
APPEAL = {"global_indices": (0.08, 0.03, 0.02, 0.004), "gold": (0.06, 0.04, 0.035, 0.006),
          "cny_fx": (0.05, 0.02, 0.015, 0.002)}


def _activity(dates: list[dt.date], end_date: dt.date) -> int:
    """Complete most tasks and log interaction events, deterministically.

    Tasks of ``end_date`` for the first sub-branch stay open so the front-line
    demo has work to do. :returns: number of events inserted.
    """
    rng = random.Random(SEED + 1)
    rows = db.session.execute(
        select(Task.id, Task.staff_id, Task.due_at, Post.run_date, ContentTemplate.chart_spec,
               User.username, User.branch_id)
        .join(Post, Task.post_id == Post.id).join(SopPlan, Post.sop_plan_id == SopPlan.id)
        .join(ContentTemplate, SopPlan.template_id == ContentTemplate.id)
        .join(User, Task.staff_id == User.id)
        .where(Post.run_date.in_(dates)).order_by(Task.id)
    ).all()
    first_branch = min(r.branch_id for r in rows) if rows else None
    diligence: dict[int, float] = {}
    updates, events = [], []
    for row in rows:
        rate = diligence.setdefault(row.staff_id, rng.choice([0.55, 0.75, 0.9, 0.95, 1.0]))
        if row.run_date == end_date and row.branch_id == first_branch:
            continue
        if rng.random() > rate:
            continue
        late = rng.random() < 0.15
        minutes = rng.randint(1, 180) if late else -rng.randint(0, 110)
        completed_at = row.due_at + dt.timedelta(minutes=minutes)
        reach = rng.randint(15, 60)
        updates.append({"id": row.id, "status": TaskStatus.done, "completed_at": completed_at,
                        "reach_count": reach})
        events.extend(_events_for(rng, row, reach, completed_at))
    if updates:
        db.session.execute(update(Task), updates)
    if events:
        db.session.execute(insert(InteractionEvent), events)
    return len(events)


def _events_for(rng: random.Random, row, reach: int, completed_at: dt.datetime) -> list[dict]:
    like, comment, inquiry, conversion = APPEAL.get(row.chart_spec, (0.05, 0.02, 0.01, 0.002))
    counts = {
        "like": round(reach * like * rng.uniform(0.3, 1.7)),
        "comment": round(reach * comment * rng.uniform(0.3, 1.7)),
        "inquiry": round(reach * inquiry * rng.uniform(0.2, 1.8)),
        "block": 1 if rng.random() < 0.04 else 0,
        "delete": 1 if rng.random() < 0.03 else 0,
        "conversion": 1 if rng.random() < reach * conversion else 0,
    }
    counts["reply"] = counts["comment"] + counts["inquiry"] - (1 if rng.random() < 0.3 else 0)
    events = []
    for kind, quantity in counts.items():
        if quantity <= 0:
            continue
        amount = rng.choice([20000, 50000, 100000, 200000]) if kind == "conversion" else None
        events.append({
            "reporter_id": row.staff_id, "event_id": f"demo-{row.id}-{kind}", "task_id": row.id,
            "kind": kind, "quantity": quantity, "amount_cny": amount,
            "occurred_at": completed_at + dt.timedelta(minutes=rng.randint(5, 600)),
        })
    return events


def _customer_book(users: dict[str, User], end_date: dt.date) -> int:
    """A book of 100 customers per RM and 8 weeks of adds, some of them gaming.

    Written by the synthetic generator and read back through the import engine; coverage
    targets for the quarter and coverage snapshots for the last 30 days.

    :returns: customers in the book.
    """
    staff = sorted(name for name, user in users.items() if user.role is Role.frontline)
    start = dt.datetime.combine(end_date - dt.timedelta(days=56), dt.time())
    population = generate(staff, SEED, start=start, days=56, book_size=100, adds_per_rm=60)
    with tempfile.TemporaryDirectory() as folder:
        write_population(population, Path(folder))
        for kind in ("customers", "contacts", "verifications"):
            import_file(kind, Path(folder) / f"{kind}.csv")
    quarter = end_date.replace(month=(end_date.month - 1) // 3 * 3 + 1, day=1)
    quarter_end = (quarter + dt.timedelta(days=95)).replace(day=1) - dt.timedelta(days=1)
    for segment, rate in DEMO_TARGETS.items():
        set_target(segment, quarter, quarter_end, rate)
    take_snapshots(end_date - dt.timedelta(days=back) for back in range(30))
    return len(population.customers)
