"""Real browser at phone width (390 px): middle-office pages must not scroll sideways."""

from __future__ import annotations

import pytest

from tests.browser.helpers import wait_image_loaded

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("path", ["/content/", "/content/1/edit", "/content/new", "/plans",
                                  "/tracking"])
def test_editor_pages_fit_a_phone(login, path):
    page = login("editor", viewport=PHONE)
    page.goto(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width}px wide"


def test_favicon_is_linked_and_served(login):
    page = login("editor", viewport=PHONE)
    href = page.get_attribute("link[rel=icon]", "href")
    response = page.request.get(href)
    assert response.status == 200 and "svg" in response.headers["content-type"]


def test_my_customers_fits_a_phone_and_lists_follow_ups(login):
    page = login("rm001", viewport=PHONE)
    page.locator("header nav a", has_text="我的客户").click()
    page.wait_for_url("**/customers/mine")
    assert page.locator("#my-coverage tbody tr").count() >= 1
    assert page.locator("#follow-up tbody tr").count() >= 1
    assert wait_image_loaded(page, page.locator("#my-coverage-trend")) > 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"/customers/mine is {width}px wide"
