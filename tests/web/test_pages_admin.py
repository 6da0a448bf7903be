"""The administrator's pages in-process, on SQLite and PostgreSQL: forms refused with the API's
messages keeping what was typed (never a password), irreversible actions asked first, imports
listing each row's problem with nothing written, tokens shown once, the calendar's notice
recorded only after its dry run, the settings without secrets, and other roles refused.
(The administrator's day in a real browser: tests/browser/test_admin.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.conftest import add_account
from tests.web.conftest import events_after, head_seq
from web import create_app
from workflow.app import AppContext
from workflow.core import accounts, units
from workflow.core.clock import FixedClock
from workflow.core.writer import Workflow

HTML = {"Accept": "text/html"}
PASSWORD = "correct-horse-battery-9"
HEADER = "单位代码,单位名称,层级,上级单位代码,负责人,电子邮箱,报送定期报告\n"


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found is not None, text[:500]
    return found.group(1)


class Browser:
    """A TestClient signed in through the login form, posting forms with its CSRF token."""

    def __init__(self, client: TestClient, username: str, password: str = PASSWORD) -> None:
        self.c = client
        r = client.post(
            "/login",
            data={"username": username, "password": password, "next": "/",
                  "csrf_token": _csrf(client.get("/login").text)},
            follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 303, r.text
        self.csrf = _csrf(client.get("/", headers=HTML).text)

    def get(self, path: str, **kw: Any) -> Any:
        return self.c.get(path, headers=HTML, follow_redirects=False, **kw)

    def post(self, path: str, data: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.c.post(
            path, data={"csrf_token": self.csrf, **(data or {})}, headers=HTML,
            follow_redirects=False, **kw,
        )  # fmt: skip


@pytest.fixture
def app(ctx: AppContext, clock: FixedClock) -> Any:
    ctx.clock = clock
    return create_app(ctx)


def _client(app: Any) -> TestClient:
    return TestClient(app)


@pytest.fixture
def admin(app: Any, wf: Workflow) -> Iterator[Browser]:
    add_account(wf, "p-admin", "admin", password=PASSWORD, name="王管理")
    with _client(app) as c:
        yield Browser(c, "p-admin")


def test_other_roles_get_the_403_page(app: Any, wf: Workflow) -> None:
    add_account(wf, "p-clerk", "clerk", password=PASSWORD)
    add_account(wf, "p-sup", "supervisor", password=PASSWORD)
    with _client(app) as c:
        clerk = Browser(c, "p-clerk")
        for path in ("/admin/units", "/admin/users", "/admin/users/new", "/admin/settings",
                     "/admin/outbox", "/admin/units/import", "/admin/users/p-sup"):  # fmt: skip
            r = clerk.get(path)
            assert r.status_code == 403, path
            assert "<h1>无权访问</h1>" in r.text and "系统管理员" in r.text
        before = head_seq(wf)
        assert clerk.post("/admin/users/p-sup/disable", {"confirm": "yes"}).status_code == 403
        assert head_seq(wf) == before
        # Everyone reads the calendar and keeps their own tokens; only admins record notices.
        r = clerk.get("/admin/calendar")
        assert r.status_code == 200 and "录入国务院办公厅" not in r.text
        assert clerk.post("/admin/calendar/notice", {"text": "x"}).status_code == 403
        assert clerk.get("/tokens").status_code == 200
        assert clerk.get("/tokens", params={"user": "p-sup"}).status_code == 403
    with _client(app) as c:
        sup = Browser(c, "p-sup")  # reads the mail queue, retries nothing
        r = sup.get("/admin/outbox")
        assert r.status_code == 200 and "重发" not in r.text
        # The dashboard's count of dead letters leads to them.
        assert 'href="/admin/outbox?status=dead"' in sup.get("/dashboard").text
        assert sup.post("/admin/outbox/1/retry", {"confirm": "yes"}).status_code == 403


def test_a_unit_form_refused_keeps_what_was_typed(admin: Browser, wf: Workflow) -> None:
    with wf.raw.read() as cur:
        root = units.root(cur, wf.raw.sql)
    before = head_seq(wf)
    typed = {"code": "41 04/21", "name": "监察大队", "kind": "office", "parent": root.code,
             "head": "张队长", "email": "zhang@hrss.example.cn", "reports": "1"}  # fmt: skip
    r = admin.post("/admin/units", typed)
    assert r.status_code == 422
    # The message the API answers for the same input.
    message = _api_error(wf, lambda: units.parse_code(typed["code"]))
    assert str(escape(message)) in r.text and 'role="alert"' in r.text
    assert 'id="f-code" name="code" type="text" value="41 04/21"' in r.text
    assert 'aria-invalid="true"' in r.text
    for v in ("监察大队", "张队长", "zhang@hrss.example.cn"):
        assert f'value="{v}"' in r.text
    assert re.search(r'name="reports" value="1" checked', r.text)
    assert head_seq(wf) == before
    r = admin.post("/admin/units", {**typed, "code": "410421-01"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/units?added=410421-01"
    page = admin.get(r.headers["location"]).text
    assert "已新增单位 410421-01" in page and 'data-code="410421-01"' in page
    (kind, _actor, payload), = events_after(wf, before)  # fmt: skip
    assert kind == "unit_added" and payload["by"]["username"] == "p-admin"
    # The same code again: the application's own message, the form kept.
    r = admin.post("/admin/units", {**typed, "code": "410421-01", "name": "另一个"})
    assert r.status_code == 422 and "单位代码 410421-01 已被 监察大队 使用" in r.text
    assert 'value="另一个"' in r.text
    # Edited: the name changes, the parent cannot.
    assert "上级单位：" in admin.get("/admin/units/410421-01").text
    r = admin.post("/admin/units/410421-01",
                   {"new_code": "410421-01", "name": "劳动保障监察大队", "kind": "office"})  # fmt: skip
    assert r.status_code == 303
    assert "劳动保障监察大队" in admin.get("/admin/units").text
    assert admin.get("/admin/units/nope").status_code == 404


def _api_error(wf: Workflow, call: Any) -> str:
    from workflow.core.errors import SsjError

    try:
        call()
    except SsjError as e:
        return e.message
    raise AssertionError("no error")


def _upload(admin: Browser, text: str, name: str = "单位表.csv", **data: str) -> Any:
    return admin.post(
        "/admin/units/import", data, files={"file": (name, text.encode(), "text/csv")}
    )


def test_a_units_sheet_with_bad_rows_lists_them_and_writes_nothing(
    admin: Browser, wf: Workflow
) -> None:
    with wf.raw.read() as cur:
        root = units.root(cur, wf.raw.sql).code
    before = head_seq(wf)
    bad = (
        HEADER
        + f"{root}-02,社会保险科,科室,{root},,,\n"
        + f"{root}-03,财务科,乡级,{root},,,\n"  # row 3
        + f"{root}-04,稽核科,科室,{root},,,也许\n"  # row 4
    )
    r = _upload(admin, bad, name="../../etc/单位表.csv")
    assert r.status_code == 422 and "ssj-upload" not in r.text
    assert "单位表.csv 未导入（共 2 个问题，未写入任何数据）" in r.text
    cells = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]+)</td>', r.text)
    assert cells == [("3", "层级"), ("4", "报送定期报告")]
    assert head_seq(wf) == before
    good = HEADER + f"{root}-02,社会保险科,科室,{root},,,\n"
    r = _upload(admin, good, dry_run="1")
    assert r.status_code == 200 and "只校验，未写入任何数据" in r.text
    assert head_seq(wf) == before
    r = _upload(admin, good)
    assert r.status_code == 200 and f"新增 1 个（{root}-02）" in r.text
    assert head_seq(wf) == before + 1
    r = _upload(admin, "a,b\n", name="units.txt")
    assert r.status_code == 422 and "只支持 .csv 或 .xlsx 文件" in r.text
    r = admin.get("/admin/units/template")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd")


def test_an_account_added_signs_in_and_disabling_ends_its_session(
    app: Any, admin: Browser, wf: Workflow, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "Fresh-Password-2024"
    typed = {"username": "zhangsan", "name": "张三", "role": "clerk", "unit": "000000",
             "email": "zhang@hrss.example.cn"}  # fmt: skip
    r = admin.post("/admin/users", {**typed, "password": "short"})
    assert r.status_code == 422 and "密码太短：至少 8 个字符" in r.text
    assert "short" not in r.text and 'value="zhangsan"' in r.text and 'value="张三"' in r.text
    r = admin.post("/admin/users", {**typed, "role": "inspector", "password": secret})
    assert r.status_code == 422 and "执法人员账号须关联" in r.text and secret not in r.text
    r = admin.post("/admin/users", {**typed, "password": secret})
    assert r.status_code == 303 and r.headers["location"] == "/admin/users/zhangsan?done=added"
    page = admin.get(r.headers["location"]).text
    assert "账号已创建" in page and secret not in page
    assert "zhangsan" in admin.get("/admin/users").text
    # Neither the log (the access lines are there) nor any event holds the password.
    logged = capsys.readouterr().err
    assert '"path": "/admin/users"' in logged and secret not in logged
    assert secret not in json.dumps(events_after(wf, 0), ensure_ascii=False)
    with _client(app) as c:
        zhang = Browser(c, "zhangsan", secret)
        assert zhang.get("/").status_code == 200
        # Disabling asks first; nothing changes until confirmed.
        before = head_seq(wf)
        r = admin.post("/admin/users/zhangsan/disable", {"reason": "调岗"})
        assert r.status_code == 200 and "确认停用" in r.text and "吊销" in r.text
        assert 'name="reason" value="调岗"' in r.text and 'name="confirm" value="yes"' in r.text
        assert head_seq(wf) == before and zhang.get("/").status_code == 200
        r = admin.post("/admin/users/zhangsan/disable", {"reason": "调岗", "confirm": "yes"})
        assert r.status_code == 303
        assert "已停用" in admin.get("/admin/users/zhangsan").text
        (kind, _, payload), = events_after(wf, before)  # fmt: skip
        assert kind == "account_changed" and payload["after"] == {"disabled": True}
        r = zhang.get("/")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    # One's own account is not disabled; enabling and a new password work.
    r = admin.post("/admin/users/p-admin/disable", {"confirm": "yes"})
    assert r.status_code == 422 and "不能停用自己的账号" in r.text
    assert admin.post("/admin/users/zhangsan/enable").status_code == 303
    r = admin.post("/admin/users/zhangsan/reset-password", {"new_password": "zhangsan"})
    assert r.status_code == 422 and "密码不能与账号名相同" in r.text
    assert admin.post("/admin/users/zhangsan/reset-password",
                      {"new_password": "Another-Pass-77"}).status_code == 303  # fmt: skip
    with _client(app) as c:
        Browser(c, "zhangsan", "Another-Pass-77")
    assert admin.get("/admin/users/nobody").status_code == 404


def test_a_token_is_shown_once_and_revoked_after_confirmation(
    app: Any, admin: Browser, wf: Workflow
) -> None:
    r = admin.post("/tokens", {"name": "月报脚本"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    text = re.search(r'data-testid="new-token">(ssj_[^<]+)<', r.text)
    assert text is not None
    token = text.group(1)
    prefix = token[: len("ssj_") + 12]
    listed = admin.get("/tokens").text
    assert prefix in listed and token not in listed and "月报脚本" in listed
    api = admin.c
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    r = admin.post("/tokens/revoke", {"prefix": prefix})
    assert r.status_code == 200 and "确认吊销" in r.text
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    r = admin.post("/tokens/revoke", {"prefix": prefix, "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == f"/tokens?revoked={prefix}"
    assert "已吊销" in admin.get("/tokens").text
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # An administrator manages an account's tokens; a forged form is refused.
    add_account(wf, "p-clerk", "clerk", password=PASSWORD)
    r = admin.post("/tokens", {"name": "脚本", "user": "p-clerk"})
    assert r.status_code == 200 and "p-clerk 的 API 令牌" in r.text
    with accounts_read(wf) as cur:
        assert [t.name for t in accounts.tokens(cur, wf.raw.sql, "p-clerk", by=None)] == ["脚本"]
    r = admin.c.post("/tokens", data={"csrf_token": "forged", "name": "x"}, headers=HTML)
    assert r.status_code == 403 and "表单已过期" in r.text


def accounts_read(wf: Workflow) -> Any:
    return wf.raw.read()


def _dead_letter(wf: Workflow) -> int:
    """A message the transport refused for the last time, through the outbox's functions."""
    from notifications import DeliveryPolicy, Message, Rejected, deliver, enqueue

    class Refusing:
        name = "refusing"

        def describe(self) -> str:
            return "refusing"

        def open(self) -> None: ...

        def send(self, msg: Any) -> None:
            raise Rejected("550 mailbox unavailable")

        def close(self) -> None: ...

    now = wf.event_time()
    context = {"years_text": "2099 年", "today": "2024-04-01", "source": "测试", "years": [2099],
               "command": "ssj calendar notice", "event_seq": 1}  # fmt: skip
    with wf.raw.write() as cur:
        enqueue(cur, wf.raw, [Message("test:dead", "head@bureau.test", "王队长", "calendar",
                                      context)], now)  # fmt: skip
    from workflow.core.clock import parse_time

    result = deliver(wf.raw, Refusing(), DeliveryPolicy("ssj <ssj@bureau.test>", max_attempts=1),
                     parse_time(now, "UTC"))  # fmt: skip
    assert result.dead == 1
    with wf.raw.read() as cur:
        cur.execute("SELECT id FROM outbox WHERE status = 'dead'")
        return int(cur.fetchone()[0])


