"""``ssj demo`` builds a bureau in the current year, dated back from the clock's today: right
after it, a few deadlines are due in the coming days and a few are 1–5 working days late, none
months late (issue #9 §4)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from workflow.core import queries, units
from workflow.core.clock import FixedClock, format_utc
from workflow.core.config import DEFAULTS, load_settings
from workflow.core.errors import Unauthenticated
from workflow.core.replay import replay
from workflow.core.writer import Workflow
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.overdue import overdue
from workflow.demo import load_demo

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "today",
    # 01-05: the demo starts last year; 12-30: next year is not asked about
    ["2026-03-10", "2026-11-24", "2024-05-06", "2026-01-05", "2025-12-30"],
)
def test_right_after_the_demo_some_deadlines_are_near_and_none_far(
    wf: Workflow, clock: FixedClock, today: str
) -> None:
    settings = load_settings(DEFAULTS, env={})
    now = datetime.fromisoformat(f"{today}T10:00").replace(tzinfo=SH)
    clock.set(now)
    asked: set[int] = set()
    is_working_day = wf.calendar.is_working_day

    def spy(day):  # type: ignore[no-untyped-def]
        asked.add(day.year)
        return is_working_day(day)

    wf.calendar.is_working_day = spy  # type: ignore[method-assign]
    assert load_demo(wf, settings) == 6
    # The demo asks the calendar about no year after today's (next year may not be known yet).
    assert asked and max(asked) <= now.year
    wf.calendar.is_working_day = is_working_day  # type: ignore[method-assign]
    assert wf.clock is clock  # the demo dated its steps on its own clocks, then gave it back

    tasks = queries.list_tasks(wf.engine)
    assert {t["plan_no"][:4] for t in tasks} == {today[:4]}  # the current year's plans
    assert {t["state"] for t in tasks} == {
        "planned", "drawn", "inspected", "publicized", "rectified", "closed",
    }  # fmt: skip

    rows, problems = overdue(wf, settings, now)
    assert problems == []
    late = [r["working_days_late"] for r in rows]
    assert late and max(late) <= 30
    assert len([n for n in late if 1 <= n <= 5]) >= 2
    assert {"publish", "rectify"} <= {r["rule"] for r in rows if r["working_days_late"] <= 5}

    day = now.date()
    horizon = wf.calendar.add_working_days(day, 3)
    with wf.raw.read() as cur:
        found = deadline_rules.collect_open(cur, wf.raw.sql, settings, wf.calendar, day, horizon)
    soon = [d for d in found.deadlines if day <= d.due <= horizon]
    assert len(soon) >= 2 and "confirm" in {d.rule for d in soon}

    # Every step is in the log, in time order, and the log replays to the tables.
    events = queries.list_events(wf.engine)
    times = [e["time"] for e in events]
    assert times == sorted(times) and times[-1] <= format_utc(now)
    assert replay(wf.raw).ok


def test_the_demo_database_is_marked_as_a_demo(wf: Workflow, clock: FixedClock) -> None:
    clock.set(datetime(2026, 3, 10, 10, tzinfo=SH))
    load_demo(wf)
    with wf.raw.read() as cur:
        cur.execute("SELECT value FROM database_info WHERE key = 'purpose'")
        assert cur.fetchall() == [("demo",)]


def test_the_demo_accounts_sign_in_one_per_role_each_over_its_unit(
    wf: Workflow, clock: FixedClock
) -> None:
    """``ssj demo`` prints one account per role: each signs in with the password shown once,
    the supervisor over 唐山市 only, the inspector linked to a group with results to enter;
    the demo's own steps are its clerk's. Run again, the passwords are new."""
    from workflow.core import accounts
    from workflow.core.permissions import ACCOUNT_ROLES
    from workflow.demo import CITIES, DEMO_CLERK, ROOT, demo_accounts

    clock.set(datetime(2026, 3, 10, 10, tzinfo=SH))
    load_demo(wf)
    now = format_utc(clock.now())
    made = demo_accounts(wf)
    assert sorted(role for _, _, role, _ in made) == sorted(ACCOUNT_ROLES)
    units_of = {role: unit for _, _, role, unit in made}
    assert units_of["supervisor"] == next(iter(CITIES)) == "130200"
    assert units_of["admin"] == units_of["clerk"] == units_of["auditor"] == ROOT[0]
    for username, password, role, unit in made:
        who = accounts.login(wf.raw, username, password, address="127.0.0.1", now=now)
        assert (who.role, who.unit_code) == (role, unit)
    with wf.raw.read() as cur:
        supervisor = accounts.actor(cur, wf.raw.sql, "supervisor")
        inspector = accounts.actor(cur, wf.raw.sql, "inspector")
        seen = {a.username for a in accounts.listing(cur, wf.raw.sql, supervisor)}
        cur.execute(
            wf.raw.sql(
                "SELECT r.inspectors FROM inspection_record r JOIN task t ON t.id = r.task_id"
                " WHERE t.state = 'drawn' AND r.result IS NULL"
            )
        )
        open_groups = [json.loads(r[0]) for r in cur.fetchall()]
        city = units.find(cur, wf.raw.sql, "130200").path
        in_city = {
            u
            for u, _, _, code in made
            if units.find(cur, wf.raw.sql, code).path[: len(city)] == city
        }
    # The supervisor of 唐山市 sees the accounts of 唐山市's subtree, not the province's.
    assert seen == in_city and "supervisor" in seen and not {"admin", "clerk", "auditor"} & seen
    assert any(inspector.inspector_cert in g for g in open_groups)
    # Every step of the demo's year is its clerk's, named in payload.by.
    logged = queries.list_events(wf.engine)
    year = [e for e in logged if e["kind"] not in ("account_added", "account_changed")]
    assert year and {e["payload"].get("by", {}).get("username") for e in year} == {DEMO_CLERK}
    # Again (a second ``ssj demo`` on the same database): new passwords; the old ones fail.
    again = demo_accounts(wf)
    assert [u for u, *_ in again] == [u for u, *_ in made]
    for (username, old, *_), (_, new, *_) in zip(made, again, strict=True):
        assert new != old
        assert accounts.login(wf.raw, username, new, address="127.0.0.1", now=now)
        with pytest.raises(Unauthenticated):
            accounts.login(wf.raw, username, old, address="127.0.0.2", now=now)
    with wf.raw.read() as cur:
        assert accounts.count(cur, wf.raw.sql) == len(made)
