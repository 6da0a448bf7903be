"""Periodic reports an office owes (seed 000): submitting one fulfils its obligation.

The report's content is a later issue; here a submission is who, what, for which period and
when — logged, and taken off the overdue list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflow.core import audit
from workflow.core.errors import InvalidInput
from workflow.core.refs import local_time
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
    known = [o for o, c in settings.offices.items() if c.reports]
    if office not in known:
        listed = "、".join(known) if known else "（config.yaml 的 offices 中尚未配置任何科室）"
        raise InvalidInput(f"科室 {office!r} 不在需报送报告的科室中：{listed}")
    today = wf.clock.now().astimezone(wf.timezone).date()
    payload = {
        "kind": kind,
        "period": period,
        "office": office,
        "due": due.isoformat(),
        "late": today > due,
    }
    sql = wf.raw.sql
    with wf.raw.write() as cur:
        cur.execute(
            sql(
                "SELECT actor, submitted_at FROM report_submission"
                " WHERE kind = ? AND period = ? AND office = ?"
            ),
            (kind, period, office),
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
                "INSERT INTO report_submission (kind, period, office, actor, submitted_at,"
                " event_seq) VALUES (?, ?, ?, ?, ?, ?)"
            ),
            (kind, period, office, actor, at, new.seq),
        )
    return {**payload, "event_seq": new.seq, "submitted_at": at}
