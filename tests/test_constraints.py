"""The schema rejects rows that break an invariant, whoever writes them (SQLAlchemy Core).

Each case starts from a row the database accepts and changes one or two columns; the
insert must fail with ``IntegrityError`` naming the expected CHECK constraint (SQLite
and PostgreSQL both report the name). Each insert runs in a savepoint, so the test's
outer transaction survives the failure.
"""

import datetime as dt
import decimal

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from app.broadcasts.models import Post, Task
from app.connector.models import PushAction, WeComPush, WeComPushMessage
from app.content.models import Approval, ContentTemplate, TemplateVersion
from app.interactions.models import InteractionEvent
from app.market.models import PriceBar
from app.org.models import Branch, User
from tests.factories import TaskFactory, UserFactory

NOW = dt.datetime(2025, 4, 25, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def valid_rows(db):
    """Model → column values of a row that satisfies every constraint of its table."""
    task = TaskFactory()
    version = task.post.template_version
    other_staff = UserFactory(branch=task.staff.branch)
    push = WeComPush(task_id=task.id, action=PushAction.mass_message)
    db.session.add(push)
    db.session.flush()
    return {
        Branch: {"code": "CK-1", "name": "约束测试支行", "level": "sub_branch",
                 "parent_id": task.staff.branch_id, "path": "/1/2/3/"},
        User: {"username": "ck-user", "display_name": "约束", "password_hash": "x",
               "role": "frontline", "branch_id": task.staff.branch_id},
        ContentTemplate: {"slug": "ck-template", "title": "约束模板", "product": "general",
                          "content_kind": "market_commentary",
                          "channel": "moments_post", "status": "draft",
                          "author_id": version.author_id},
        TemplateVersion: {"template_id": version.template_id, "number": 99, "body": "x",
                          "body_sha256": "0" * 64, "author_id": version.author_id},
        Approval: {"version_id": version.id, "reviewer_id": other_staff.id,
                   "decision": "approved", "comment": ""},
        # a date outside the bundled snapshot, which the suite loads once per session
        PriceBar: {"series_code": "HSI", "trade_date": dt.date(2031, 1, 2),
                   "close": 21980.74, "volume": None, "source": "test"},
        Post: {"sop_plan_id": task.post.sop_plan_id, "run_date": dt.date(2025, 4, 28),
               "template_version_id": version.id, "market_as_of": {},
               "scheduled_at": NOW, "status": "published"},
        Task: {"post_id": task.post_id, "staff_id": other_staff.id, "body": "x",
               "body_sha256": "0" * 64, "status": "assigned", "due_at": NOW},
        InteractionEvent: {"reporter_id": task.staff_id, "event_id": "ck-event",
                           "task_id": task.id, "kind": "like", "quantity": 1,
                           "amount_cny": None, "occurred_at": NOW},
        WeComPushMessage: {"push_id": push.id, "seq": 0, "msgid": "msg-ck",
                           "first_external_userid": "wm-a", "last_external_userid": "wm-z",
                           "recipients": 10_000, "failed_customers": 1, "attempted_at": NOW,
                           "sent_at": NOW},
    }


def _insert(db, model, values):
    with db.session.begin_nested():
        db.session.execute(insert(model), values)


DONE = {"status": "done", "completed_at": NOW}
REJECTED = [
    # counts
    (Task, {**DONE, "reach_count": -1}, "ck_tasks_reach_count_non_negative"),
    (InteractionEvent, {"quantity": 0}, "ck_interaction_events_quantity_positive"),
    (TemplateVersion, {"number": 0}, "ck_template_versions_number_positive"),
    (PriceBar, {"volume": -1.0}, "ck_price_bars_volume_non_negative"),
    # amounts and prices
    (InteractionEvent, {"kind": "conversion", "amount_cny": decimal.Decimal("0.00")},
     "ck_interaction_events_amount_cny_positive"),
    (InteractionEvent, {"kind": "conversion", "amount_cny": decimal.Decimal("-10.00")},
     "ck_interaction_events_amount_cny_positive"),
    (InteractionEvent, {"kind": "conversion", "amount_cny": None},
     "ck_interaction_events_amount_cny_iff_conversion"),
    (InteractionEvent, {"kind": "like", "amount_cny": decimal.Decimal("100.00")},
     "ck_interaction_events_amount_cny_iff_conversion"),
    (PriceBar, {"close": 0.0}, "ck_price_bars_close_positive"),
    (PriceBar, {"close": -1.5}, "ck_price_bars_close_positive"),
    # enums
    (Branch, {"level": "region"}, "ck_branches_branchlevel"),
    (User, {"role": "superuser"}, "ck_users_role"),
    (ContentTemplate, {"product": "crypto"}, "ck_content_templates_productcategory"),
    (ContentTemplate, {"channel": "sms"}, "ck_content_templates_channel"),
    (ContentTemplate, {"status": "deleted"}, "ck_content_templates_templatestatus"),
    (ContentTemplate, {"content_kind": "advert"}, "ck_content_templates_contentkind"),
    (ContentTemplate, {"content_kind": "product_promotion"},
     "ck_content_templates_promotion_has_product"),
    (Approval, {"decision": "maybe"}, "ck_approvals_approvaldecision"),
    (Post, {"status": "draft"}, "ck_posts_poststatus"),
    (Task, {"status": "Done"}, "ck_tasks_taskstatus"),
    (InteractionEvent, {"kind": "share"}, "ck_interaction_events_interactionkind"),
    # task state and completion time, branch path format
    (Task, {"status": "done"}, "ck_tasks_completed_at_iff_done"),
    (Task, {"completed_at": NOW}, "ck_tasks_completed_at_iff_done"),
    (Task, {"reach_count": 5}, "ck_tasks_reach_count_only_when_done"),
    (Branch, {"path": "1/2/3/"}, "ck_branches_path_slashes"),
    (Branch, {"path": "/1/2/3"}, "ck_branches_path_slashes"),
    # a mass message (chunk) of a 群发 push: WeCom's 10,000 limit, range, sent state
    (WeComPushMessage, {"recipients": 10_001},
     "ck_wecom_push_messages_recipients_within_wecom_limit"),
    (WeComPushMessage, {"recipients": 0, "failed_customers": 0},
     "ck_wecom_push_messages_recipients_within_wecom_limit"),
    (WeComPushMessage, {"last_external_userid": None},
     "ck_wecom_push_messages_range_iff_recipients"),
    (WeComPushMessage, {"recipients": None}, "ck_wecom_push_messages_range_iff_recipients"),
    (WeComPushMessage, {"recipients": 2, "failed_customers": 3},
     "ck_wecom_push_messages_failed_customers_within_recipients"),
    (WeComPushMessage, {"failed_customers": -1},
     "ck_wecom_push_messages_failed_customers_within_recipients"),
    (WeComPushMessage, {"sent_at": None}, "ck_wecom_push_messages_sent_iff_msgid"),
    (WeComPushMessage, {"msgid": None}, "ck_wecom_push_messages_sent_iff_msgid"),
    (WeComPushMessage, {"seq": -1}, "ck_wecom_push_messages_seq_not_negative"),
]


@pytest.mark.parametrize(
    "model, change, constraint", REJECTED,
    ids=[f"{constraint}-{sorted(change.items())}" for _, change, constraint in REJECTED],
)
def test_the_database_rejects(db, valid_rows, model, change, constraint):
    with pytest.raises(IntegrityError) as caught:
        _insert(db, model, {**valid_rows[model], **change})
    assert constraint in str(caught.value.orig)


ACCEPTED = [
    (Task, {}),
    (Task, DONE),
    (Task, {**DONE, "reach_count": 0}),
    (InteractionEvent, {}),
    (InteractionEvent, {"kind": "reply", "quantity": 40}),
    (InteractionEvent, {"kind": "conversion", "amount_cny": decimal.Decimal("0.01")}),
    (PriceBar, {"volume": 0.0}),
    (Branch, {"level": "hq", "parent_id": None, "path": "/"}),
    (TemplateVersion, {"number": 1}),
    (WeComPushMessage, {}),
    (WeComPushMessage, {"msgid": None, "sent_at": None, "failed_customers": 0}),  # in flight
    (WeComPushMessage, {"first_external_userid": None, "last_external_userid": None,
                        "recipients": None}),  # to all the sender's customers
]


@pytest.mark.parametrize("model, change", ACCEPTED,
                         ids=[f"{m.__tablename__}-{sorted(c.items())}" for m, c in ACCEPTED])
def test_the_database_accepts_what_the_app_writes(db, valid_rows, model, change):
    values = {**valid_rows[model], **change}
    if model is TemplateVersion:  # a template of its own, so number 1 is free
        values["template_id"] = db.session.scalar(
            insert(ContentTemplate).values(valid_rows[ContentTemplate])
            .returning(ContentTemplate.id))
    _insert(db, model, values)


def test_a_push_has_one_message_in_flight_at_most(db, valid_rows):
    in_flight = {**valid_rows[WeComPushMessage], "msgid": None, "sent_at": None,
                 "failed_customers": 0}
    _insert(db, WeComPushMessage, in_flight)
    with pytest.raises(IntegrityError):  # uq_wecom_push_messages_in_flight (partial)
        _insert(db, WeComPushMessage, {**in_flight, "seq": 1})
    _insert(db, WeComPushMessage, {**valid_rows[WeComPushMessage], "seq": 1})
