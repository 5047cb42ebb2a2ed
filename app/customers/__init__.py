"""customers: the customer book, WeCom contacts, valid adds 有效添加, coverage 覆盖率."""

from flask import Blueprint

from app.core.scheduling import register_job_installer

bp = Blueprint("customers", __name__, url_prefix="/customers")


@bp.record_once
def _install_scheduler_jobs(state) -> None:
    """``flask scheduler run`` adds the nightly coverage snapshot."""
    register_job_installer(state.app, jobs.install_jobs)


from app.customers import jobs, views  # noqa: E402,F401
