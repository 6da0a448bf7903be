"""A clerk's tasks in a real browser (issue #12 part 3): finding a task by its number, filtering
by state, the task's page (targets and groups by name, the deadlines' timeline, the history),
a disabled action saying why, firing an allowed trigger with a reason; and a role that may not
fire triggers sees no action buttons. The list reads without JavaScript too."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import OFFICES, SERVER_TIME, Server, labels_and_one_h1, login
from workflow.core import accounts, identity, queries
from workflow.deadlines import overdue as deadline_view


def _record_results(server: Server, task: int) -> None:
    """What the clerk's results page (part 4) will do: every target's result, recorded by
    the application function as the clerk's account."""
    wf = server.ctx.new_workflow()
    try:
        with wf.raw.read() as cur:
            who = accounts.actor(cur, wf.raw.sql, "b-clerk")
        with identity.acting_as(who):
            for r in queries.show_task(wf.engine, task)["records"]:
                wf.set_result(task, r["target_code"], "no_problem", actor="b-clerk")
    finally:
        wf.close()


def _overdue_tasks(server: Server) -> set[int]:
    wf = server.ctx.new_workflow()
    try:
        with wf.raw.read() as cur:
            who = accounts.actor(cur, wf.raw.sql, "b-supervisor")
        rows, _ = deadline_view.overdue(wf, server.ctx.settings, SERVER_TIME, within=who)
    finally:
        wf.close()
    return {r["task_id"] for r in rows if r["task_id"] is not None}


def _hrefs(links: Any) -> list[str]:
    return [links.nth(i).get_attribute("href") for i in range(links.count())]


def test_a_clerks_task_from_search_to_trigger(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    mine, other = server.tasks[OFFICES[0]], server.tasks[OFFICES[1]]
    shown = queries.show_task(server.ctx.engine, mine)
    number = f"{shown['plan_no']}-{shown['task_no']}"

    login(page, "b-clerk")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="任务").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("任务")
    rows = page.locator("#task-table tbody tr")
    expect(rows).to_have_count(len(server.tasks))
    labels_and_one_h1(page)
    page.shots("list")

    # Search by number: htmx swaps the table, the address follows.
    page.get_by_label("编号或名称").fill(number)
    page.get_by_role("button", name="查找").click()
    expect(page).to_have_url(re.compile(r"q=" + re.escape(shown["plan_no"])))
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link")).to_have_text(number)
    page.shots("search")

    # Filter by state: both drawn; planned: none.
    page.get_by_label("编号或名称").fill("")
    page.get_by_label("状态").select_option(label="已计划")
    expect(page).to_have_url(re.compile("state=planned"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("没有符合条件的任务")
    page.get_by_label("状态").select_option(label="已抽取")
    expect(page).to_have_url(re.compile("state=drawn"))
    expect(rows).to_have_count(2)
    page.shots("filter-drawn")

    # Into the task: targets and groups by name, the timeline, the history.
    page.get_by_role("link", name=number).click()
    expect(page).to_have_url(re.compile(rf"/tasks/{mine}$"))
    expect(page.get_by_test_id("state")).to_have_text("已抽取")
    record = shown["records"][0]
    table = page.locator("#records")
    expect(table).to_contain_text(record["target_name"])
    for cert in record["inspectors"]:
        expect(table.get_by_test_id("group").first).to_contain_text(f"人员{cert}（{cert}）")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("确认抽取结果、匹配检查人员并生成检查表")
    expect(timeline).to_contain_text("已逾期")  # confirmation due 2024-04-03, seen on 04-15
    history = page.get_by_test_id("history-line")
    before = history.count()
    assert before >= 3  # created, committed, drawn
    expect(page.locator("#history")).to_contain_text("已计划 → 已抽取")
    # inspect waits on the results: disabled, saying why.
    expect(page.get_by_role("button", name="确认检查完成")).to_be_disabled()
    expect(page.get_by_test_id("why-inspect")).to_contain_text("还有 1 个检查对象未录入检查结果")
    labels_and_one_h1(page)
    page.shots("task-disabled")

    # The results in, inspect is offered: fired with a reason and a confirmation.
    _record_results(server, mine)
    page.reload()
    expect(page.get_by_test_id("why-inspect")).to_have_count(0)
    page.get_by_label("说明（确认检查完成，可选）").fill("全部检查完毕")
    page.get_by_label(re.compile("我已核对，确认检查完成")).check()
    page.shots("task-fire")
    page.get_by_role("button", name="确认检查完成").click()
    expect(page).to_have_url(re.compile(rf"/tasks/{mine}\?fired=inspect$"))
    expect(page.get_by_test_id("state")).to_have_text("已检查")
    expect(page.get_by_test_id("fired")).to_contain_text("确认检查完成")
    # New lines: the result recorded, and the transition with its reason, newest first.
    expect(history).to_have_count(before + 2)
    newest = history.first
    expect(newest).to_contain_text("已抽取 → 已检查")
    expect(newest).to_contain_text("全部检查完毕")
    expect(newest).to_contain_text("b-clerk")
    expect(page.locator("ol.lifecycle li.current")).to_contain_text("已检查")
    page.shots("task-fired")

    # The other task still waits; the list says so by state.
    page.goto("/tasks?state=inspected")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link")).to_have_text(number)
    page.goto(f"/tasks/{other}")
    expect(page.get_by_role("button", name="确认检查完成")).to_be_disabled()


def test_a_role_without_task_fire_sees_no_action_buttons(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    login(page, "b-supervisor")
    page.goto(f"/tasks/{server.tasks[OFFICES[1]]}")
    expect(page.get_by_test_id("state")).to_be_visible()
    expect(page.get_by_role("heading", name="可执行的操作")).to_have_count(0)
    assert page.locator("main button").count() == 0
    assert page.locator("form[action*='/triggers/']").count() == 0
    expect(page.get_by_test_id("history-line").first).to_be_visible()
    page.shots("supervisor-task")


def test_the_task_list_reads_without_javascript(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(base_url=server.url, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, "b-supervisor")
        page.goto("/tasks")
        page.get_by_label("仅逾期").check()
        page.get_by_role("button", name="查找").click()
        expect(page).to_have_url(re.compile("overdue=1"))
        # The tasks of the overdue list's rows, as the application says them now.
        links = page.locator("#task-table tbody tr a")
        expect(links.first).to_be_visible()
        shown = {int(h.rsplit("/", 1)[1]) for h in _hrefs(links)}
        assert shown == _overdue_tasks(server) and shown
    finally:
        context.close()
