"""The administrator's day in a real browser: a unit added (a refused form keeping what was
typed), a bad units sheet refused row by row and a good one imported, an account added that
then signs in, disabled after confirmation (its session stops working), a token created
(shown once) and revoked, a dead letter retried, the State Council's notice recorded after
its dry run, the settings without a password; other roles get the 403 page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, SERVER_TIME, Server, labels_and_one_h1, login
from workflow.core.clock import format_utc

NEW_PASSWORD = "Zhang-San-Pass-2024"
HEADER = "单位代码,单位名称,层级,上级单位代码,负责人,电子邮箱,报送定期报告\n"


def _heading(page: Any, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    labels_and_one_h1(page)


def _nav(page: Any, label: str) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=label).click()


def _sheet(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}


def _dead_letter(server: Server) -> int:
    """A message the mail server refused for the last time: enqueued and delivered through
    the outbox's own functions, with a transport that refuses."""
    from notifications import DeliveryPolicy, Message, Rejected, deliver, enqueue

    class Refusing:
        name = "refusing"

        def describe(self) -> str:
            return "refusing"

        def open(self) -> None: ...

        def send(self, msg: Any) -> None:
            raise Rejected("550 5.1.1 mailbox unavailable")

        def close(self) -> None: ...

    wf = server.ctx.new_workflow()
    try:
        context = {"years_text": "2099 年", "today": "2024-04-15", "source": "测试",
                   "years": [2099], "command": "—", "event_seq": 1}  # fmt: skip
        message = Message("browser:dead", "head@bureau.test", "王队长", "calendar", context)
        with wf.raw.write() as cur:
            enqueue(cur, wf.raw, [message], format_utc(SERVER_TIME))
        policy = DeliveryPolicy("ssj <ssj@bureau.test>", max_attempts=1)
        assert deliver(wf.raw, Refusing(), policy, SERVER_TIME).dead == 1
        with wf.raw.read() as cur:
            cur.execute(wf.raw.sql("SELECT id FROM outbox WHERE key = ?"), ("browser:dead",))
            return int(cur.fetchone()[0])
    finally:
        wf.close()


