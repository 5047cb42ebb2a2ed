"""``next=`` after login: only local paths on this site, never another host."""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

import pytest

from tests.factories import PASSWORD, UserFactory

SITE = "http://localhost/"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "///evil.example", "/\\evil.example",
    "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", " //evil.example",
    "https:evil.example", "javascript:alert(1)", "data:text/html,x",
])
def test_login_never_redirects_off_site(client, db, target):
    user = UserFactory(role="editor")
    response = client.post(f"/login?next={quote(target, safe='')}",
                           data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/plans", "/content/?status=approved", "/.//evil.example"])
def test_local_next_stays_on_this_host(client, db, target):
    user = UserFactory(role="editor")
    response = client.post(f"/login?next={quote(target, safe='')}",
                           data={"username": user.username, "password": PASSWORD})
    location = response.headers["Location"]
    assert location == target
    assert urlsplit(urljoin(SITE, location)).netloc == "localhost"


def test_anonymous_redirect_carries_a_local_next(client, db):
    response = client.get("/content/?status=approved")
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and not location.netloc
    assert "next=%2Fcontent%2F%3Fstatus%3Dapproved" in location.query
