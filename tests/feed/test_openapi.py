"""``/api/v1/openapi.json`` describes every ``/api/v1`` route, method and parameter."""

from __future__ import annotations

import re

from app.feed.openapi import openapi_document


def _api_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi":
            yield rule


def _openapi_path(rule) -> str:
    """``/api/v1/tasks/<int:task_id>/complete`` → ``/tasks/{task_id}/complete``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))


def test_every_api_route_and_method_is_described(app):
    paths = openapi_document()["paths"]
    described = {(path, method.upper()) for path, ops in paths.items() for method in ops}
    served = {(_openapi_path(rule), method) for rule in _api_rules(app)
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served and served == described


def test_path_parameters_match_the_url_rules(app):
    paths = openapi_document()["paths"]
    for rule in _api_rules(app):
        for operation in paths[_openapi_path(rule)].values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(rule.arguments), rule.rule


def test_document_is_served_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    body = response.get_json()
    assert body["openapi"].startswith("3.") and body == openapi_document()
