"""factory_boy factories for Zhongtai models (session bound per test by conftest)."""

from __future__ import annotations

import datetime as dt
import hashlib

import factory
from factory.alchemy import SQLAlchemyModelFactory
from werkzeug.security import generate_password_hash

from app.broadcasts.models import Post, SopPlan, Task
from app.content.models import (
    Channel,
    ContentKind,
    ContentTemplate,
    ProductCategory,
    TemplateStatus,
    TemplateVersion,
)
from app.org.models import Branch, BranchLevel, Role, User

PASSWORD = "correct horse battery"
#: scrypt with a low work factor: checking a login costs about 1 ms instead of 100 ms.
#: ``check_password_hash`` reads the method from the hash; production keeps the default.
TEST_HASH_METHOD = "scrypt:1024:8:1"
_PASSWORD_HASH = generate_password_hash(PASSWORD, TEST_HASH_METHOD)
_FACTORIES: list[type[SQLAlchemyModelFactory]] = []


def bind_session(session) -> None:
    """Point every factory at ``session`` (called by the ``db`` fixture)."""
    for factory_class in _FACTORIES:
        factory_class._meta.sqlalchemy_session = session


def _register(cls):
    _FACTORIES.append(cls)
    return cls


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


@_register
class BranchFactory(_Base):
    class Meta:
        model = Branch

    code = factory.Sequence(lambda n: f"B{n:04d}")
    name = factory.Sequence(lambda n: f"测试支行{n}")
    level = BranchLevel.sub_branch
    parent = None

    @factory.post_generation
    def fill_path(obj, create, extracted, **kwargs):  # noqa: N805
        from app.org.services import set_branch_path

        set_branch_path(obj)


@_register
class UserFactory(_Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n:04d}")
    display_name = factory.Sequence(lambda n: f"员工{n}")
    password_hash = _PASSWORD_HASH
    role = Role.frontline
    branch = factory.SubFactory(BranchFactory)

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        if isinstance(kwargs.get("role"), str):
            kwargs["role"] = Role(kwargs["role"])
        return kwargs


@_register
class ContentTemplateFactory(_Base):
    class Meta:
        model = ContentTemplate

    slug = factory.Sequence(lambda n: f"template-{n}")
    title = factory.Sequence(lambda n: f"模板{n}")
    product = ProductCategory.general
    content_kind = factory.LazyAttribute(
        lambda o: ContentKind.market_commentary if o.product is ProductCategory.general
        else ContentKind.product_promotion)
    channel = Channel.moments_post
    chart_spec = None
    status = TemplateStatus.draft
    author = factory.SubFactory(UserFactory, role=Role.editor)


@_register
class TemplateVersionFactory(_Base):
    class Meta:
        model = TemplateVersion

    template = factory.SubFactory(ContentTemplateFactory)
    number = factory.Sequence(lambda n: n + 1)
    body = "{{ date }} 市场有风险，投资须谨慎。"
    body_sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.body.encode()).hexdigest())
    author = factory.SelfAttribute("template.author")


@_register
class SopPlanFactory(_Base):
    class Meta:
        model = SopPlan
        exclude = ("created_by",)  # SopPlan maps only created_by_id

    name = factory.Sequence(lambda n: f"SOP {n}")
    template = factory.SubFactory(ContentTemplateFactory)
    branch = factory.SubFactory(BranchFactory)
    send_time = dt.time(8, 30)
    timezone = "Asia/Shanghai"
    calendar = "XSHG"
    created_by = factory.SubFactory(UserFactory, role=Role.editor)
    created_by_id = factory.SelfAttribute("created_by.id")


@_register
class PostFactory(_Base):
    class Meta:
        model = Post

    sop_plan = factory.SubFactory(SopPlanFactory)
    run_date = dt.date(2025, 4, 25)
    template_version = factory.SubFactory(
        TemplateVersionFactory, template=factory.SelfAttribute("..sop_plan.template")
    )
    market_as_of = factory.LazyFunction(dict)
    scheduled_at = dt.datetime(2025, 4, 25, 0, 30, tzinfo=dt.UTC)


@_register
class TaskFactory(_Base):
    class Meta:
        model = Task

    post = factory.SubFactory(PostFactory)
    staff = factory.SubFactory(UserFactory, role=Role.frontline)
    body = "今日市场速览"
    body_sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.body.encode()).hexdigest())
    due_at = dt.datetime(2025, 4, 25, 2, 30, tzinfo=dt.UTC)


from app.interactions.models import InteractionEvent, InteractionKind  # noqa: E402


@_register
class InteractionEventFactory(_Base):
    class Meta:
        model = InteractionEvent

    task = factory.SubFactory(TaskFactory)
    reporter = factory.SelfAttribute("task.staff")
    event_id = factory.Sequence(lambda n: f"evt-{n:08d}")
    kind = InteractionKind.like
    quantity = 1
    amount_cny = None
    occurred_at = dt.datetime(2025, 4, 25, 4, 0, tzinfo=dt.UTC)


from app.customers.models import (  # noqa: E402
    Customer,
    CustomerOwnership,
    Segment,
    Verification,
    VerificationMethod,
    WecomContact,
)


def segment(code: str) -> Segment:
    """One of the segments the migration inserts (private, vip, payroll, mass)."""
    from sqlalchemy import select

    return CustomerFactory._meta.sqlalchemy_session.scalar(
        select(Segment).where(Segment.code == code))


@_register
class CustomerFactory(_Base):
    """A customer in the book with an open ownership since before the first import."""

    class Meta:
        model = Customer

    customer_ref = factory.Sequence(lambda n: f"C{n:07d}")
    rm = factory.SubFactory(UserFactory)
    segment = factory.LazyFunction(lambda: segment("mass"))
    has_account = True
    province_code = "33"
    aum_cny = 100_000

    @factory.post_generation
    def ownership(obj, create, extracted, **kwargs):  # noqa: N805
        session = CustomerFactory._meta.sqlalchemy_session
        session.add(CustomerOwnership(customer_id=obj.id, rm_id=obj.rm_id, valid_from=None))
        session.flush()


@_register
class WecomContactFactory(_Base):
    class Meta:
        model = WecomContact

    staff = factory.SubFactory(UserFactory)
    external_userid = factory.Sequence(lambda n: f"wm{n:010d}")
    added_at = dt.datetime(2025, 4, 10, 2, 0, tzinfo=dt.UTC)
    add_way = 1
    contact_type = 1
    corp_name = None
    removed_at = None


@_register
class VerificationFactory(_Base):
    class Meta:
        model = Verification

    external_userid = factory.Sequence(lambda n: f"wm{n:010d}")
    customer_ref = factory.Sequence(lambda n: f"C{n:07d}")
    method = VerificationMethod.link
    verified_at = dt.datetime(2025, 4, 10, 3, 0, tzinfo=dt.UTC)
    ip_province_code = "33"
