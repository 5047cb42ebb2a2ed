"""Jobs that feature packages add to ``flask scheduler run`` (the process lives in broadcasts).

Any package, whatever its layer, registers an installer when its blueprint is recorded;
``flask scheduler run`` calls every installer once at start::

    @bp.record_once
    def _install_scheduler_jobs(state) -> None:
        register_job_installer(state.app, jobs.install_jobs)
"""

from __future__ import annotations

_JOB_INSTALLERS = "scheduler.job_installers"


def register_job_installer(app, installer) -> None:
    """Let a package add its jobs when ``flask scheduler run`` starts.

    :param installer: ``installer(scheduler, app)``, called once per scheduler start
        (e.g. the WeCom connector's push and pull jobs, the nightly coverage snapshot).
    """
    installers = app.extensions.setdefault(_JOB_INSTALLERS, [])
    if installer not in installers:
        installers.append(installer)


def install_registered_jobs(scheduler, app) -> None:
    """Call every registered job installer (``register_job_installer``)."""
    for installer in app.extensions.get(_JOB_INSTALLERS, []):
        installer(scheduler, app)