def test_a_dead_letter_is_retried_after_confirmation(admin: Browser, wf: Workflow) -> None:
    dead = _dead_letter(wf)
    r = admin.get("/admin/outbox")
    assert r.status_code == 200 and f'data-id="{dead}"' in r.text
    assert "550 mailbox unavailable" in r.text and "死信（1）" in r.text
    r = admin.post(f"/admin/outbox/{dead}/retry")
    assert r.status_code == 200 and "确认重发" in r.text
    assert "死信（1）" in admin.get("/admin/outbox").text
    r = admin.post(f"/admin/outbox/{dead}/retry", {"confirm": "yes"})
    assert (
        r.status_code == 303
        and r.headers["location"] == f"/admin/outbox?status=pending&retried={dead}"
    )
    page = admin.get(r.headers["location"]).text
    assert f"邮件 {dead} 已放回发送队列" in page and f'data-id="{dead}"' in page
    assert "死信（0）" in page
    assert admin.post("/admin/outbox/99999/retry").status_code == 404
    r = admin.get("/admin/outbox", params={"status": "lost"})
    assert r.status_code == 422 and "状态 &#39;lost&#39; 无效" in r.text


def test_a_notice_is_recorded_only_after_its_dry_run(admin: Browser, wf: Workflow) -> None:
    from tests.workflow.deadlines.test_calendar_years import Y, made_up_notice

    text, monday, _ = made_up_notice(Y)
    page = admin.get("/admin/calendar")
    assert page.status_code == 200 and "2024" in page.text and "2025" in page.text
    before = head_seq(wf)
    r = admin.post("/admin/calendar/notice", {"text": "今天天气很好"})
    assert r.status_code == 422 and "今天天气很好" in r.text and 'role="alert"' in r.text
    r = admin.post("/admin/calendar/notice", {"text": text})
    assert r.status_code == 200 and "预览（尚未录入）" in r.text
    assert monday.isoformat() in r.text and "该年现为暂定" in r.text
    assert head_seq(wf) == before
    digest = re.search(r'name="previewed" value="([0-9a-f]{64})"', r.text)
    assert digest is not None
    # The text changed after its preview: previewed again, not recorded.
    r = admin.post("/admin/calendar/notice", {"text": text + "\n", "previewed": digest.group(1)})
    assert r.status_code == 200 and "预览（尚未录入）" in r.text and head_seq(wf) == before
    r = admin.post("/admin/calendar/notice", {"text": text, "previewed": digest.group(1)})
    assert r.status_code == 303
    (kind, _, payload), = events_after(wf, before)  # fmt: skip
    assert kind == "calendar_recorded" and payload["by"]["username"] == "p-admin"
    page = admin.get(r.headers["location"]).text
    assert "已录入" in page and f"{Y}年部分节假日安排" in page
    row = re.search(rf'<tr data-year="{Y}">.*?</tr>', page, re.S)
    assert row is not None and "已确认" in row.group(0) and "暂定" not in row.group(0)


def test_the_settings_show_sources_and_no_secret(
    app: Any, ctx: AppContext, admin: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx.db_override = "postgresql://ssj:Db-Secret-Pw@db.internal/ssj"
    monkeypatch.setenv(ctx.settings.smtp.password_env, "Smtp-Secret-Pw")
    r = admin.get("/admin/settings")
    assert r.status_code == 200
    assert "Db-Secret-Pw" not in r.text and "Smtp-Secret-Pw" not in r.text
    assert "postgresql://ssj:***@db.internal/ssj" in r.text and "命令行 --db" in r.text
    assert "（已设置，不显示）" in r.text and "<code>calendar.timezone</code>" in r.text
