"""Signing in and out in a real browser; anonymous visitors sent to the login page; the error
pages; accessibility basics (labels, one h1, keyboard order)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.routing import APIRoute

from tests.browser.conftest import ACCOUNTS, Server, labels_and_one_h1, login
from workflow.core import permissions

PUBLIC_PAGES = {"/login"}


def page_routes(server: Server) -> list[str]:
    """Every GET page route of the application (path parameters filled in), /login aside."""
    from web import create_app

    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):  # FastAPI's lazily included routers
                yield from walk(r.original_router.routes)

    out = []
    for r in walk(create_app(server.ctx).routes):
        if not r.endpoint.__module__.startswith("web._pages"):
            continue
        if "GET" in r.methods and r.path not in PUBLIC_PAGES:
            out.append(re.sub(r"\{[^}]+\}", "1", r.path))
    return sorted(out)


def _expect_url(page: Any, path: str) -> None:
    from playwright.sync_api import expect

    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def test_anonymous_visitors_are_sent_to_login(page: Any, server: Server) -> None:
    routes = page_routes(server)
    assert {"/", "/dashboard", "/overdue", "/upcoming"} <= set(routes)
    for path in [*routes, "/overdue?late=6-20"]:
        response = page.goto(path)
        assert response is not None and response.ok
        parts = urlsplit(page.url)
        assert parts.path == "/login", path
        expected = None if path == "/" else [path]
        assert parse_qs(parts.query).get("next") == expected, path
        assert page.get_by_role("heading", level=1).inner_text() == "登录"
    page.shots("login")


def test_wrong_password_is_refused_in_chinese_keeping_the_username(
    page: Any, server: Server
) -> None:
    from playwright.sync_api import expect

    login(page, "b-clerk", "not-the-password", path="/login?next=/overdue")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("账号或密码不正确，或账号已停用")
    expect(page.get_by_label("用户名")).to_have_value("b-clerk")
    expect(page.get_by_label("密码")).to_have_value("")
    page.shots("wrong-password")
    # Still on the way to where the visitor was going: the right password lands there.
    page.get_by_label("密码").fill("correct-horse-battery-9")
    page.get_by_role("button", name="登录").click()
    _expect_url(page, "/overdue")


@pytest.mark.parametrize(("username", "role", "name"), ACCOUNTS)
def test_each_role_lands_on_its_start_page(
    page: Any, server: Server, username: str, role: str, name: str
) -> None:
    from playwright.sync_api import expect

    login(page, username)
    _expect_url(page, "/")
    expect(page.get_by_test_id("name")).to_have_text(name)
    expect(page.get_by_test_id("role")).to_have_text(permissions.ROLES[role])
    expect(page.get_by_test_id("unit")).to_have_text("本单位")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("督办看板" if role == "supervisor" else f"{name}，您好")
    # The navigation: what the matrix lets this role read, nothing else.
    from web._pages import nav_for

    nav = page.get_by_role("navigation", name="主导航").get_by_role("link")
    expect(nav).to_have_text([n.label for n in nav_for(role)])
    page.shots(role)


def test_logout_ends_the_session(page: Any, server: Server) -> None:
    login(page, "b-auditor")
    _expect_url(page, "/")
    cookie = next(c for c in page.context.cookies() if c["name"] == "ssj_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name="退出登录").click()
    _expect_url(page, "/login")
    assert not [c for c in page.context.cookies() if c["name"] == "ssj_session"]
    page.goto("/dashboard")
    assert urlsplit(page.url).path == "/login"
    # The old cookie is worth nothing any more, even sent again.
    page.context.add_cookies([cookie])
    page.goto("/")
    assert urlsplit(page.url).path == "/login"


def test_error_pages_are_chinese_and_the_api_keeps_problem_json(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    login(page, "b-clerk")
    _expect_url(page, "/")
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.shots("404")
    api = page.request.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "not_found"


def test_accessibility_basics(page: Any, server: Server) -> None:
    page.goto("/login")
    labels_and_one_h1(page)
    # The keyboard reaches the username, the password and the button, in that order.
    seen = []
    for _ in range(6):
        seen.append(
            page.evaluate(
                "() => document.activeElement.id || document.activeElement.textContent.trim()"
            )
        )
        page.keyboard.press("Tab")
    order = [s for s in seen if s in ("username", "password", "登录")]
    assert order[:3] == ["username", "password", "登录"], seen
    login(page, "b-supervisor")
    _expect_url(page, "/")
    for path in ("/", "/dashboard", "/overdue", "/upcoming", "/upcoming?within=0"):
        page.goto(path)
        labels_and_one_h1(page)
