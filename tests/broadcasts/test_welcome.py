"""Issue 9: ``after-add:N@HH:MM`` plans give welcome tasks to the staff who added contacts
N days earlier, and to no one else."""

import datetime as dt

import pytest
from sqlalchemy import select

from app.broadcasts import jobs
from app.broadcasts.models import PlanRun, RunStatus, Task
from app.broadcasts.welcome import contacts_to_welcome
from app.core.extensions import db as _db
from app.org.models import BranchLevel
from tests.broadcasts.test_run_day import BRIEF, approved_template
from tests.factories import BranchFactory, SopPlanFactory, UserFactory, WecomContactFactory

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
TICK = dt.datetime(2025, 4, 25, 10, 0, 30, tzinfo=SHANGHAI)
CREATED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def staff(db):
    hq = BranchFactory(level=BranchLevel.hq)
    people = {key: UserFactory(role="frontline", branch=hq) for key in "abc"}
    WecomContactFactory(staff=people["a"], external_userid="wm-a1",
                        added_at=dt.datetime(2025, 4, 22, 23, 30, tzinfo=SHANGHAI))
    WecomContactFactory(staff=people["a"], external_userid="wm-a2",
                        added_at=dt.datetime(2025, 4, 22, 0, 10, tzinfo=SHANGHAI))
    WecomContactFactory(staff=people["b"], external_userid="wm-b1",  # the day before
                        added_at=dt.datetime(2025, 4, 21, 23, 59, tzinfo=SHANGHAI))
    WecomContactFactory(staff=people["c"], external_userid="wm-c1",  # deleted since
                        added_at=dt.datetime(2025, 4, 22, 9, 0, tzinfo=SHANGHAI),
                        removed_at=dt.datetime(2025, 4, 23, 9, 0, tzinfo=SHANGHAI))
    return hq, people


def _plan(hq, schedule, name):
    return SopPlanFactory(name=name, template=approved_template(BRIEF), branch=hq,
                          calendar="daily", schedule=schedule, send_time=dt.time(10, 0),
                          created_at=CREATED)


def test_a_welcome_plan_tasks_only_the_staff_who_added_contacts_n_days_before(staff):
    hq, people = staff
    plan = _plan(hq, "after-add:3@10:00", "三日欢迎")
    jobs.tick("a", TICK)
    run = _db.session.scalars(select(PlanRun).where(PlanRun.sop_plan_id == plan.id,
                                                    PlanRun.run_date == TICK.date())).one()
    assert run.status is RunStatus.published
    assert list(_db.session.scalars(select(Task.staff_id))) == [people["a"].id]
    assert contacts_to_welcome(plan.schedule, plan.timezone, TICK.date(),
                               people["a"].id) == ["wm-a1", "wm-a2"]


def test_a_day_without_adds_is_skipped_with_its_reason(staff):
    hq, _ = staff
    plan = _plan(hq, "after-add:1@10:00", "次日欢迎")
    jobs.tick("a", TICK)
    run = _db.session.scalars(select(PlanRun).where(PlanRun.sop_plan_id == plan.id,
                                                    PlanRun.run_date == TICK.date())).one()
    assert run.status is RunStatus.skipped and run.reason_code == "no_new_contacts"
    assert "无需发送欢迎语" in run.reason
    assert _db.session.scalars(select(Task)).all() == []
