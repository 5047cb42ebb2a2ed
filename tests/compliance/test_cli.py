import json


def test_check_prints_findings_and_exits_1_on_block(runner, tmp_path):
    path = tmp_path / "post.txt"
    path.write_text("本理财产品保本保息，最受欢迎！", encoding="utf-8")
    result = runner.invoke(args=["compliance", "check", str(path)])
    assert result.exit_code == 1, result.output
    rows = json.loads(result.output)
    assert [(r["rule_id"], r["severity"]) for r in rows] == [
        ("INV-01", "block"), ("INV-01", "block"), ("AD-01", "warn")]
    assert set(rows[0]) == {"rule_id", "severity", "start", "end", "message", "citation"}
    text = path.read_text(encoding="utf-8")
    assert text[rows[0]["start"]:rows[0]["end"]] == "保本"
    assert "不得承诺保本" in result.output  # ensure_ascii=False


def test_check_exits_0_with_warnings_only_and_reads_stdin(runner):
    result = runner.invoke(args=["compliance", "check", "-"], input="今日金价上涨1.2%。")
    assert result.exit_code == 0, result.output
    assert [r["rule_id"] for r in json.loads(result.output)] == ["DATA-01"]


def test_check_clean_text(runner):
    result = runner.invoke(args=["compliance", "check", "-"], input="祝您新春快乐。")
    assert result.exit_code == 0
    assert json.loads(result.output) == []


def test_check_with_product_applies_required_statements(runner, tmp_path):
    path = tmp_path / "wealth.txt"
    path.write_text("稳健理财，风险等级PR2。投资有风险。", encoding="utf-8")
    result = runner.invoke(args=["compliance", "check", str(path), "--product", "wealth"])
    assert result.exit_code == 1
    assert [r["rule_id"] for r in json.loads(result.output)] == ["WM-01"]
    plain = runner.invoke(args=["compliance", "check", str(path)])
    assert plain.exit_code == 0 and json.loads(plain.output) == []


def test_check_unreadable_file_exits_2(runner, tmp_path):
    result = runner.invoke(args=["compliance", "check", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2
    assert "cannot read" in result.output and "missing.txt" in result.output
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("保本".encode("gb18030"))
    result = runner.invoke(args=["compliance", "check", str(bad)])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_check_rejects_unknown_product(runner, tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("x", encoding="utf-8")
    result = runner.invoke(args=["compliance", "check", str(path), "--product", "stocks"])
    assert result.exit_code == 2
