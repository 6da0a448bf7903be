"""The auditor's pages in-process (web/_pages_audit.py), on both databases: verification at
once and in steps, the log searched and paged, a task replayed as of a moment, the export,
checkpoints; the matrix and the subtree as the API applies them. (The auditor's day in a real
browser: tests/browser/test_audit.py.)"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import add_account, drawn_task
from web._pages_audit import KIND_LABELS, readable_payload
from workflow.core import audit, events
from workflow.core.clock import FixedClock
from workflow.core.writer import Workflow

HTML = {"Accept": "text/html"}
PASSWORD = "correct-horse-battery-9"
AUDIT_PAGES = [
    "/audit/events",
    "/audit/verify",
    "/audit/verify/step",
    "/audit/replay",
    "/audit/export",
    "/audit/export/file",
    "/audit/checkpoints",
    "/audit/checkpoints/check",
]


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def sign_in(
    api: TestClient, wf: Workflow, username: str, role: str, unit: str | None = None
) -> str:
    """A new account signed in through the login form; the session's CSRF token."""
    add_account(wf, username, role, password=PASSWORD, unit=unit, name=f"{username}名")
    api.cookies.clear()
    login = api.get("/login")
    r = api.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": "/",
              "csrf_token": _token(login.text)},
        headers=HTML,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return _token(r.text)


def _break(wf: Workflow, seq: int) -> None:
    """What an attacker with the database's admin rights could do: change one event."""
    with wf.engine.begin() as c:
        if wf.engine.dialect.name == "postgresql":
            c.execute(text("DROP TRIGGER event_no_update_delete ON event"))
        else:
            c.execute(text("DROP TRIGGER event_no_update"))
            c.execute(text("DROP TRIGGER event_no_delete"))
        c.execute(text("UPDATE event SET actor = 'mallory' WHERE seq = :s"), {"s": seq})


def _inspected_later(wf: Workflow, clock: FixedClock) -> tuple[int, list[str]]:
    """A task drawn on 2024-04-01; its results recorded on 2024-04-10 (Beijing time)."""
    t, codes = drawn_task(wf, 2)
    clock.set(datetime(2024, 4, 10, 2, 0, tzinfo=UTC))
    for c in codes:
        wf.set_result(t, c, "no_problem", actor="甲")
    wf.fire(t, "inspect", actor="甲", reason="检查完毕")
    return t, codes


def test_every_declared_kind_has_a_label() -> None:
    assert set(KIND_LABELS) == set(events.EVENTS)


def test_payload_laid_out_with_before_and_after() -> None:
    shown = readable_payload(
        {
            "target_code": "911",
            "before": {"result": None, "note": None},
            "after": {"result": "problem", "note": "未签合同"},
            "by": {"username": "zs", "name": "张三", "role": "clerk"},
            "published_at": "2024-04-01T17:30:00.000000Z",
        }
    )
    assert shown.by == "张三（zs，录入员）"
    assert shown.changes == [("备注", "—", "未签合同"), ("检查结果", "—", "发现问题")]
    assert ("公示时间", "2024-04-02 01:30", False) in shown.fields
    listed = readable_payload({"before": ["J1", "J2"], "after": ["J1", "J3"]})
    assert listed.changes == [("内容", '["J1", "J2"]', '["J1", "J3"]')]


