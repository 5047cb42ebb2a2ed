"""Actions outside content that write an audit entry: post withdraw, imports (CLI and upload),
accounts made by ``flask users create``; each entry says who, what, which object (id,
version) and the content hash, and the chain still verifies."""

import datetime as dt
import hashlib
import io

from sqlalchemy import select

from app.audit.chain import verify
from app.audit.models import AuditEvent
from app.connector import withdraw
from app.org.models import Role, User
from tests.factories import BranchFactory, PostFactory, UserFactory

GOOD_PASSWORD = "Kirsche-Baum-42"
BOOK = "customer_id,rm,segment,has_account,province,aum_cny\nAU-1,aud_rm,mass,1,,1\n"


def _last(db, action: str) -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id.desc())).first()


def test_post_withdraw_is_recorded_with_the_version_and_its_hash(db):
    editor = UserFactory(role=Role.editor)
    post = PostFactory()
    version = post.template_version
    withdraw.withdraw_post(editor, post.id, "行情数据有误",
                           dt.datetime(2025, 4, 25, 3, 0, tzinfo=dt.UTC))
    event = _last(db, "post_withdrawn")
    assert (event.actor_id, event.object_type, event.object_id, event.object_version) == (
        editor.id, "post", post.id, version.number)
    assert event.content_sha256 == version.body_sha256
    assert event.before == {"status": "published"}
    assert event.after == {"status": "cancelled", "reason": "行情数据有误",
                           "run_date": "2025-04-25", "template": version.template_id}
    assert verify().ok


def test_cli_import_is_recorded_with_the_file_hash_and_counts(db, runner, tmp_path):
    UserFactory(username="aud_rm", role=Role.frontline)
    path = tmp_path / "book.csv"
    path.write_text(BOOK + "AU-2,nobody,mass,1,,1\n", encoding="utf-8")
    result = runner.invoke(args=["import", "customers", str(path)])
    assert result.exit_code == 0, result.output
    event = _last(db, "import_completed")
    assert event.actor_id is None and event.object_type == "import"
    assert event.content_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert event.after == {"file": "book.csv", "kind": "customers", "rows": 1, "errors": 1}
    unreadable = runner.invoke(args=["import", "contacts", str(tmp_path / "none.csv")])
    assert unreadable.exit_code == 2 and _last(db, "import_completed").id == event.id
    assert verify().ok


def test_uploaded_import_is_recorded_with_the_uploader(db, client, login_as):
    UserFactory(username="aud_rm", role=Role.frontline)
    admin = login_as("admin")
    content = BOOK.encode("utf-8")
    response = client.post("/customers/imports", data={
        "kind": "customers", "file": (io.BytesIO(content), "名单.csv")},
        content_type="multipart/form-data")
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.post("/customers/imports/confirm",
                       data={"job_id": job_id}).status_code == 302
    event = _last(db, "import_completed")
    assert event.actor_id == admin.id and event.object_id == job_id
    assert event.content_sha256 == hashlib.sha256(content).hexdigest()
    assert event.after == {"file": "名单.csv", "kind": "customers", "rows": 1, "errors": 0}
    assert verify().ok


def test_cli_user_create_is_recorded_without_secrets(db, runner):
    branch = BranchFactory()
    result = runner.invoke(args=["users", "create", "aud_new", "--name", "新员工", "--role",
                                 "manager", "--branch", branch.code,
                                 "--password", GOOD_PASSWORD])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "aud_new"))
    event = _last(db, "user_created")
    assert (event.actor_id, event.object_type, event.object_id) == (None, "user", user.id)
    assert event.after["role"] == "manager" and event.after["must_change_password"] is True
    assert GOOD_PASSWORD not in str(event.after) and user.password_hash not in str(event.after)
    assert verify().ok
