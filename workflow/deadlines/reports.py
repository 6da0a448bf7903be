"""Periodic reports an office owes (seed 000): submitting one fulfils its obligation.

The report's content is a later issue; here a submission is who, what, for which period and
when — logged, and taken off the overdue list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflow.core import audit, normalize, units
from workflow.core.errors import InvalidInput
from workflow.core.identity import Actor
from workflow.core.refs import local_time
from workflow.core.units import Unit
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.calendar import calendar_of

# The report kinds by code or by the name the seeds give them.
KIND = normalize.Choice(
    "报告类别",
    tuple(deadline_rules.REPORT_KINDS),
    {
        **{label: k for k, label in deadline_rules.REPORT_KINDS.items()},
        "月报": "monthly",
        "监管工作月报表": "monthly",
        "落实情况": "progress",
        "一单两库动态调整": "review",
        "动态调整": "review",
    },
    labels=deadline_rules.REPORT_KINDS,
)

if TYPE_CHECKING:
    from workflow.core.config import Settings
    from workflow.core.writer import Workflow


def submit(
    wf: Workflow,
    settings: Settings,
    *,
    kind: str,
    period: str,
    office: str,
    actor: str,
    within: Actor | None = None,
) -> dict[str, Any]:
    """Record that ``office`` submitted its ``kind`` report for ``period``; one event.
    ``within``: the office must be of that account's unit subtree."""
    if not actor.strip():
        raise InvalidInput("必须指明报送人", needs="actor")
    period = deadline_rules.canonical_period(kind, period)
    due = deadline_rules.parse_period(kind, period, settings.deadlines, calendar_of(wf))
    today = wf.clock.now().astimezone(wf.timezone).date()
    sql = wf.raw.sql
    with wf.raw.write() as cur:
        unit = reporting_office(cur, sql, office, within)
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
                f" {local_time(done[1], settings.calendar.timezone)} 报送，不能重复登记",
                field="period",
                value=period,
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


def reporting_office(cur: Any, sql: Any, text: str, within: Actor | None = None) -> Unit:
    """The office that owes reports named by ``text``: its unit code, or its name when only
    one bureau has an office of that name. ``within``: only the offices of that account's
    subtree exist."""
    offices = units.reporting_offices(cur, sql, within.unit_path if within else None)
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


def obligations(
    wf: Workflow,
    settings: Settings,
    *,
    year: int,
    office: str | None = None,
    within: Actor | None = None,
) -> list[dict[str, Any]]:
    """Every report the reporting offices (of ``within``'s subtree; ``office``: that one) owe
    for ``year``, by office then due date: its due date and why, and whether and when it was
    submitted and by whom, or whether it is overdue as of the workflow's clock."""
    if not 2000 <= year <= 2099:
        raise InvalidInput(
            f"年份 {year} 无效：应在 2000 年至 2099 年之间", field="year", value=year
        )
    cal = calendar_of(wf)
    tz = settings.calendar.timezone
    today = wf.clock.now().astimezone(wf.timezone).date()
    periods = list(deadline_rules.report_periods(year, settings.deadlines, cal))
    sql = wf.raw.sql
    with wf.raw.read() as cur:
        if office is not None:
            offices = [reporting_office(cur, sql, office, within)]
        else:
            offices = units.reporting_offices(cur, sql, within.unit_path if within else None)
        done = {
            (k, p, uid): (who, at, seq)
            for k, p, uid, who, at, seq in wf.raw.select_in(
                cur,
                "SELECT kind, period, unit_id, actor, submitted_at, event_seq"
                " FROM report_submission",
                "unit_id",
                [u.id for u in offices],
            )
        }
    rows: list[dict[str, Any]] = []
    for u in offices:
        for kind, period, due, basis in periods:
            who, at, seq = done.get((kind, period, u.id), (None, None, None))
            on = local_time(at, tz)[:10] if at else None
            rows.append(
                {
                    "unit": u.code,
                    "office": u.name,
                    "kind": kind,
                    "kind_label": deadline_rules.REPORT_KINDS[kind],
                    "period": period,
                    "due": due.isoformat(),
                    "basis": basis,
                    "provisional": cal.is_provisional(due.year),
                    "submitted": at is not None,
                    "submitted_by": who,
                    "submitted_at": at,
                    "event_seq": seq,
                    "late": on > due.isoformat() if on else None,
                    "overdue": at is None and due < today,
                }
            )
    return rows
