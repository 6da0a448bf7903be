"""Periodic reports an office owes (seed 000): submitting one fulfils its obligation.

The report's content is a later issue; here a submission is who, what, for which period and
when — logged, and taken off the overdue list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflow.core import audit, normalize, units
from workflow.core.errors import InvalidInput
from workflow.core.refs import local_time
from workflow.core.units import Unit
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.calendar import calendar_of

if TYPE_CHECKING:
    from workflow.core.config import Settings
    from workflow.core.writer import Workflow


def submit(
    wf: Workflow, settings: Settings, *, kind: str, period: str, office: str, actor: str
) -> dict[str, Any]:
    """Record that ``office`` submitted its ``kind`` report for ``period``; one event."""
    if not actor.strip():
        raise InvalidInput("必须指明报送人", needs="actor")
    due = deadline_rules.parse_period(kind, period, settings.deadlines, calendar_of(wf))
    today = wf.clock.now().astimezone(wf.timezone).date()
    sql = wf.raw.sql
    with wf.raw.write() as cur:
        unit = reporting_office(cur, sql, office)
        office = unit.name
        payload = {
            "kind": kind,
            "period": period,
            "office": office,
            "unit": unit.code,
            "due": due.isoformat(),
            "late": today > due,
        }
        cur.execute(
            sql(
                "SELECT actor, submitted_at FROM report_submission"
                " WHERE kind = ? AND period = ? AND unit_id = ?"
            ),
            (kind, period, unit.id),
        )
        done = cur.fetchone()
        if done:
            raise InvalidInput(
                f"{office} 的 {period} {deadline_rules.REPORT_KINDS[kind]}已由 {done[0]} 于"
                f" {local_time(done[1], settings.calendar.timezone)} 报送，不能重复登记"
            )
        head = audit.read_head(cur, sql)
        at = head.stamp(wf.event_time())
        new = audit.append(
            cur,
            sql,
            head,
            at=at,
            actor=actor,
            role="clerk",
            task_id=None,
            kind="report_submitted",
            payload=payload,
        )
        cur.execute(
            sql(
                "INSERT INTO report_submission (kind, period, office, unit_id, actor,"
                " submitted_at, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            (kind, period, office, unit.id, actor, at, new.seq),
        )
    return {**payload, "event_seq": new.seq, "submitted_at": at}


def reporting_office(cur: Any, sql: Any, text: str) -> Unit:
    """The office that owes reports named by ``text``: its unit code, or its name when only
    one bureau has an office of that name."""
    offices = units.reporting_offices(cur, sql)
    folded = normalize.word(text)
    found = [u for u in offices if folded in (u.code, u.name)]
    if len(found) == 1:
        return found[0]
    if found:
        listed = "、".join(u.label for u in found)
        raise InvalidInput(
            f"有多个名为 {folded} 的科室（{listed}）：请用单位代码指明", field="office", value=text
        )
    listed = "、".join(u.label for u in offices[:20]) or "（尚未登记任何须报送报告的科室）"
    raise InvalidInput(
        f"科室 {text!r} 不在需报送报告的科室中：{listed}", field="office", value=text
    )
