"""The auditor's day in a real browser: the chain verified (with progress, and intact), a task
replayed as of last month (on the tests' clock) and as of now, the log searched by account and
kind, the export downloaded and read, a checkpoint signed out and checked; then a chain broken
in the database shown with its first bad seq. A role the matrix refuses gets the 403 page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from tests.browser.conftest import SERVER_TIME, Server, labels_and_one_h1, login
from tests.conftest import drawn_task
from workflow.core import accounts, audit, identity, queries
from workflow.core.clock import FixedClock
from workflow.core.config import DbSettings
from workflow.core.db import make_engine
from workflow.core.writer import Workflow
from workflow.deadlines.calendar import WorkCalendar

BEIJING = ZoneInfo("Asia/Shanghai")
# The history the auditor looks back on, relative to the server's clock (never today's date):
# a task drawn last month, its results recorded and the inspection closed last week.
DRAWN_AT = SERVER_TIME - timedelta(days=35)
AS_OF = SERVER_TIME - timedelta(days=30)  # last month, after the draw
RESULTS_AT = SERVER_TIME - timedelta(days=7)


@dataclass(frozen=True)
class History:
    task: int
    targets: list[str]


@contextmanager
def _workflow(server: Server, at: Any) -> Iterator[Workflow]:
    engine = make_engine(DbSettings(), server.db_url)
    wf = Workflow(engine, calendar=WorkCalendar(), clock=FixedClock(at, tick_us=1000))
    try:
        yield wf
    finally:
        wf.close()
        engine.dispose()


@pytest.fixture(scope="module")
def history(server: Server) -> History:
    """A task drawn last month by the clerk, its results recorded last week."""
    with _workflow(server, DRAWN_AT) as wf:
        with wf.raw.read() as cur:
            clerk = accounts.actor(cur, wf.raw.sql, "b-clerk")
        with identity.acting_as(clerk):
            task, codes = drawn_task(wf, 2)
            wf.clock.set(RESULTS_AT)  # type: ignore[attr-defined]
            for c in codes:
                wf.set_result(task, c, "no_problem", actor="b-clerk")
            wf.fire(task, "inspect", actor="b-clerk", reason="检查完毕")
    return History(task, codes)


def _verified(server: Server) -> audit.VerifyResult:
    with server.ctx.connect() as raw:
        return audit.verify_db(raw)


def _nav(page: Any, label: str) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=label).click()


def test_the_auditors_day(page: Any, server: Server, history: History) -> None:
    from playwright.sync_api import expect

    login(page, "b-auditor")
    nav = page.get_by_role("navigation", name="主导航")
    for label in ("审计日志", "校验哈希链", "任务回放", "导出日志", "检查点"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()

    # Verify the chain: htmx walks it in steps of 5 events, showing how far it got.
    head = _verified(server)
    assert head.ok and head.events > 10
    page.goto("/audit/verify?size=5")
    expect(page.get_by_role("heading", level=1)).to_have_text("校验哈希链")
    labels_and_one_h1(page)
    steps: list[str] = []
    page.on("request", lambda r: steps.append(r.url) if "/audit/verify/step" in r.url else None)
    page.get_by_role("button", name="开始校验").focus()
    page.keyboard.press("Enter")  # the keyboard starts it
    result = page.get_by_test_id("verify-result")
    expect(result).to_have_text(f"哈希链完整：共 {head.events} 个事件，均校验无误。")
    # One request per 5 events (and one that finds nothing more when they divide evenly),
    # each continuing from where the one before stopped.
    assert len(steps) == head.events // 5 + 1, steps
    assert [parse_qs(urlsplit(u).query).get("after", ["0"])[0] for u in steps] == [
        str(5 * i) for i in range(len(steps))
    ]
    expect(page.get_by_test_id("head-seq")).to_have_text(str(head.head_seq))
    expect(page.locator("#verify-progress progress")).to_have_attribute("value", str(head.head_seq))
    page.shots("verify")

    # Replay the task as of last month: drawn, no results yet; as of now: inspected.
    _nav(page, "任务回放")
    expect(page.get_by_role("heading", level=1)).to_have_text("任务回放")
    labels_and_one_h1(page)
    page.get_by_label("任务", exact=True).fill(str(history.task))
    as_of = AS_OF.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("截至（北京时间）").fill(as_of)
    page.get_by_role("button", name="回放").click()
    expect(page.get_by_test_id("replayed-state")).to_have_text("已抽取")
    results = page.get_by_test_id("replayed-result")
    expect(results).to_have_count(len(history.targets))
    expect(results).to_have_text(["未录入"] * len(history.targets))
    expect(page.get_by_test_id("replay-compared")).to_have_text(
        "按历史时刻重放，不与当前数据表比对"
    )
    expect(page.get_by_label("截至（北京时间）")).to_have_value(as_of)  # what was typed, kept
    groups = page.locator("#replay-records tbody tr td:nth-child(3)").all_inner_texts()
    assert all(re.search(r"（J\d{3}）.*、.*（J\d{3}）", g) for g in groups), groups
    page.shots("replay-last-month")
    page.get_by_label("截至（北京时间）").fill("")
    page.get_by_role("button", name="回放").click()
    expect(page.get_by_test_id("replayed-state")).to_have_text("已检查")
    expect(results).to_have_text(["未发现问题"] * len(history.targets))
    expect(page.get_by_test_id("replay-compared")).to_have_text("与数据表一致")
    page.shots("replay-now")

    # Search the log by account and kind: the clerk's recorded results, before/after shown.
    expected = queries.search_events(server.ctx.engine, actor="b-clerk", kind="result_set")
    assert len(expected) == len(history.targets)
    _nav(page, "审计日志")
    expect(page.get_by_role("heading", level=1)).to_have_text("审计日志")
    labels_and_one_h1(page)
    page.get_by_label("操作账号").fill("b-clerk")
    page.get_by_label("事件类别").select_option("result_set")
    page.get_by_role("button", name="查询").click()
    rows = page.get_by_test_id("event")
    expect(rows).to_have_count(len(expected))
    expect(page.get_by_test_id("event-actor")).to_contain_text(["b-clerk"] * len(expected))
    for kind in page.get_by_test_id("event-kind").all():
        assert kind.get_attribute("data-kind") == "result_set"
    first = rows.first
    expect(first).to_contain_text("经办：张录入（b-clerk，录入员）")
    expect(first.locator("table.changes")).to_contain_text("未发现问题")
    shown_at = RESULTS_AT.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    expect(first.locator("td").nth(1)).to_have_text(shown_at)
    assert [int(t) for t in rows.locator("td:first-child").all_inner_texts()] == [
        e["seq"] for e in expected
    ]
    page.shots("search")

    # Export: the download is the API's JSON Lines, every line an event, all of them.
    _nav(page, "导出日志")
    expect(page.get_by_role("heading", level=1)).to_have_text("导出审计日志")
    head = _verified(server)
    expect(page.get_by_test_id("export-count")).to_have_text(str(head.events))
    page.shots("export")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载审计日志（JSON Lines）").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".jsonl")
    with open(download.path(), encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    assert len(lines) == head.events
    assert [e["seq"] for e in lines] == list(range(1, head.events + 1))
    assert lines[-1]["hash"] == head.head_hash

    # A checkpoint: signed out (confirmed), kept as a file, then checked.
    _nav(page, "检查点")
    expect(page.get_by_role("heading", level=1)).to_have_text("检查点")
    labels_and_one_h1(page)
    expect(page.get_by_label("签收人", exact=True)).to_have_value("钱审计")
    page.get_by_role("button", name="签出检查点").click()
    expect(page.get_by_test_id("create-error")).to_have_text("请勾选确认后再签出检查点")
    page.get_by_label("我已确认").check()
    page.get_by_role("button", name="签出检查点").click()
    expect(page.get_by_test_id("checkpoint-seq")).to_have_text(str(head.head_seq))
    expect(page.get_by_test_id("checkpoint-hash")).to_have_text(head.head_hash)
    page.shots("checkpoint")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载检查点文件").click()
    kept_file = download_info.value.path()
    with open(kept_file, encoding="utf-8") as f:
        kept = json.load(f)
    assert (kept["seq"], kept["hash"], kept["signed_by"]) == (
        head.head_seq,
        head.head_hash,
        "钱审计",
    )
    # The check form holds the checkpoint just signed out.
    page.get_by_role("button", name="核对", exact=True).click()
    expect(page.get_by_test_id("check-result")).to_contain_text("日志仍延续该检查点")
    page.shots("checkpoint-checked")
    # Another day: the file kept, uploaded.
    page.goto("/audit/checkpoints")
    page.get_by_label("或上传留存的检查点文件").set_input_files(kept_file)
    page.get_by_role("button", name="核对文件").click()
    expect(page.get_by_test_id("check-result")).to_contain_text("日志仍延续该检查点")
    expect(page.get_by_label("序号")).to_have_value(str(head.head_seq))


def test_verify_without_javascript(browser: Any, server: Server) -> None:
    """Without JavaScript the button verifies the whole chain at once."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=server.url, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, "b-auditor")
        page.goto("/audit/verify")
        page.get_by_role("button", name="开始校验").click()
        expect(page).to_have_url(re.compile(r"/audit/verify\?run=1"))
        expect(page.get_by_test_id("verify-result")).to_contain_text("哈希链完整")
    finally:
        context.close()


