"""Deadlines, reports, the mail queue and the calendar over HTTP, on SQLite and PostgreSQL:
overdue and upcoming within the account's subtree, the sweep (root unit only), report
obligations and submissions, the outbox listed and retried, the calendar's coverage and the
State Council's notice — each a success and its failures (problem+json naming the field,
nothing written), events naming the account. The clock is the context's FixedClock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.bureaus import (
    BAOFENG,
    CITY,
    LUSHAN,
    Bureaus,
    at,
    bearer,
    city_with_two_counties,
    event_count,
)
from web import create_app
from workflow.app import AppContext
from workflow.core.clock import FixedClock
from workflow.core.config import Settings, load_settings
from workflow.core.writer import Workflow


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "escalation: {supervisor_name: 李局长, supervisor_email: sup@bureau.test}\n"
        f"mail: {{transport: maildir, maildir: {tmp_path / 'mail'}}}\n",
        encoding="utf-8",
    )
    return load_settings(cfg, env={})


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    ctx.clock = FixedClock(at(4, 8, 10))  # Monday after Qingming: the confirmations are late
    with TestClient(create_app(ctx)) as c:
        yield c


@pytest.fixture
def bureaus(wf: Workflow, clock: FixedClock, tmp_path: Path) -> Bureaus:
    return city_with_two_counties(wf, clock, tmp_path)


def _problem(r: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    if field is not None:
        assert body.get("field") == field or field in {e["field"] for e in body.get("errors", [])}
    return body


def _last_event(wf: Workflow) -> tuple[str, dict[str, Any]]:
    with wf.raw.read() as cur:
        cur.execute("SELECT kind, payload FROM event ORDER BY seq DESC LIMIT 1")
        kind, payload = cur.fetchone()
    return kind, json.loads(payload)


# --- overdue and upcoming ------------------------------------------------------------------


def test_overdue_is_the_accounts_subtree_most_late_first_and_paged(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    county = client.get("/api/v1/deadlines/overdue", headers=bearer(wf, "bf-supervisor"))
    assert county.status_code == 200, county.text
    rows = county.json()["items"]
    assert rows and {r["unit"] for r in rows} == {BAOFENG}
    assert bureaus.tasks[LUSHAN] not in {r["task_id"] for r in rows}  # the other county's: absent
    confirm = next(r for r in rows if r["rule"] == "confirm")
    assert confirm["task_id"] == bureaus.tasks[BAOFENG] and confirm["due"] == "2024-04-03"
    assert confirm["working_days_late"] == 2 and confirm["escalation_level"] == 0
    assert confirm["responsible"] == "宝丰县人社局队长" and confirm["provisional"] is False
    assert confirm["escalation_label"] == "" and confirm["office"] == "劳动保障监察大队"
    lates = [r["working_days_late"] for r in rows]
    assert lates == sorted(lates, reverse=True)
    city = client.get("/api/v1/deadlines/overdue", headers=bearer(wf, "city-supervisor")).json()
    assert {r["unit"] for r in city["items"]} == {BAOFENG, LUSHAN}
    # Pages: one row at a time, the cursor through to the end.
    auth = bearer(wf, "city-supervisor")
    seen, after = [], None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"after": after} if after is not None else {})
        page = client.get("/api/v1/deadlines/overdue", params=params, headers=auth).json()
        seen += [r["deadline"] for r in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == [r["deadline"] for r in city["items"]]


def test_overdue_filters_by_office_and_names_a_typo(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth = bearer(wf, "bf-clerk")
    mine = client.get(
        "/api/v1/deadlines/overdue", params={"office": "劳动保障监察大队"}, headers=auth
    )
    assert mine.status_code == 200 and mine.json()["items"]
    typo = client.get("/api/v1/deadlines/overdue", params={"office": "监察大队"}, headers=auth)
    body = _problem(typo, 422, "invalid_input", "office")
    assert "既不是登记的科室" in body["detail"]
    bad = client.get("/api/v1/deadlines/overdue", params={"limit": 0}, headers=auth)
    _problem(bad, 422, "invalid_request", "limit")
    assert client.get("/api/v1/deadlines/overdue").status_code == 401


def test_upcoming_counts_working_days_left_within_the_subtree(
    ctx: AppContext, client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    ctx.clock = FixedClock(at(4, 1, 10))
    auth = bearer(wf, "ls-supervisor")
    r = client.get("/api/v1/deadlines/upcoming", params={"days": 10}, headers=auth)
    assert r.status_code == 200, r.text
    rows = r.json()["items"]
    assert {r["unit"] for r in rows} == {LUSHAN}
    confirm = next(r for r in rows if r["rule"] == "confirm")
    assert confirm["due"] == "2024-04-03" and confirm["working_days_left"] == 2
    assert confirm["working_days_late"] == 0
    dues = [r["due"] for r in rows]
    assert dues == sorted(dues) and all("2024-04-01" <= d <= "2024-04-11" for d in dues)
    too_far = client.get("/api/v1/deadlines/upcoming", params={"days": 9999}, headers=auth)
    _problem(too_far, 422, "invalid_request", "days")


# --- the sweep -----------------------------------------------------------------------------


def test_a_sweep_by_the_citys_admin_takes_the_steps_and_names_the_account(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth = bearer(wf, "city-admin")
    rehearsal = client.post("/api/v1/deadlines/sweep", json={"dry_run": True}, headers=auth)
    assert rehearsal.status_code == 200, rehearsal.text
    before = event_count(wf)
    planned = rehearsal.json()
    assert planned["dry_run"] is True and planned["steps"]["overdue"] >= 2 and planned["planned"]
    assert event_count(wf) == before  # a rehearsal writes nothing
    r = client.post("/api/v1/deadlines/sweep", json={"deliver": False}, headers=auth)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["today"] == "2024-04-08" and done["steps"] == planned["steps"]
    assert done["delivery"] is None and done["messages"] >= 2
    kind, payload = _last_event(wf)
    assert kind.startswith("deadline_") and payload["by"]["username"] == "city-admin"
    assert payload["by"]["request_id"] == r.headers["X-Request-ID"]
    again = client.post("/api/v1/deadlines/sweep", json={"deliver": False}, headers=auth).json()
    assert sum(again["steps"].values()) == 0  # idempotent
    # Delivered into the configured maildir when asked to.
    sent = client.post("/api/v1/deadlines/sweep", headers=auth).json()
    assert sent["delivery"]["mails"] >= 1


def test_a_county_account_may_not_sweep_every_unit_and_nothing_is_written(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    county, clerk, admin = (bearer(wf, u) for u in ("bf-admin", "city-clerk", "city-admin"))
    before = event_count(wf)
    r = client.post("/api/v1/deadlines/sweep", json={}, headers=county)
    body = _problem(r, 403, "forbidden")
    assert "涉及全部单位" in body["detail"]
    assert event_count(wf) == before
    _problem(client.post("/api/v1/deadlines/sweep", json={}, headers=clerk), 403, "forbidden")
    bad = client.post("/api/v1/deadlines/sweep", json={"dry_run": "maybe"}, headers=admin)
    _problem(bad, 422, "invalid_request", "dry_run")
    assert event_count(wf) == before


# --- reports -------------------------------------------------------------------------------


def test_report_obligations_and_a_submission_within_the_subtree(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth = bearer(wf, "bf-supervisor")
    listed = client.get("/api/v1/reports", params={"year": 2024, "limit": 500}, headers=auth)
    assert listed.status_code == 200, listed.text
    rows = listed.json()["items"]
    assert {r["unit"] for r in rows} == {f"{BAOFENG}-01"}  # the other county's office: absent
    progress = next(r for r in rows if r["period"] == "2024-Q1")
    assert progress["overdue"] is True and progress["submitted"] is False
    made = client.post(
        "/api/v1/reports",
        json={"kind": "落实情况", "period": "2024-Q1", "office": f"{BAOFENG}-01"},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    assert made.json()["late"] is True and made.json()["unit"] == f"{BAOFENG}-01"
    kind, payload = _last_event(wf)
    assert kind == "report_submitted" and payload["by"]["username"] == "bf-supervisor"
    after = client.get("/api/v1/reports", params={"year": 2024, "limit": 500}, headers=auth)
    progress = next(r for r in after.json()["items"] if r["period"] == "2024-Q1")
    assert progress["submitted"] is True and progress["submitted_by"] == "bf-supervisor"
    assert progress["late"] is True and progress["overdue"] is False
    # Paged by position.
    first = client.get("/api/v1/reports", params={"year": 2024, "limit": 5}, headers=auth).json()
    assert len(first["items"]) == 5 and first["next_after"] == 5


def test_report_submission_failures_name_the_field_and_write_nothing(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth, auditor = bearer(wf, "bf-supervisor"), bearer(wf, "bf-auditor")
    before = event_count(wf)

    def submit(**body: str) -> Any:
        sent = {"kind": "monthly", "period": "2024-03", "office": f"{BAOFENG}-01"} | body
        return client.post("/api/v1/reports", json=sent, headers=auth)

    _problem(submit(office=f"{LUSHAN}-01"), 422, "invalid_input", "office")  # not in the subtree
    _problem(submit(kind="weekly"), 422, "invalid_input", "kind")
    _problem(submit(period="2024-13"), 422, "invalid_input", "period")
    _problem(client.post("/api/v1/reports", json={"kind": "monthly"}, headers=auth), 422,
             "invalid_request", "period")  # fmt: skip
    assert event_count(wf) == before
    assert submit().status_code == 201
    _problem(submit(), 422, "invalid_input", "period")  # once only
    _problem(client.post("/api/v1/reports", json={}, headers=auditor), 403, "forbidden")
    _problem(client.get("/api/v1/reports", params={"year": 1999}, headers=auth), 422,
             "invalid_request", "year")  # fmt: skip
    _problem(client.get("/api/v1/reports", params={"year": 2024, "office": "无此科室"},
                        headers=auth), 422, "invalid_input", "office")  # fmt: skip


# --- the outbox ----------------------------------------------------------------------------


def _queue(client: TestClient, wf: Workflow) -> list[dict[str, Any]]:
    r = client.post("/api/v1/deadlines/sweep", json={"deliver": False},
                    headers=bearer(wf, "city-admin"))  # fmt: skip
    assert r.status_code == 200, r.text
    listed = client.get("/api/v1/outbox", params={"status": "pending", "limit": 500},
                        headers=bearer(wf, "city-supervisor"))  # fmt: skip
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


def test_the_outbox_lists_by_status_and_pages_by_id(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    pending = _queue(client, wf)
    assert len(pending) >= 2 and all(m["status"] == "pending" for m in pending)
    auth = bearer(wf, "city-supervisor")
    page = client.get("/api/v1/outbox", params={"limit": 1}, headers=auth).json()
    assert page["counts"]["pending"] == len(pending) and len(page["items"]) == 1
    rest = client.get("/api/v1/outbox", params={"after": page["next_after"], "limit": 500},
                      headers=auth).json()  # fmt: skip
    assert [m["id"] for m in page["items"] + rest["items"]] == [m["id"] for m in pending]
    assert rest["next_after"] is None
    assert (
        client.get("/api/v1/outbox", params={"status": "dead"}, headers=auth).json()["items"] == []
    )
    _problem(client.get("/api/v1/outbox", params={"status": "lost"}, headers=auth), 422,
             "invalid_input", "status")  # fmt: skip
    # The queue is every unit's: a county's supervisor is refused it.
    _problem(client.get("/api/v1/outbox", headers=bearer(wf, "bf-supervisor")), 403, "forbidden")


def test_a_dead_message_is_put_back_and_other_retries_are_refused(
    ctx: AppContext, client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    first, second = _queue(client, wf)[:2]
    with wf.raw.write() as cur:
        cur.execute(wf.raw.sql("UPDATE outbox SET status = 'dead', attempts = 8 WHERE id = ?"),
                    (first["id"],))  # fmt: skip
        cur.execute(wf.raw.sql("UPDATE outbox SET status = 'sent' WHERE id = ?"), (second["id"],))
    auth = bearer(wf, "city-admin")
    r = client.post(f"/api/v1/outbox/{first['id']}/retry", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"id": first["id"], "previous_status": "dead", "status": "pending"}
    listed = client.get("/api/v1/outbox", params={"status": "pending", "limit": 500},
                        headers=bearer(wf, "city-supervisor")).json()["items"]  # fmt: skip
    back = next(m for m in listed if m["id"] == first["id"])
    assert back["attempts"] == 0 and back["next_attempt_at"].startswith("2024-04-08T02:00")
    _problem(client.post(f"/api/v1/outbox/{second['id']}/retry", headers=auth), 422,
             "invalid_input", "outbox_id")  # fmt: skip
    _problem(client.post("/api/v1/outbox/999999/retry", headers=auth), 404, "not_found",
             "outbox_id")  # fmt: skip
    _problem(client.post("/api/v1/outbox/0/retry", headers=auth), 422, "invalid_request",
             "outbox_id")  # fmt: skip
    _problem(client.post(f"/api/v1/outbox/{first['id']}/retry", headers=bearer(wf, "bf-admin")),
             403, "forbidden")  # fmt: skip
    _problem(client.post(f"/api/v1/outbox/{first['id']}/retry",
                         headers=bearer(wf, "city-supervisor")), 403, "forbidden")  # fmt: skip


# --- the calendar --------------------------------------------------------------------------


def test_calendar_coverage_says_who_confirms_each_year(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    from workflow.deadlines.calendar import package_years

    last = package_years()[1]
    auth = bearer(wf, "bf-clerk")  # every account reads the calendar
    r = client.get("/api/v1/calendar/coverage", headers=auth)
    assert r.status_code == 200, r.text
    assert [y["year"] for y in r.json()["years"]] == [2024, 2025]  # the clock's year and next
    far = client.get("/api/v1/calendar/coverage", params={"year": [last, last + 1]}, headers=auth)
    confirmed, provisional = far.json()["years"]
    assert confirmed["provisional"] is False and confirmed["weekdays_off"] == []
    assert provisional["provisional"] is True and provisional["weekdays_off"]
    _problem(client.get("/api/v1/calendar/coverage", params={"year": 1800}, headers=auth), 422,
             "invalid_input", "year")  # fmt: skip
    assert client.get("/api/v1/calendar/coverage").status_code == 401


def test_a_notice_is_read_compared_and_recorded_for_every_process(
    ctx: AppContext, client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    from tests.workflow.deadlines.test_calendar_years import Y, made_up_notice

    text, monday, _ = made_up_notice(Y)
    auth = bearer(wf, "city-admin")
    before = event_count(wf)
    dry = client.post("/api/v1/calendar/notices", json={"text": text, "dry_run": True},
                      headers=auth)  # fmt: skip
    assert dry.status_code == 200, dry.text
    assert dry.json()["year"] == Y and dry.json()["recorded"] is False
    assert monday.isoformat() in dry.json()["holidays"] and event_count(wf) == before
    r = client.post("/api/v1/calendar/notices", json={"text": text}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["recorded"] is True and r.json()["event_seq"] == before + 1
    kind, payload = _last_event(wf)
    assert kind == "calendar_recorded" and payload["by"]["username"] == "city-admin"
    covered = client.get("/api/v1/calendar/coverage", params={"year": Y}, headers=auth).json()
    assert covered["years"][0]["provisional"] is False
    again = client.post("/api/v1/calendar/notices", json={"text": text}, headers=auth).json()
    assert again["already"] is True and event_count(wf) == before + 1


def test_a_deadline_counts_working_days_as_the_recorded_notice_says(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    """``GET /calendar/deadline`` counts as ``ssj calendar add`` does: over a year nothing
    confirms it says the date is provisional; once the State Council's notice is recorded
    (by another process: here straight through the API) it counts its days off and make-up
    working days, and says nothing is provisional any more."""
    from datetime import timedelta

    from tests.workflow.deadlines.test_calendar_years import Y, made_up_notice

    text, monday, sunday = made_up_notice(Y)
    friday = monday - timedelta(days=3)
    auth = bearer(wf, "bf-clerk")  # every account reads the calendar
    written = f"{friday.year}年{friday.month}月{friday.day}日"  # as offices write dates
    ask = {"from": written, "working_days": 1}
    r = client.get("/api/v1/calendar/deadline", params=ask, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"from": friday.isoformat(), "working_days": 1,
                        "due": monday.isoformat(), "provisional_years": [Y]}  # fmt: skip
    recorded = client.post("/api/v1/calendar/notices", json={"text": text},
                           headers=bearer(wf, "city-admin"))  # fmt: skip
    assert recorded.status_code == 200, recorded.text
    after = client.get("/api/v1/calendar/deadline", params=ask, headers=auth).json()
    # Saturday off, the Sunday before the week off worked (调休上班): due that Sunday.
    assert (after["due"], after["provisional_years"]) == (sunday.isoformat(), [])
    _problem(client.get("/api/v1/calendar/deadline", params={"from": "下周五", "working_days": 1},
                        headers=auth), 422, "invalid_input", "from")  # fmt: skip
    _problem(client.get("/api/v1/calendar/deadline",
                        params={"from": "2024-09-27", "working_days": 10_001}, headers=auth),
             422, "invalid_request", "working_days")  # fmt: skip
    assert client.get("/api/v1/calendar/deadline", params=ask).status_code == 401


def test_the_effective_settings_are_the_admins_without_secrets(
    ctx: AppContext, client: TestClient, wf: Workflow, bureaus: Bureaus, monkeypatch: Any
) -> None:
    """``GET /config`` shows what ``ssj config show`` shows: each setting, its value and where
    it came from; a database password masked, the SMTP password only said to be set."""
    ctx.config_sources = {"smtp.host": "配置文件 /etc/ssj/config.yaml"}
    ctx.db_override = "postgresql://ssj:s3cret-pw@db.example:5432/ssj"
    monkeypatch.setenv(ctx.settings.smtp.password_env, "smtp-s3cret")
    r = client.get("/api/v1/config", headers=bearer(wf, "city-admin"))
    assert r.status_code == 200, r.text
    rows = {row["key"]: row for row in r.json()["items"]}
    assert rows["smtp.host"]["source"] == "配置文件 /etc/ssj/config.yaml"
    assert rows["db.url"] == {"key": "db.url", "source": "命令行 --db",
                              "value": "postgresql://ssj:***@db.example:5432/ssj"}  # fmt: skip
    assert rows["smtp.password"]["value"] == "（已设置，不显示）"
    assert rows["deadlines.remind_before_working_days"]["source"] == "内置默认值"
    assert "s3cret" not in r.text
    _problem(client.get("/api/v1/config", headers=bearer(wf, "city-supervisor")), 403,
             "forbidden")  # fmt: skip
    assert client.get("/api/v1/config").status_code == 401


def test_a_text_that_is_no_notice_names_the_field_and_records_nothing(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth, supervisor = bearer(wf, "city-admin"), bearer(wf, "city-supervisor")
    before = event_count(wf)
    r = client.post("/api/v1/calendar/notices", json={"text": "今天天气很好"}, headers=auth)
    _problem(r, 422, "calendar_notice_invalid", "text")
    _problem(client.post("/api/v1/calendar/notices", json={"text": ""}, headers=auth), 422,
             "invalid_request", "text")  # fmt: skip
    _problem(client.post("/api/v1/calendar/notices", json={"text": "x"}, headers=supervisor),
             403, "forbidden")  # fmt: skip
    assert event_count(wf) == before


def test_the_city_sees_both_counties_and_the_root_everything(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    """The root here is the city: its accounts act over the whole tree."""
    rows = client.get("/api/v1/deadlines/overdue", headers=bearer(wf, "city-clerk")).json()
    assert {r["unit"] for r in rows["items"]} == {BAOFENG, LUSHAN}
    assert CITY not in {r["unit"] for r in rows["items"]}  # the city has no task of its own
