"""The pages in-process: the login form's CSRF token, where ``next`` may lead, error pages for
browsers beside the API's problem+json. (Their walk in a real browser: tests/browser/.)"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import add_account
from web._pages import NAV, nav_for
from web._templates import local_time, safe_next
from workflow.core import permissions
from workflow.core.writer import Workflow

HTML = {"Accept": "text/html"}
PASSWORD = "correct-horse-battery-9"


@pytest.mark.parametrize(
    ("asked", "goes"),
    [
        ("/overdue?late=6-20", "/overdue?late=6-20"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("/login?next=/x", "/"),
        ("javascript:alert(1)", "/"),
        ("/a\r\nSet-Cookie: x", "/"),
    ],
)
def test_next_stays_on_the_site(asked: str | None, goes: str) -> None:
    assert safe_next(asked) == goes


def test_times_are_shown_in_beijing() -> None:
    assert local_time("2024-04-01T17:30:00.000000Z") == "2024-04-02 01:30"
    assert local_time(None) == ""


def test_navigation_follows_the_matrix() -> None:
    for role in permissions.ACCOUNT_ROLES:
        assert nav_for(role) == [n for n in NAV if role in permissions.MATRIX[n.action]]
    assert nav_for("public") == []


def _token(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found is not None
    return found.group(1)


def test_login_form_needs_its_token(api: TestClient, wf: Workflow) -> None:
    add_account(wf, "p-clerk", "clerk", password=PASSWORD)
    form = {"username": "p-clerk", "password": PASSWORD, "next": "/"}
    # Without the token (another site's form posting here): refused, nothing signed in.
    r = api.post("/login", data={**form, "csrf_token": "forged"}, headers=HTML)
    assert r.status_code == 400 and "登录页面已过期" in r.text
    assert "ssj_session" not in r.cookies
    r = api.post(
        "/login", data={**form, "csrf_token": _token(api.get("/login").text)}, headers=HTML,
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "ssj_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    # Logout without the session's token is refused; with it, the session ends.
    r = api.post("/logout", data={"csrf_token": "forged"}, headers=HTML, follow_redirects=False)
    assert r.status_code == 403 and "表单已过期" in r.text
    token = _token(api.get("/", headers=HTML).text)
    r = api.post("/logout", data={"csrf_token": token}, headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert api.get("/", headers=HTML, follow_redirects=False).status_code == 303


def test_a_missing_task_is_the_404_page(api: TestClient, wf: Workflow) -> None:
    add_account(wf, "p-sup", "supervisor", password=PASSWORD)
    login = api.get("/login")
    api.post("/login", data={"username": "p-sup", "password": PASSWORD, "next": "/",
                             "csrf_token": _token(login.text)})  # fmt: skip
    r = api.get("/tasks/999999", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<h1>页面不存在</h1>" in r.text and 'lang="zh-CN"' in r.text
    # The API, asked the same by a browser, keeps problem+json.
    r = api.get("/api/v1/tasks/999999", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_unexpected_errors_are_a_page_for_browsers(api: TestClient) -> None:
    from fastapi import APIRouter

    boom = APIRouter()

    @boom.get("/boom")
    def explode() -> None:
        raise RuntimeError("secret internals")

    app = api.app
    app.include_router(boom)  # type: ignore[attr-defined]
    with TestClient(app, raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        r = c.get("/boom", headers=HTML)
        assert r.status_code == 500 and "服务器内部错误" in r.text
        assert "secret internals" not in r.text
        r = c.get("/boom")
        assert r.headers["content-type"] == "application/problem+json"
