"""ComplianceFinding in the database: severity enum, NULL offsets and CHECK constraints."""

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from app.compliance import Finding, Severity
from app.content.models import ComplianceFinding, TemplateVersion
from tests.factories import TemplateVersionFactory


def _row(db, version_id, **values):
    """Insert one finding with raw SQL (no ORM conversion) inside a savepoint."""
    row = {"version_id": version_id, "rule_id": "T-1", "severity": "warn", "start": 0,
           "end": 2, "message": "m", "citation": "c"} | values
    with db.session.begin_nested():
        db.session.execute(insert(ComplianceFinding.__table__).values(**row))


def _stored(db, finding_id):
    return db.session.execute(text(
        'SELECT severity, start, "end" FROM compliance_findings WHERE id = :id'),
        {"id": finding_id}).one()


@pytest.mark.parametrize("severity", list(Severity))
def test_severity_round_trips_as_its_string(db, severity):
    version = TemplateVersionFactory()
    finding = ComplianceFinding(version_id=version.id, rule_id="T-1", severity=severity,
                                start=0, end=2, message="m", citation="c")
    db.session.add(finding)
    db.session.flush()
    assert _stored(db, finding.id).severity == severity.value
    db.session.expire_all()
    loaded = db.session.get(ComplianceFinding, finding.id)
    assert loaded.severity is severity
    assert loaded.is_blocking is (severity is Severity.block)


def test_render_only_finding_is_stored_with_null_offsets(db):
    version = TemplateVersionFactory()
    located = ComplianceFinding(version_id=version.id, rule_id="A", severity=Severity.warn,
                                start=0, end=0, message="m", citation="c")
    render_only = Finding("TPL-RENDER", Severity.block, None, None, "示例渲染失败", "c")
    stored = ComplianceFinding(version_id=version.id, rule_id=render_only.rule_id,
                               severity=render_only.severity, start=render_only.start,
                               end=render_only.end, message=render_only.message,
                               citation=render_only.citation)
    db.session.add_all([located, stored])
    db.session.flush()
    assert tuple(_stored(db, stored.id)) == ("block", None, None)
    db.session.expire_all()
    # listed first, as the old -1 offset sorted, on every backend
    assert [f.rule_id for f in db.session.get(TemplateVersion, version.id).findings] == [
        "TPL-RENDER", "A"]
    null_rows = db.session.scalars(select(ComplianceFinding.id).where(
        ComplianceFinding.start.is_(None), ComplianceFinding.end.is_(None))).all()
    assert null_rows == [stored.id]


@pytest.mark.parametrize(("values", "constraint"), [
    ({"start": 5, "end": 3}, "end_not_before_start"),
    ({"start": -1, "end": -1}, "start_not_negative"),
    ({"start": 2, "end": None}, "offsets_both_or_neither"),
    ({"start": None, "end": 2}, "offsets_both_or_neither"),
    ({"severity": "info"}, "severity"),
])
def test_check_constraints_reject_bad_rows(db, values, constraint):
    version = TemplateVersionFactory()
    with pytest.raises(IntegrityError, match=f"ck_compliance_findings_{constraint}"):
        _row(db, version.id, **values)


@pytest.mark.parametrize("values", [
    {"start": 3, "end": 3}, {"start": 0, "end": 7}, {"start": None, "end": None},
])
def test_check_constraints_accept_valid_offsets(db, values):
    version = TemplateVersionFactory()
    _row(db, version.id, **values)
    stored = db.session.execute(text(
        'SELECT start, "end" FROM compliance_findings WHERE version_id = :v'),
        {"v": version.id}).one()
    assert (stored.start, stored.end) == (values["start"], values["end"])