def test_verify_at_once_and_in_steps_name_the_same_first_bad_seq(
    api: TestClient, wf: Workflow
) -> None:
    drawn_task(wf, 2)
    sign_in(api, wf, "a-aud", "auditor")
    head = audit.verify_db(wf.raw)
    assert head.ok and head.events > 6
    r = api.get("/audit/verify", params={"run": 1}, headers=HTML)
    assert r.status_code == 200 and "哈希链完整" in r.text and f"共 {head.events} 个事件" in r.text
    # In steps of 4 (htmx): each answer a fragment asking for the next, until the end.
    query: dict[str, object] = {"size": 4}
    seen = []
    for _ in range(head.events):
        r = api.get("/audit/verify/step", params=query, headers={**HTML, "HX-Request": "true"})
        assert r.status_code == 200 and "<html" not in r.text
        nxt = re.search(r'hx-get="/audit/verify/step\?([^"]+)"', r.text)
        if nxt is None:
            break
        seen.append(re.search(r"已校验 (\d+) / (\d+)", r.text).groups())  # type: ignore[union-attr]
        query = dict(p.split("=") for p in nxt.group(1).replace("&amp;", "&").split("&"))
    assert "哈希链完整" in r.text and f'data-testid="head-seq">{head.head_seq}<' in r.text
    assert seen[0] == ("4", str(head.head_seq)) and len(seen) == head.events // 4
    # Without htmx the step is the whole page, with a link to the next step.
    r = api.get("/audit/verify/step", params={"size": 4}, headers=HTML)
    assert "<h1>校验哈希链</h1>" in r.text and "继续校验下一段" in r.text

    _break(wf, 5)
    r = api.get("/audit/verify", params={"run": 1}, headers=HTML)
    assert 'data-testid="first-bad-seq">5<' in r.text and "事件被修改" in r.text
    query = {"size": 2}
    for _ in range(head.events):
        r = api.get("/audit/verify/step", params=query, headers={**HTML, "HX-Request": "true"})
        nxt = re.search(r'hx-get="/audit/verify/step\?([^"]+)"', r.text)
        if nxt is None:
            break
        query = dict(p.split("=") for p in nxt.group(1).replace("&amp;", "&").split("&"))
    assert 'data-testid="first-bad-seq">5<' in r.text
    # A hash the walk did not compute breaks the chain where it is used.
    r = api.get("/audit/verify/step", params={"after": 2, "running": "0" * 64}, headers=HTML)
    assert 'data-testid="first-bad-seq">3<' in r.text
    r = api.get("/audit/verify/step", params={"running": "not-a-hash"}, headers=HTML)
    assert r.status_code == 422


def test_verify_chunk_steps_equal_verify_db(wf: Workflow) -> None:
    drawn_task(wf, 3)
    whole = audit.verify_db(wf.raw)
    after, running, steps = 0, audit.GENESIS, 0
    while True:
        step = audit.verify_chunk(wf.raw, after=after, running=running, limit=3)
        steps += 1
        assert step.last_seq == whole.head_seq
        after, running = step.result.head_seq, step.result.head_hash
        if step.done:
            break
    assert (step.result.ok, after, running) == (True, whole.head_seq, whole.head_hash)
    assert steps == whole.events // 3 + 1


