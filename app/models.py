"""Import every model module so metadata is complete (Alembic, tests)."""

from app.audit.models import AuditChainHead, AuditEvent  # noqa: F401
from app.auth.models import LoginThrottle  # noqa: F401
from app.broadcasts.models import (  # noqa: F401
    PlanRun,
    Post,
    PostStatus,
    PostText,
    SchedulerTick,
    SopPlan,
    Task,
    TaskStatus,
)
from app.broadcasts.plan_models import PlanAudience, SopPlanRevision  # noqa: F401
from app.connector.models import (  # noqa: F401
    PostWithdrawal,
    WeComContactEvent,
    WeComOutcome,
    WeComPush,
    WeComPushMessage,
    WeComReminder,
    WeComStaffDay,
    WeComTaskResult,
)
from app.content.models import (  # noqa: F401
    Approval,
    ApprovalDecision,
    ComplianceFinding,
    ContentTemplate,
    TemplateStatus,
    TemplateVersion,
)
from app.core.leases import Lease  # noqa: F401
from app.customers.models import (  # noqa: F401
    AddsSnapshot,
    CoverageSnapshot,
    CoverageTarget,
    Customer,
    CustomerOwnership,
    ImportJob,
    Segment,
    Verification,
    WecomContact,
)
from app.interactions.models import InteractionEvent, InteractionKind  # noqa: F401
from app.market.models import ChartImage, PriceBar  # noqa: F401
from app.org.models import Branch, BranchLevel, Role, User  # noqa: F401
from app.wecom.models import WeComAccessToken, WeComMedia  # noqa: F401
