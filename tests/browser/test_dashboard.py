"""The supervisor's morning: the dashboard's counts, drilling from a count to the overdue
list behind it, filtering the list (with htmx, the address following), and into a task."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.browser.conftest import OFFICES, SERVER_TIME, Server, login
from workflow.deadlines import overdue as deadline_view


def _count(page: Any, label: str) -> int:
    card = page.get_by_test_id("count").filter(has_text=label)
    return int(card.locator(".value").inner_text())


def test_dashboard_counts_and_drill_down(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    # What the application function says is overdue for the supervisor, as of the server's time.
    wf = server.ctx.new_workflow()
    try:
        from workflow.core import accounts

        with wf.raw.read() as cur:
            who = accounts.actor(cur, wf.raw.sql, "b-supervisor")
        rows, _ = deadline_view.overdue(wf, server.ctx.settings, SERVER_TIME, within=who)
    finally:
        wf.close()
    assert {r["task_id"] for r in rows} >= set(server.tasks.values())

    login(page, "b-supervisor")
    expect(page.get_by_role("heading", level=1)).to_have_text("督办看板")
    page.shots("dashboard")
    assert _count(page, "未办结任务") == len(server.tasks)
    bands = {
        "逾期 1–5 个工作日": (1, 5),
        "逾期 6–20 个工作日": (6, 20),
        "逾期超过 20 个工作日": (21, 10**6),
    }
    shown = {label: _count(page, label) for label in bands}
    assert shown == {
        label: sum(lo <= r["working_days_late"] <= hi for r in rows)
        for label, (lo, hi) in bands.items()
    }
    assert sum(shown.values()) == len(rows)

    # Drill down: the band's count → the list behind it, that many rows.
    label, n = next((label, n) for label, n in shown.items() if n)
    page.get_by_test_id("count").filter(has_text=label).get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/overdue\?late="))
    expect(page.get_by_role("heading", level=1)).to_have_text("逾期事项")
    table = page.locator("#deadline-table tbody tr")
    expect(table).to_have_count(n)
    expect(page.get_by_label("逾期", exact=True)).to_have_value(
        parse_qs(urlsplit(page.url).query)["late"][0]
    )
    page.shots("overdue-band")

    # Filter by office: htmx swaps the table and the address follows; one task left.
    office = OFFICES[1]
    page.get_by_label("科室").select_option(office)
    expect(page).to_have_url(re.compile("office="))
    expect(table).to_have_count(
        sum(r["office"] == office for r in rows if _in_band(r, label, bands))
    )
    for cell in page.locator("#deadline-table tbody tr td:nth-child(4)").all_inner_texts():
        assert cell == office
    page.shots("overdue-office")

    # Into the task.
    page.locator("#deadline-table tbody tr").first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/tasks/{server.tasks[office]}$"))
    expect(page.get_by_test_id("state")).to_have_text("已抽取")
    page.shots("task")


def _in_band(row: dict[str, Any], label: str, bands: dict[str, tuple[int, int]]) -> bool:
    lo, hi = bands[label]
    return lo <= row["working_days_late"] <= hi


def test_the_overdue_list_reads_without_javascript(browser: Any, server: Server) -> None:
    """With JavaScript off the filter form is a plain GET: the same list, filtered."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=server.url, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, "b-supervisor")
        page.goto("/overdue")
        page.get_by_label("科室").select_option(OFFICES[0])
        page.get_by_role("button", name="筛选").click()
        expect(page).to_have_url(re.compile("office="))
        cells = page.locator("#deadline-table tbody tr td:nth-child(4)").all_inner_texts()
        assert cells and set(cells) == {OFFICES[0]}
    finally:
        context.close()
