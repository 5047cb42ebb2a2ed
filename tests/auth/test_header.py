from tests.factories import UserFactory


def _who(html: str) -> str:
    start = html.index('<span class="who">')
    return html[start:html.index("</form>", start)]


def test_header_drops_a_role_already_in_the_name(client, login_as, db):
    login_as(UserFactory(role="admin", display_name="系统管理员"))
    db.session.commit()
    who = _who(client.get("/plans").get_data(as_text=True))
    assert who.count("系统管理员") == 1 and "（" not in who


def test_header_shows_the_role_as_a_badge(client, login_as, db):
    login_as(UserFactory(role="manager", display_name="赵行长（杭州分行）"))
    db.session.commit()
    html = client.get("/plans").get_data(as_text=True)
    assert "赵行长（杭州分行）（" not in html
    assert '<span class="badge role-badge">' in _who(html)
    assert 'rel="icon"' in html and "favicon.svg" in html


def test_token_reissue_asks_for_confirmation(client, login_as, db):
    from app.auth.services import issue_api_token

    user = UserFactory(role="frontline")
    login_as(user)
    html = client.get("/account/api-token").get_data(as_text=True)
    assert "return confirm(" not in html  # first token: nothing to lose
    issue_api_token(user)
    db.session.commit()
    html = client.get("/account/api-token").get_data(as_text=True)
    assert "return confirm('重新生成后，旧令牌立即失效" in html