def test_a_role_the_matrix_refuses_gets_the_403_page(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    login(page, "b-clerk")
    expect(page.get_by_role("heading", level=1)).to_have_text("张录入，您好")
    assert (
        page.get_by_role("navigation", name="主导航")
        .get_by_role("link", name=re.compile("审计|校验|回放|导出|检查点"))
        .count()
        == 0
    )
    for path in ("/audit/events", "/audit/verify", "/audit/replay", "/audit/export"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")
    page.shots("clerk-403")


def _drop_append_only(server: Server) -> None:
    engine = make_engine(DbSettings(), server.db_url)
    try:
        with engine.begin() as c:
            if engine.dialect.name == "postgresql":
                c.execute(text("DROP TRIGGER IF EXISTS event_no_update_delete ON event"))
            else:
                c.execute(text("DROP TRIGGER IF EXISTS event_no_update"))
                c.execute(text("DROP TRIGGER IF EXISTS event_no_delete"))
    finally:
        engine.dispose()


def _set_actor(server: Server, seq: int, actor: str) -> None:
    engine = make_engine(DbSettings(), server.db_url)
    try:
        with engine.begin() as c:
            c.execute(text("UPDATE event SET actor = :a WHERE seq = :s"), {"a": actor, "s": seq})
    finally:
        engine.dispose()


def test_a_broken_chain_shows_the_first_bad_seq(page: Any, server: Server) -> None:
    """A row changed in the database (as an attacker with its admin rights could): the page
    names the first bad seq and what is wrong, and refuses to sign out a checkpoint. The row
    is put back afterwards."""
    from playwright.sync_api import expect

    intact = _verified(server)
    bad = intact.head_seq // 2
    with server.ctx.connect() as raw, raw.read() as cur:
        cur.execute(raw.sql("SELECT actor FROM event WHERE seq = ?"), (bad,))
        original = cur.fetchone()[0]
    _drop_append_only(server)
    _set_actor(server, bad, "mallory")
    try:
        login(page, "b-auditor")
        page.goto("/audit/verify?size=7")
        page.get_by_role("button", name="开始校验").click()
        expect(page.get_by_test_id("first-bad-seq")).to_have_text(str(bad))
        expect(page.get_by_test_id("verify-reason")).to_have_text(
            f"事件 {bad} 的内容与其哈希不符（事件被修改）"
        )
        page.shots("verify-broken")
        page.get_by_role("link", name=f"查看第 {bad} 号事件").click()
        expect(page.get_by_test_id("event").first.locator("td").first).to_have_text(str(bad))
        expect(page.get_by_test_id("event-actor").first).to_contain_text("mallory")
        page.goto("/audit/checkpoints")
        page.get_by_label("我已确认").check()
        page.get_by_role("button", name="签出检查点").click()
        expect(page.get_by_test_id("create-error")).to_contain_text(f"哈希链已损坏（序号 {bad}")
        page.get_by_label("序号").fill(str(intact.head_seq))
        page.get_by_label("哈希").fill(intact.head_hash)
        page.get_by_role("button", name="核对", exact=True).click()
        expect(page.get_by_test_id("check-first-bad-seq")).to_have_text(str(bad))
        page.shots("checkpoint-broken")
    finally:
        _set_actor(server, bad, original)
    assert _verified(server).ok
