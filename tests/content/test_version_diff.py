from app.content import services
from app.content.presenters import body_diff, comparison_base

# FD-09: the manager's "不保证" statement, so that neither version carries a warning
FD09 = "\n基金管理人不保证基金一定盈利，也不保证最低收益。"
V1 = "定投是一种纪律性的投资方式。\n基金有风险，投资须谨慎。" + FD09
V2 = "定投是一种长期、纪律性的投资方式。\n基金有风险，投资须谨慎。" + FD09 + "\n—— {{ staff.name }}"


def test_body_diff_marks_added_removed_and_unchanged_lines():
    lines = [(line.kind, line.text) for line in body_diff(V1, V2)]
    assert ("delete", "定投是一种纪律性的投资方式。") in lines
    assert ("add", "定投是一种长期、纪律性的投资方式。") in lines
    assert ("same", "基金有风险，投资须谨慎。") in lines
    assert ("add", "—— {{ staff.name }}") in lines
    assert body_diff(V1, V1) == []


def test_reviewer_compares_with_the_approved_version(client, login_as, editor, reviewer):
    template = services.create_template(editor.id, "dca", "定投课堂", "fund", "moments_post",
                                        None, V1)
    services.submit_for_review(template.id, editor.id)
    services.approve(template.id, reviewer.id)
    services.save_version(template.id, editor.id, V2)
    services.submit_for_review(template.id, editor.id)
    assert comparison_base(template, template.latest_version).number == 1
    login_as(reviewer)
    html = client.get(f"/content/{template.id}").get_data(as_text=True)
    assert "与第 1 版（已批准）的差异" in html
    assert '<span class="diff-add">+ 定投是一种长期、纪律性的投资方式。</span>' in html
    assert '<span class="diff-delete">- 定投是一种纪律性的投资方式。</span>' in html


def test_first_version_has_nothing_to_compare(client, login_as, editor):
    template = services.create_template(editor.id, "dca1", "定投课堂", "fund", "moments_post",
                                        None, V1)
    assert comparison_base(template, template.latest_version) is None
    login_as(editor)
    assert 'id="version-diff"' not in client.get(f"/content/{template.id}").get_data(
        as_text=True)