def test_search_by_actor_and_kind_paged_with_payloads(
    api: TestClient, wf: Workflow, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    t, codes = _inspected_later(wf, clock)
    sign_in(api, wf, "a-aud", "auditor")
    r = api.get("/audit/events", params={"actor": "甲", "kind": "result_set"}, headers=HTML)
    assert r.status_code == 200
    rows = r.text.count('data-testid="event"')
    assert rows == len(codes)
    assert r.text.count('data-kind="result_set"') == rows
    assert "录入检查结果" in r.text and "变更前" in r.text and "未发现问题" in r.text
    assert "2024-04-10 10:00" in r.text  # 02:00 UTC in Beijing
    # The time range, in Beijing time: nothing of the 10th before 09:00 that morning.
    r = api.get(
        "/audit/events",
        params={"task": str(t), "since": "2024-04-10T09:00", "until": "2024-04-10T23:59:59"},
        headers=HTML,
    )
    assert r.text.count('data-testid="event"') == len(codes) + 1  # the results and inspect
    # Pages of PAGE_SIZE by seq, the filters kept in the next page's link.
    monkeypatch.setattr("web._pages_audit.PAGE_SIZE", 2)
    r = api.get("/audit/events", params={"task": str(t)}, headers=HTML)
    assert r.text.count('data-testid="event"') == 2
    nxt = re.search(r'href="/audit/events\?([^"]+)" rel="next"', r.text)
    assert nxt is not None and f"task={t}" in nxt.group(1)
    r = api.get("/audit/events?" + nxt.group(1).replace("&amp;", "&"), headers=HTML)
    assert r.text.count('data-testid="event"') == 2 and "第一页" in r.text
    # A bad filter: the API's message, what was typed kept.
    r = api.get("/audit/events", params={"kind": "nonsense", "actor": "甲"}, headers=HTML)
    assert r.status_code == 422 and "事件类别 &#39;nonsense&#39; 无效" in r.text
    assert 'value="甲"' in r.text
    r = api.get("/audit/events", params={"since": "yesterday"}, headers=HTML)
    assert r.status_code == 422 and "时间格式无效" in r.text and 'value="yesterday"' in r.text
    r = api.get("/audit/events", params={"task": "999999"}, headers=HTML)
    assert r.status_code == 404 and "999999" in r.text


def test_replay_as_of_a_moment_and_up_to_now(
    api: TestClient, wf: Workflow, clock: FixedClock
) -> None:
    t, codes = _inspected_later(wf, clock)
    sign_in(api, wf, "a-aud", "auditor")
    r = api.get("/audit/replay", params={"task": str(t), "at": "2024-04-05T12:00"}, headers=HTML)
    assert r.status_code == 200
    assert 'data-testid="replayed-state">已抽取<' in r.text
    assert r.text.count('data-testid="replayed-result">未录入') == len(codes)
    assert "按历史时刻重放" in r.text and "2024-04-05 12:00" in r.text
    r = api.get("/audit/replay", params={"task": str(t)}, headers=HTML)
    assert 'data-testid="replayed-state">已检查<' in r.text and "与数据表一致" in r.text
    assert r.text.count('data-testid="replayed-result">未发现问题') == len(codes)
    # Before the task existed.
    r = api.get("/audit/replay", params={"task": str(t), "at": "2024-03-01T00:00"}, headers=HTML)
    assert "当时尚无此任务" in r.text
    r = api.get("/audit/replay", params={"task": str(t), "at": "soon"}, headers=HTML)
    assert r.status_code == 422 and "时间格式无效" in r.text and 'value="soon"' in r.text


def test_export_downloads_the_apis_jsonl_for_the_root_only(api: TestClient, wf: Workflow) -> None:
    from tests.web.conftest import two_counties

    drawn_task(wf, 2)
    _, county, _ = two_counties(wf)
    sign_in(api, wf, "a-aud", "auditor")
    r = api.get("/audit/export", headers=HTML)
    assert 'href="/audit/export/file"' in r.text
    r = api.get("/audit/export/file", headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/jsonl")
    assert "attachment" in r.headers["content-disposition"]
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert len(lines) == audit.verify_db(wf.raw).events
    assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
    # A county's auditor: told why, and the download refused as the API refuses it.
    sign_in(api, wf, "a-county", "auditor", unit=county)
    r = api.get("/audit/export", headers=HTML)
    assert r.status_code == 200 and 'href="/audit/export/file"' not in r.text
    assert 'role="alert"' in r.text
    r = api.get("/audit/export/file", headers=HTML)
    assert r.status_code == 403 and "<h1>无权访问</h1>" in r.text


def test_checkpoint_signed_out_kept_and_checked(api: TestClient, wf: Workflow) -> None:
    drawn_task(wf, 2)
    csrf = sign_in(api, wf, "a-aud", "auditor")
    r = api.get("/audit/checkpoints", headers=HTML)
    assert 'value="a-aud名"' in r.text  # the signer defaults to the account's name
    # The form's token is required; so is the confirmation (what was typed kept).
    r = api.post("/audit/checkpoints", data={"signed_by": "钱审计", "confirm": "yes"}, headers=HTML)
    assert r.status_code == 403
    r = api.post(
        "/audit/checkpoints", data={"signed_by": "钱审计", "csrf_token": csrf}, headers=HTML
    )
    assert r.status_code == 422 and "请勾选确认" in r.text and 'value="钱审计"' in r.text
    r = api.post(
        "/audit/checkpoints",
        data={"signed_by": "钱审计", "confirm": "yes", "csrf_token": csrf},
        headers=HTML,
    )
    assert r.status_code == 201
    head = audit.verify_db(wf.raw)
    assert f'data-testid="checkpoint-seq">{head.head_seq}<' in r.text
    assert f'data-testid="checkpoint-hash">{head.head_hash}<' in r.text
    link = re.search(r'href="/audit/checkpoints/file\?([^"]+)"', r.text)
    assert link is not None
    kept = api.get("/audit/checkpoints/file?" + link.group(1).replace("&amp;", "&"), headers=HTML)
    assert kept.status_code == 200 and "attachment" in kept.headers["content-disposition"]
    data = kept.json()
    assert (data["seq"], data["hash"], data["signed_by"]) == (
        head.head_seq,
        head.head_hash,
        "钱审计",
    )
    assert data["algorithm"] == audit.ALGORITHM and data["time"] == head.head_time
    # A hash the log does not hold is no checkpoint to download.
    r = api.get("/audit/checkpoints/file", params={"seq": 1, "hash": "0" * 64}, headers=HTML)
    assert r.status_code == 404

    r = api.get(
        "/audit/checkpoints/check", params={"seq": data["seq"], "hash": data["hash"]}, headers=HTML
    )
    assert 'data-testid="check-result">日志仍延续该检查点' in r.text
    # The file kept, uploaded (with the form's token).
    upload = {"file": ("我的检查点.json", kept.content, "application/json")}
    r = api.post("/audit/checkpoints/check", files=upload, headers=HTML)
    assert r.status_code == 403
    r = api.post("/audit/checkpoints/check", files=upload, data={"csrf_token": csrf}, headers=HTML)
    assert 'data-testid="check-result">日志仍延续该检查点' in r.text
    r = api.post(
        "/audit/checkpoints/check",
        files={"file": ("x.json", b"not json", "application/json")},
        data={"csrf_token": csrf},
        headers=HTML,
    )
    assert r.status_code == 422 and "检查点文件 x.json 格式无效" in r.text
    r = api.get("/audit/checkpoints/check", params={"seq": "x", "hash": "y"}, headers=HTML)
    assert r.status_code == 422 and "序号" in r.text and 'value="x"' in r.text
    r = api.get(
        "/audit/checkpoints/check", params={"seq": data["seq"], "hash": "a" * 64}, headers=HTML
    )
    assert f'data-testid="check-first-bad-seq">{head.head_seq}<' in r.text
    # A broken chain: no checkpoint signed out; the one kept no longer matches.
    _break(wf, 3)
    r = api.post(
        "/audit/checkpoints",
        data={"signed_by": "钱审计", "confirm": "yes", "csrf_token": csrf},
        headers=HTML,
    )
    assert r.status_code == 409 and "哈希链已损坏（序号 3" in r.text
    r = api.get(
        "/audit/checkpoints/check", params={"seq": data["seq"], "hash": data["hash"]}, headers=HTML
    )
    assert 'data-testid="check-first-bad-seq">3<' in r.text


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("clerk", set()),
        ("admin", set()),
        ("supervisor", {"/audit/events", "/audit/verify", "/audit/verify/step"}),
        ("auditor", set(AUDIT_PAGES)),
    ],
)
def test_pages_follow_the_matrix(
    api: TestClient, wf: Workflow, role: str, allowed: set[str]
) -> None:
    from web._pages import nav_for

    sign_in(api, wf, f"m-{role}", role, unit=None)
    for path in AUDIT_PAGES:
        r = api.get(path, headers=HTML)
        if path in allowed:
            assert r.status_code in (200, 422), (role, path)
        else:
            assert r.status_code == 403 and "<h1>无权访问</h1>" in r.text, (role, path)
    shown = {n.href for n in nav_for(role) if n.href.startswith("/audit")}
    assert shown == allowed & {
        "/audit/events", "/audit/verify", "/audit/replay", "/audit/export", "/audit/checkpoints"
    }  # fmt: skip
