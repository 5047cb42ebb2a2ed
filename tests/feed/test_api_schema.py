"""schemathesis against the live app: generated requests to every ``/api/v1`` operation.

Checks every answer: no 5xx, status codes, content types, headers and bodies as the
OpenAPI document says, and bad input (the negative cases) refused with a 4xx — except
for ``POST /interactions``, whose contract is a 200 with a per-event ``error`` result for
an invalid event (the batch never fails as a whole for one bad item).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS

from app.feed.openapi import openapi_document
from app.org.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.timeout(600)


#: The document the app serves (``test_openapi.py`` checks it is the same), with the
#: app's base path; requests go to the live app through WSGI (``app=`` below).
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture
def frontline_token(db, make_task):
    from app.auth.services import issue_api_token

    user = UserFactory(role=Role.frontline)
    make_task(user)
    token = issue_api_token(user)
    db.session.commit()
    return token


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_description(case, app, frontline_token):
    case.operation.schema.app = app  # follow-up requests of the checks go there too
    excluded = []
    if case.operation.path == "/interactions":
        excluded.append(CHECKS.get_by_names(["negative_data_rejection"])[0])
    case.call_and_validate(headers={"Authorization": f"Bearer {frontline_token}"},
                           excluded_checks=excluded, app=app)