def test_an_administrators_day(
    page: Any, browser: Any, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    login(page, "b-admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("王管理，您好")

    # --- units: a form refused keeps what was typed; then the unit is added -----------------
    _nav(page, "单位管理")
    _heading(page, "单位管理")
    page.shots("units")
    page.get_by_label("单位代码").fill("41/0421")
    page.get_by_label("单位名称").fill("劳动保障监察二大队")
    page.get_by_label("层级").select_option(label="科室")
    page.get_by_label("负责人", exact=True).fill("孙队长")
    page.get_by_label("科室须报送定期报告").check()
    page.get_by_role("button", name="新增单位").click()
    expect(page.get_by_role("alert")).to_contain_text("单位代码 '41/0421' 无效")
    expect(page.get_by_label("单位代码")).to_have_value("41/0421")
    expect(page.get_by_label("单位代码")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("单位名称")).to_have_value("劳动保障监察二大队")
    expect(page.get_by_label("负责人", exact=True)).to_have_value("孙队长")
    expect(page.get_by_label("科室须报送定期报告")).to_be_checked()
    page.shots("unit-refused")
    page.get_by_label("单位代码").fill("000000-09")
    page.get_by_role("button", name="新增单位").click()
    expect(page.get_by_role("status")).to_have_text("已新增单位 000000-09")
    expect(page.locator('li[data-code="000000-09"] .unit-name')).to_have_text("劳动保障监察二大队")
    page.shots("unit-added")

    # --- a units sheet: refused row by row, nothing written; then a good one -------------------
    page.get_by_role("link", name="导入单位表").click()
    _heading(page, "导入单位表")
    bad = (
        HEADER
        + "000000-10,稽核科,科室,000000,,,\n"
        + "000000-11,财务科,乡级,000000,,,\n"  # row 3
        + "000000-12,信访科,科室,999999,,,\n"  # row 4
    )
    page.get_by_label("单位表文件").set_input_files(_sheet("单位表.csv", bad))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_role("alert")).to_have_text(
        "单位表.csv 未导入（共 2 个问题，未写入任何数据）："
    )
    errors = page.get_by_test_id("row-errors").locator("tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0).locator("td").nth(0)).to_have_text("3")
    expect(errors.nth(0).locator("td").nth(1)).to_have_text("层级")
    expect(errors.nth(1).locator("td").nth(0)).to_have_text("4")
    expect(errors.nth(1).locator("td").nth(1)).to_have_text("上级单位代码")
    page.shots("import-refused")
    good = HEADER + "000000-10,稽核科,科室,000000,钱科长,,是\n"
    page.get_by_label("单位表文件").set_input_files(_sheet("单位表.csv", good))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("新增 1 个（000000-10）")
    page.shots("import-done")
    _nav(page, "单位管理")
    expect(page.locator('li[data-code="000000-10"] .unit-name')).to_have_text("稽核科")
    expect(page.locator("li[data-code='000000-11']")).to_have_count(0)

    # --- an account: added, signs in, disabled after confirmation ---------------------------
    _nav(page, "账号管理")
    _heading(page, "账号管理")
    page.get_by_role("link", name="新增账号").click()
    _heading(page, "新增账号")
    page.get_by_label("账号名").fill("zhangsan")
    page.get_by_label("姓名").fill("张三")
    page.get_by_label("角色").select_option(label="录入员")
    page.get_by_label("单位").select_option("000000-09")
    page.get_by_label("初始密码").fill("short")
    page.get_by_role("button", name="创建账号").click()
    expect(page.get_by_role("alert")).to_have_text("密码太短：至少 8 个字符")
    expect(page.get_by_label("账号名")).to_have_value("zhangsan")
    expect(page.get_by_label("单位")).to_have_value("000000-09")
    expect(page.get_by_label("初始密码")).to_have_value("")  # never shown back
    assert "short" not in page.content()
    page.get_by_label("初始密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="创建账号").click()
    _heading(page, "账号 zhangsan")
    expect(page.get_by_role("status")).to_have_text("账号已创建")
    assert NEW_PASSWORD not in page.content()
    page.shots("account-added")

    other = browser.new_context(base_url=server.url, locale="zh-CN")
    try:
        zhang = other.new_page()
        login(zhang, "zhangsan", NEW_PASSWORD)
        expect(zhang.get_by_role("heading", level=1)).to_have_text("张三，您好")
        expect(zhang.get_by_test_id("unit")).to_have_text("劳动保障监察二大队")

        page.get_by_label("停用原因").fill("调岗")
        page.get_by_role("button", name="停用账号…").click()
        _heading(page, "停用账号 zhangsan")
        expect(page.locator("#confirm-message")).to_contain_text("API 令牌随即吊销")
        page.shots("disable-confirm")
        zhang.reload()  # not yet: asking changed nothing
        expect(zhang.get_by_role("heading", level=1)).to_have_text("张三，您好")
        page.get_by_role("button", name="确认停用").click()
        expect(page.get_by_role("status")).to_contain_text("账号已停用")
        expect(page.get_by_test_id("account-state")).to_have_text("已停用")
        page.shots("account-disabled")
        zhang.reload()
        expect(zhang).to_have_url(re.compile(r"/login"))
        expect(zhang.get_by_role("heading", level=1)).to_have_text("登录")
    finally:
        other.close()

    # --- an API token: shown once, listed by prefix, revoked after confirmation --------------
    _nav(page, "API 令牌")
    _heading(page, "我的 API 令牌")
    page.get_by_label("用途").fill("月报脚本")
    page.get_by_role("button", name="创建令牌").click()
    token = page.get_by_test_id("new-token").inner_text()
    assert re.fullmatch(r"ssj_[0-9a-f]{12}_[\w-]+", token)
    prefix = token[:16]
    page.shots("token-created")
    bearer = {"Authorization": f"Bearer {token}"}
    assert page.request.get("/api/v1/me", headers=bearer).json()["username"] == "b-admin"
    page.goto("/tokens")  # the list, a GET: the full token is not in it
    row = page.locator(f'tr[data-prefix="{prefix}"]')
    expect(row.locator("td").nth(3)).to_have_text("有效")
    assert token not in page.content()
    row.get_by_role("button", name=f"吊销 {prefix}").click()
    _heading(page, f"吊销令牌 {prefix}")
    page.get_by_role("button", name="确认吊销").click()
    expect(page.get_by_role("status")).to_have_text(f"令牌 {prefix} 已吊销")
    expect(page.locator(f'tr[data-prefix="{prefix}"] td').nth(3)).to_contain_text("已吊销")
    assert page.request.get("/api/v1/me", headers=bearer).status == 401
    page.shots("token-revoked")

    # --- the mail queue: a dead letter retried ---------------------------------------------
    dead = _dead_letter(server)
    _nav(page, "邮件队列")
    _heading(page, "邮件队列")
    expect(page.get_by_test_id("status-dead")).to_have_text("死信（1）")
    row = page.locator(f'#outbox-table tr[data-id="{dead}"]')
    expect(row).to_contain_text("550 5.1.1 mailbox unavailable")
    page.shots("outbox-dead")
    row.get_by_role("button", name=f"重发邮件 {dead}").click()
    _heading(page, f"重发邮件 {dead}")
    page.get_by_role("button", name="确认重发").click()
    expect(page.get_by_role("status")).to_have_text(f"邮件 {dead} 已放回发送队列")
    expect(page.get_by_test_id("status-dead")).to_have_text("死信（0）")
    expect(page.locator(f'#outbox-table tr[data-id="{dead}"]')).to_have_count(1)
    page.shots("outbox-retried")

    # --- the calendar: the notice's dry run, then recorded ----------------------------------
    from tests.workflow.deadlines.test_calendar_years import Y, made_up_notice

    text, monday, _ = made_up_notice(Y)
    _nav(page, "工作日历")
    _heading(page, "工作日历")
    expect(page.locator('tr[data-year="2024"] td').nth(1)).to_have_text("已确认")
    page.get_by_label("通知全文").fill(text)
    page.get_by_role("button", name="预览（不录入）").click()
    preview = page.get_by_test_id("notice-preview")
    expect(preview).to_contain_text(f"国务院办公厅关于{Y}年部分节假日安排的通知")
    expect(preview).to_contain_text(monday.isoformat())
    expect(page.get_by_test_id("differences")).to_have_text("该年现为暂定，录入后以本通知为准")
    expect(page.locator(f'tr[data-year="{Y}"] td').nth(1)).to_have_text("暂定")
    expect(page.get_by_label("通知全文")).to_have_value(text)
    page.shots("notice-preview")
    page.get_by_role("button", name="确认录入").click()
    expect(page.get_by_role("status")).to_contain_text("已录入")
    expect(page.locator(f'tr[data-year="{Y}"] td').nth(1)).to_have_text("已确认")
    page.shots("notice-recorded")

    # --- the settings: their sources, no password ------------------------------------------
    monkeypatch.setattr(server.ctx, "db_override", "postgresql://ssj:Db-Secret-9@db/ssj")
    monkeypatch.setenv(server.ctx.settings.smtp.password_env, "Smtp-Secret-9")
    _nav(page, "系统设置")
    _heading(page, "系统设置")
    rows = page.get_by_test_id("settings")
    expect(rows.locator('tr[data-key="db.url"] td').nth(1)).to_have_text(
        "postgresql://ssj:***@db/ssj"
    )
    expect(rows.locator('tr[data-key="smtp.password"] td').nth(1)).to_have_text(
        "（已设置，不显示）"
    )
    content = page.content()
    assert "Db-Secret-9" not in content and "Smtp-Secret-9" not in content
    assert PASSWORD not in content and NEW_PASSWORD not in content
    page.shots("settings")


@pytest.mark.parametrize("username", ["b-clerk", "b-supervisor", "b-auditor", "b-inspector"])
def test_other_roles_get_the_403_page(page: Any, server: Server, username: str) -> None:
    from playwright.sync_api import expect

    login(page, username)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="账号管理")).to_have_count(0)
    for path in ("/admin/users", "/admin/units", "/admin/settings"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")
        expect(page.locator("p.error")).to_contain_text("系统管理员")
    page.shots("forbidden")


def test_the_admin_pages_by_keyboard(page: Any, server: Server) -> None:
    """The unit form is reached and sent with the keyboard alone."""
    from playwright.sync_api import expect

    login(page, "b-admin")
    page.goto("/admin/units")
    page.get_by_label("单位代码").focus()
    order = []
    for _ in range(8):
        order.append(
            page.evaluate("() => document.activeElement.name || document.activeElement.id")
        )
        page.keyboard.press("Tab")
    assert order[:4] == ["code", "name", "kind", "parent"], order
    page.get_by_label("单位代码").focus()
    page.keyboard.type("000000-20")
    page.keyboard.press("Tab")
    page.keyboard.type("信息科")
    page.keyboard.press("Enter")  # submits the form
    expect(page.get_by_role("status")).to_have_text("已新增单位 000000-20")


def test_the_admin_pages_work_without_javascript(browser: Any, server: Server) -> None:
    """Plain forms and links: every page reads, and a confirmed action goes through."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=server.url, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, "b-admin")
        for path, h1 in (
            ("/admin/units", "单位管理"),
            ("/admin/units/import", "导入单位表"),
            ("/admin/users", "账号管理"),
            ("/admin/users/b-clerk", "账号 b-clerk"),
            ("/admin/outbox?status=pending", "邮件队列"),
            ("/admin/calendar", "工作日历"),
            ("/admin/settings", "系统设置"),
            ("/tokens?user=b-clerk", "b-clerk 的 API 令牌"),
        ):
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            expect(page.get_by_role("heading", level=1)).to_have_text(h1)
        page.get_by_label("用途").fill("无脚本")
        page.get_by_role("button", name="创建令牌").click()
        prefix = page.get_by_test_id("new-token").inner_text()[:16]
        page.goto("/tokens?user=b-clerk")
        page.get_by_role("button", name=f"吊销 {prefix}").click()
        page.get_by_role("button", name="确认吊销").click()
        expect(page).to_have_url(re.compile(r"/tokens\?user=b-clerk&revoked="))
        expect(page.locator(f'tr[data-prefix="{prefix}"] td').nth(3)).to_contain_text("已吊销")
    finally:
        context.close()
