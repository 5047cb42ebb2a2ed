def test_empty_login_shows_chinese_messages(client, db):
    html = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "用户名：" in html and "密码：" in html
    assert "This field is required" not in html
