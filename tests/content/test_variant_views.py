"""Issue 9: the editor adds and removes wordings 措辞 and sees each one's findings."""

import re

from sqlalchemy import func, select

from app.content import services
from app.content.models import TemplateStatus, TemplateVersion
from tests.content.test_variants import FIRST, SECOND, UNSAFE

NEW = {"slug": "fund-v", "title": "定投课堂", "product": "fund", "channel": "moments_post",
       "chart_spec": "", "body": FIRST}


def _wording_html(html: str, variant: int) -> str:
    start = html.index(f'id="wording-{variant}"')
    end = html.find('class="wording"', start)
    return html[start:end if end > 0 else None]


def test_add_variant_button_adds_a_field_without_saving(client, login_as, db):
    login_as("editor")
    response = client.post("/content/new", data={**NEW, "add_variant": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "已添加措辞 2" in html
    assert 'name="variants-0"' in html and FIRST in html  # what was typed is kept
    assert db.session.scalar(select(func.count(TemplateVersion.id))) == 0


def test_create_with_two_wordings_shows_findings_per_wording(client, login_as, db):
    login_as("editor")
    response = client.post("/content/new", data={**NEW, "variants-0": UNSAFE})
    assert response.status_code == 302
    template_id = int(response.headers["Location"].rstrip("/").split("/")[-2])
    assert services.get_template(template_id).latest_version.bodies == [FIRST, UNSAFE]
    html = client.get(f"/content/{template_id}/edit").get_data(as_text=True)
    assert "2 种措辞，逐一检查" in html
    first, second = _wording_html(html, 0), _wording_html(html, 1)
    assert "未发现合规问题" in first and "finding-block" not in first
    assert re.search(r'<mark class="finding-block" title="[^"]*INV-01[^"]*">[^<]*保本', second)
    assert 'name="variants-0"' in html and "删除措辞 2" in html
    submit = re.search(r'<button type="submit" class="[^"]*" disabled>提交复核</button>', html)
    assert submit, "a failing wording disables submission"


def test_remove_variant_then_save_drops_it(client, login_as, db):
    editor = login_as("editor")
    template = services.create_template(editor.id, "fund-v", "定投课堂", "fund",
                                        "moments_post", None, FIRST, variants=[UNSAFE, SECOND])
    db.session.commit()
    page = client.post(f"/content/{template.id}/edit", data={
        "body": FIRST, "variants-0": UNSAFE, "variants-1": SECOND, "remove_variant": "0"})
    html = page.get_data(as_text=True)
    assert "已删除措辞 2" in html and 'name="variants-1"' not in html
    assert SECOND in html and template.latest_version.number == 1
    saved = client.post(f"/content/{template.id}/edit", data={"body": FIRST,
                                                               "variants-0": SECOND})
    assert saved.status_code == 302
    assert template.latest_version.number == 2
    assert template.latest_version.bodies == [FIRST, SECOND]
    assert template.status is TemplateStatus.draft


def test_reviewer_page_lists_each_wording(client, login_as, db):
    editor = login_as("editor")
    template = services.create_template(editor.id, "fund-v", "定投课堂", "fund",
                                        "moments_post", None, FIRST, variants=[SECOND])
    services.submit_for_review(template.id, editor.id)
    db.session.commit()
    login_as("reviewer")
    html = client.get(f"/content/{template.id}").get_data(as_text=True)
    assert "2 种措辞" in html and "措辞 1" in html and "措辞 2" in html
    assert FIRST.split("。")[0] in html and SECOND.split("。")[0] in html
    assert re.search(r'<button type="submit" class="primary">批准</button>', html)


def test_a_repeated_wording_is_refused_with_its_field(client, login_as, db):
    login_as("editor")
    db.session.commit()  # the refused request rolls back its own changes
    html = client.post("/content/new", data={**NEW, "variants-0": FIRST}).get_data(as_text=True)
    assert "措辞 2：与措辞 1相同" in html
    assert db.session.scalar(select(func.count(TemplateVersion.id))) == 0


def test_preview_renders_the_chosen_wording(client, login_as, db):
    editor = login_as("editor")
    template = services.create_template(editor.id, "fund-v", "定投课堂", "fund",
                                        "moments_post", None, FIRST, variants=[SECOND])
    db.session.commit()
    second = client.get(f"/content/{template.id}/preview?variant=1").get_data(as_text=True)
    assert SECOND.split("。")[0] in second and FIRST.split("。")[0] not in second
    assert '<option value="1" selected>措辞 2</option>' in second
    first = client.get(f"/content/{template.id}/preview").get_data(as_text=True)
    assert FIRST.split("。")[0] in first
