"""The tasks' pages in-process (issue #12 part 3), on both databases: the list's filters,
search and paging against ``queries.list_tasks``; a task's page with its groups by name, the
actions the writer would allow (and why not), the timeline and the history; firing a trigger
from the page's form (CSRF, confirmation, the page's version, a refusal shown in the page).
Their walk in a real browser: tests/browser/test_tasks.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import add_account, drawn_task, planned_task
from web._pages_tasks import PAGE_SIZE
from workflow.core import queries
from workflow.core.writer import Workflow

HTML = {"Accept": "text/html"}
PASSWORD = "correct-horse-battery-9"


def _token(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found is not None
    return found.group(1)


def _login(api: TestClient, wf: Workflow, username: str, role: str, **kw: Any) -> None:
    add_account(wf, username, role, password=PASSWORD, name=f"{username}名", **kw)
    form = {"username": username, "password": PASSWORD, "next": "/",
            "csrf_token": _token(api.get("/login").text)}  # fmt: skip
    assert api.post("/login", data=form, follow_redirects=False).status_code == 303


def _named_task(wf: Workflow, plan: str, name: str) -> int:
    """A task of its own plan, with a name of its own (not drawn)."""
    from workflow.sampling import plans

    plans.create_plan(wf, plan, unit="迁西县人力资源和社会保障局", actor="测试")
    return plans.create_task(wf, plan, name=name, actor="测试", ratio="0.05")


def _ids(text: str) -> list[int]:
    """The tasks a list page links to, in order."""
    table = text.split('id="task-table"', 1)[1].split("</table>", 1)[0]
    return [int(i) for i in re.findall(r'href="/tasks/(\d+)"', table)]


def test_list_filters_search_and_pages(api: TestClient, wf: Workflow) -> None:
    drawn, _ = drawn_task(wf, 1, months="2024-04")
    planned, _ = planned_task(wf, 1, months="2024-06..2024-08", task_type="directed")
    other = _named_task(wf, "2024002", "养老保险专项抽查")
    _login(api, wf, "t-clerk", "clerk")

    r = api.get("/tasks", headers=HTML)
    assert r.status_code == 200 and "<h1>任务</h1>" in r.text
    assert '<a href="/tasks" aria-current="page">任务</a>' in r.text  # in the navigation
    assert _ids(r.text) == [drawn, planned, other]
    assert _ids(api.get("/tasks?state=drawn", headers=HTML).text) == [drawn]
    assert _ids(api.get("/tasks?plan=2024002", headers=HTML).text) == [other]
    assert _ids(api.get("/tasks?type=directed", headers=HTML).text) == [planned]
    assert _ids(api.get("/tasks?type=定向", headers=HTML).text) == [planned]
    assert _ids(api.get("/tasks?month=2024-07", headers=HTML).text) == [planned, other]
    assert _ids(api.get("/tasks?month=2024-04", headers=HTML).text) == [drawn, other]
    # Search: a task's number, its id, a plan number, words of a name.
    shown = queries.show_task(wf.engine, planned)
    ref = f"{shown['plan_no']}-{shown['task_no']}"
    assert _ids(api.get("/tasks", params={"q": ref}, headers=HTML).text) == [planned]
    assert _ids(api.get("/tasks", params={"q": str(other)}, headers=HTML).text) == [other]
    assert _ids(api.get("/tasks", params={"q": "2024002"}, headers=HTML).text) == [other]
    assert _ids(api.get("/tasks", params={"q": "养老"}, headers=HTML).text) == [other]
    assert _ids(api.get("/tasks", params={"q": "无此任务"}, headers=HTML).text) == []
    # Overdue: the drawn task's confirmation is due 2 working days after the draw.
    assert _ids(api.get("/tasks?overdue=1", headers=HTML).text) == []

    # A bad filter: the API's message in the page, what was typed kept.
    r = api.get("/tasks?state=nope&q=养老", headers=HTML)
    assert r.status_code == 422 and "状态 &#39;nope&#39; 无效" in r.text
    assert 'value="养老"' in r.text
    r = api.get("/tasks?month=2024-13", headers=HTML)
    assert r.status_code == 422 and "月份" in r.text


def test_the_overdue_filter_takes_the_overdue_lists_tasks(
    api: TestClient, wf: Workflow, clock: Any
) -> None:
    from datetime import timedelta

    late, _ = drawn_task(wf, 1)
    planned_task(wf, 1)
    clock.set(clock.now() + timedelta(days=14))  # the draw unconfirmed: overdue
    _login(api, wf, "t-sup", "supervisor")
    assert _ids(api.get("/tasks?overdue=1", headers=HTML).text) == [late]


def test_list_pages_by_id(api: TestClient, wf: Workflow) -> None:
    ids = [planned_task(wf, 1)[0] for _ in range(PAGE_SIZE + 2)]
    _login(api, wf, "t-clerk", "clerk")
    r = api.get("/tasks", headers=HTML)
    assert _ids(r.text) == ids[:PAGE_SIZE]
    nxt = re.search(r'href="([^"]+)" rel="next"', r.text)
    assert nxt is not None
    r = api.get(nxt.group(1).replace("&amp;", "&"), headers=HTML)
    assert _ids(r.text) == ids[PAGE_SIZE:]
    assert 'rel="next"' not in r.text and "第一页" in r.text


def test_the_task_page_shows_groups_actions_timeline_and_history(
    api: TestClient, wf: Workflow
) -> None:
    task, codes = drawn_task(wf, 2)
    _login(api, wf, "t-clerk", "clerk")
    r = api.get(f"/tasks/{task}", headers=HTML)
    assert r.status_code == 200
    text = r.text
    # Groups by the inspectors' names, beside their certificates.
    with wf.engine.connect() as c:
        from sqlalchemy import text as sql

        names = dict(c.execute(sql("SELECT cert, name FROM inspector")).all())
    shown = queries.show_task(wf.engine, task)
    for rec in shown["records"]:
        for cert in rec["inspectors"]:
            assert f"{names[cert]}（{cert}）" in text
    # inspect waits on the results: disabled, with the guard's reason and what to do first.
    why = re.search(r'data-testid="why-inspect">([^<]+)<', text)
    assert why is not None
    assert "还有 2 个检查对象未录入检查结果" in why.group(1) and "录入检查结果" in why.group(1)
    assert f'action="/tasks/{task}/triggers/inspect"' not in text
    # The timeline: confirming the draw, due 2 working days after it.
    assert "确认抽取结果、匹配检查人员并生成检查表" in text and "2024-04-03" in text
    # The history: the draw moved it from planned to drawn.
    assert "已计划 → 已抽取" in text and "创建任务" in text
    assert "built-in method" not in text

    # Results in: inspect is offered as a form.
    for c in codes:
        wf.set_result(task, c, "no_problem", actor="测试")
    text = api.get(f"/tasks/{task}", headers=HTML).text
    assert f'action="/tasks/{task}/triggers/inspect"' in text
    assert 'data-testid="why-inspect"' not in text


def test_firing_from_the_page(api: TestClient, wf: Workflow) -> None:
    task, codes = drawn_task(wf, 1)
    wf.set_result(task, codes[0], "no_problem", actor="测试")
    _login(api, wf, "t-clerk", "clerk")
    page = api.get(f"/tasks/{task}", headers=HTML).text
    version = queries.show_task(wf.engine, task)["version"]
    form = {"csrf_token": _token(page), "version": str(version), "reason": "检查完毕"}
    url = f"/tasks/{task}/triggers/inspect"

    # Without the confirmation: refused, the reason kept.
    r = api.post(url, data=form, headers=HTML)
    assert r.status_code == 422 and "请勾选确认" in r.text and "检查完毕</textarea>" in r.text
    # Without the session's token: the 403 page, nothing written.
    r = api.post(url, data={**form, "confirm": "yes", "csrf_token": "x"}, headers=HTML)
    assert r.status_code == 403 and queries.show_task(wf.engine, task)["state"] == "drawn"
    # A stale page (someone wrote since): the conflict, shown in the page.
    r = api.post(url, data={**form, "confirm": "yes", "version": str(version - 1)}, headers=HTML)
    assert r.status_code == 409 and "已被他人修改" in r.text
    # Confirmed: done, back on the task page with the new state and its history line.
    r = api.post(url, data={**form, "confirm": "yes"}, headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/tasks/{task}?fired=inspect"
    text = api.get(r.headers["location"], headers=HTML).text
    assert 'data-testid="state">已检查<' in text and "已执行：确认检查完成" in text
    assert "已抽取 → 已检查" in text and "检查完毕" in text
    last = queries.list_events(wf.engine, task)[-1]
    assert (last["kind"], last["actor"], last["reason"]) == ("transition", "t-clerk", "检查完毕")
    # A trigger the guards refuse now: the writer's reason, in the page.
    r = api.post(f"/tasks/{task}/triggers/close", data={**form, "confirm": "yes",
                 "version": ""}, headers=HTML)  # fmt: skip
    assert r.status_code == 409 and "不能执行 close" in r.text


@pytest.mark.parametrize("role", ["supervisor", "auditor", "inspector"])
def test_roles_without_task_fire_see_no_actions(api: TestClient, wf: Workflow, role: str) -> None:
    task, codes = drawn_task(wf, 1)
    wf.set_result(task, codes[0], "no_problem", actor="测试")
    extra = {"inspector": "J000"} if role == "inspector" else {}
    _login(api, wf, f"t-{role}", role, **extra)
    text = api.get(f"/tasks/{task}", headers=HTML).text
    assert "可执行的操作" not in text and "/triggers/" not in text
    assert "历史记录" in text
    r = api.post(f"/tasks/{task}/triggers/inspect",
                 data={"csrf_token": _token(text), "confirm": "yes"}, headers=HTML)  # fmt: skip
    assert r.status_code == 403 and queries.show_task(wf.engine, task)["state"] == "drawn"


def test_the_api_lists_with_the_same_filters(api: TestClient, wf: Workflow) -> None:
    from tests.web.conftest import bearer

    planned, _ = planned_task(wf, 1, months="2024-06", task_type="directed")
    _named_task(wf, "2024002", "养老保险专项抽查")
    auth = bearer(wf, "t-api")
    r = api.get("/api/v1/tasks", params={"type": "定向", "month": "2024-06"}, headers=auth)
    assert r.status_code == 200
    assert [t["id"] for t in r.json()["items"]] == [planned]
    assert r.json()["items"][0]["task_type"] == "directed"
    r = api.get("/api/v1/tasks", params={"type": "随便"}, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "type"
