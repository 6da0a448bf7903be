"""The sweep: one idempotent pass over every open deadline.

In one write transaction (holding the log's append lock, so two processes sweeping one
database take turns), it finds what is due soon, due now and overdue, decides each reminder,
overdue notice and escalation step (workflow/deadline_rules.py), and for each step not taken before
appends an event, records the step and enqueues its mail. Then it delivers the outbox.

State-based: the steps due are a function of the database and the time, so after downtime the
next sweep catches up, and a second sweep at the same moment finds nothing left to do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import notifications
from workflow.core import audit, units
from workflow.core.clock import format_utc
from workflow.core.config import LadderStep, Settings
from workflow.core.identity import Actor
from workflow.core.logging import get_logger
from workflow.core.units import Unit
from workflow.core.writer import Workflow
from workflow.deadlines import calendar_years, mail
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.calendar import calendar_of
from workflow.deadlines.rules import Deadline, Person, Step

log = get_logger("ssj.sweep")

ACTOR = "ssj-sweep"
EVENT_KIND = {
    "reminder": "deadline_reminder",
    "overdue": "deadline_overdue",
    "escalation": "deadline_escalated",
}
AUDIENCE = {"responsible": "责任人", "office_head": "科室负责人", "supervisor": "上级督办人"}


@dataclass
class SweepResult:
    as_of: str
    today: str
    open_deadlines: int = 0
    due_soon: int = 0  # deadlines in their reminder window
    overdue: int = 0  # deadlines past their date
    steps: dict[str, int] = field(
        default_factory=lambda: {"reminder": 0, "overdue": 0, "escalation": 0}
    )
    messages: int = 0  # mails enqueued
    without_recipient: list[str] = field(default_factory=list)  # steps nobody could be told
    problems: list[str] = field(default_factory=list)
    delivery: dict[str, Any] | None = None
    dry_run: bool = False  # a rehearsal: decided, nothing written
    planned: list[dict[str, Any]] = field(default_factory=list)  # each new step, for people
    provisional: int = 0  # open deadlines due in a year not yet confirmed (暂定)
    # While a year is provisional (DESIGN §3): the warning, and whether today's was sent now.
    calendar_warning: str | None = None
    calendar_warning_sent: bool = False
    calendar_warning_mails: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _recipients(
    step: Step,
    inspectors: dict[str, list[Person]],
    settings: Settings,
    offices: dict[int, dict[str, Unit]],
) -> tuple[list[Person], str]:
    """Who gets this step, and who is named responsible. The responsible inspectors when the
    deadline is theirs, else the office head; the supervisor when no one lower is reachable."""
    d = step.deadline
    people = inspectors.get(d.key, [])
    office = deadline_rules.office_of(offices, d)
    head = [Person(office.head, office.email)] if office and office.email else []
    sup = settings.escalation
    supervisor = [Person(sup.supervisor_name, sup.supervisor_email)] if sup.supervisor_email else []
    responsible = "、".join(p.name for p in people) or (office.head if office else "")
    if step.to == "responsible":
        to = [p for p in people if p.email] or head or supervisor
    elif step.to == "office_head":
        to = head or supervisor
    else:
        to = supervisor
    return to, responsible


PENDING_SHOWN = 50  # targets listed by name in one mail; the rest are counted


def _told_before(
    cur: Any,
    raw: Any,
    new: list[Step],
    plan: dict[str, tuple[list[Person], str]],
    ladder: list[LadderStep],
) -> dict[str, set[str]]:
    """Deadline key → addresses an earlier sweep already sent a ladder step of it (an overdue
    notice or an escalation), read from the outbox's keys (``step key|address``)."""
    taken_now = {s.key for s in new}
    keys: list[str] = []
    for s in new:
        if s.level < 2:
            continue
        for earlier in ladder[: s.level - 1]:
            step_key = f"{s.deadline.key}|{earlier.step}"
            if step_key not in taken_now:
                keys.extend(f"{step_key}|{p.email}" for p in plan[s.key][0])
    out: dict[str, set[str]] = {}
    for (key,) in raw.select_in(cur, "SELECT key FROM outbox", "key", sorted(set(keys))):
        deadline, _, rest = key.partition("|")
        out.setdefault(deadline, set()).add(rest.partition("|")[2])
    return out


def _dedupe(
    new: list[Step],
    plan: dict[str, tuple[list[Person], str]],
    told_before: dict[str, set[str]],
) -> dict[str, list[str]]:
    """One person, one mail per deadline's ladder: when a sweep takes several steps of one
    deadline at once (catching up), each person gets the highest step that reaches them; and
    nobody already sent an overdue notice or escalation of the deadline is sent another (an
    office head who is also in the late group, a head answering for the office's own deadline).
    Rewrites ``plan`` in place; returns step key → the addresses left out."""
    skipped: dict[str, list[str]] = {}
    by_deadline: dict[str, list[Step]] = {}
    for s in new:
        if s.level >= 1:
            by_deadline.setdefault(s.deadline.key, []).append(s)
    for key, steps in by_deadline.items():
        taken = set(told_before.get(key, ()))
        for s in sorted(steps, key=lambda x: x.level, reverse=True):
            to, responsible = plan[s.key]
            keep = [p for p in to if p.email not in taken]
            if len(keep) < len(to):
                skipped[s.key] = sorted({p.email for p in to} - {p.email for p in keep})
            plan[s.key] = (keep, responsible)
            taken.update(p.email for p in keep)
    return skipped


def _todo(d: Deadline) -> str:
    todo = deadline_rules.RULES[d.rule].todo
    if d.task_id is not None:
        todo = todo.replace("任务号", str(d.task_id))
        if d.target:
            todo = todo.replace("信用代码", d.target)
    elif d.rule.startswith("report_"):
        _, _, period, office = d.key.rsplit(":", 1)[0].split(":", 3)
        todo = todo.replace("期间", period).replace("年度", period).replace("科室", office)
    return todo


def _digest_time(now: datetime, settings: Settings) -> str:
    """The next daily digest at or after ``now``."""
    tz = ZoneInfo(settings.calendar.timezone)
    local = now.astimezone(tz)
    hh, mm = (int(x) for x in settings.mail.digest_time.split(":"))
    at = local.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if at < local:
        at += timedelta(days=1)
    return format_utc(at)


def decide_and_enqueue(
    wf: Workflow, settings: Settings, now: datetime, *, dry_run: bool = False
) -> SweepResult:
    """The sweep's decisions, in one transaction: new steps → events, step rows, outbox rows.
    ``dry_run``: decide in a read transaction and write nothing (a rehearsal, ``--now`` on a
    live database); ``result.planned`` lists what a real sweep would do."""
    tz = ZoneInfo(settings.calendar.timezone)
    today = deadline_rules.local_today(now, tz)
    result = SweepResult(as_of=format_utc(now), today=today.isoformat(), dry_run=dry_run)
    at_cal = deadline_rules.Calendar(calendar_of(wf), today)
    remind = settings.deadlines.remind_before_working_days
    ladder = settings.escalation.ladder
    sql = wf.raw.sql
    with wf.raw.read() if dry_run else wf.raw.write() as cur:
        calendar_years.refresh(calendar_of(wf), cur, sql)  # a notice recorded by another process
        # The daily warning while a year is provisional; a rehearsal writes nothing.
        warned = None if dry_run else calendar_years.warn(cur, sql, wf, settings, today, now)
        if warned is not None:
            result.calendar_warning = warned.message
            result.calendar_warning_sent = warned.new
            result.calendar_warning_mails = warned.messages if warned.new else 0
            result.messages += warned.messages
        horizon = deadline_rules.reminder_horizon(today, remind)
        found = deadline_rules.collect_open(cur, sql, settings, calendar_of(wf), today, horizon)
        result.problems = found.problems
        result.open_deadlines = len(found.deadlines)
        result.provisional = sum(d.provisional for d in found.deadlines)
        candidates: list[Step] = []
        for d in found.deadlines:
            steps = deadline_rules.steps_due(d, at_cal, remind, ladder)
            if steps:
                if steps[0].level == 0:
                    result.due_soon += 1
                else:
                    result.overdue += 1
                candidates.extend(steps)
        # Read under the append lock: a concurrent sweep's steps are visible once it committed.
        keys = [s.key for s in candidates]
        done = {r[0] for r in wf.raw.select_in(cur, "SELECT key FROM deadline_step", "key", keys)}
        new = [s for s in candidates if s.key not in done]
        if not new:
            return result
        inspectors = deadline_rules.responsible_inspectors(cur, wf.raw, [s.deadline for s in new])
        pending = deadline_rules.pending_targets(cur, wf.raw, [s.deadline for s in new])
        offices = units.offices(cur, sql)
        plan = {s.key: _recipients(s, inspectors, settings, offices) for s in new}
        told_before = _told_before(cur, wf.raw, new, plan, ladder)
        skipped = _dedupe(new, plan, told_before)
        head = audit.read_head(cur, sql)
        at = format_utc(now) if dry_run else head.stamp(wf.event_time(now))
        as_of = now.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        not_before = _digest_time(now, settings) if settings.mail.digest else None
        events: list[tuple[str, str, int | None, str | None, str | None, dict[str, Any]]] = []
        rows: list[tuple[Any, ...]] = []
        messages: list[notifications.Message] = []
        seq = head.seq
        for s in new:
            seq += 1
            d = s.deadline
            to, responsible = plan[s.key]
            payload = {
                "deadline": d.key,
                "rule": d.rule,
                "task": d.task_id,
                "office": d.office,
                "due": d.due.isoformat(),
                "step": s.step,
                "level": s.level,
                "to": [p.email for p in to],
                "as_of": result.as_of,
            }
            if s.working_days_left is not None:
                payload["working_days_left"] = s.working_days_left
            else:
                payload["working_days_late"] = s.working_days_late
            if d.target:
                payload["target"] = d.target
            if skipped.get(s.key):
                # Told already, by an earlier step of this deadline or a higher one now.
                payload["not_again"] = skipped[s.key]
            if d.provisional:
                payload["provisional"] = True
            events.append((ACTOR, EVENT_KIND[s.kind], None, None, None, payload))
            rows.append(
                (s.key, d.key, d.rule, d.task_id, d.office, d.due.isoformat(), s.step, s.level,
                 at, seq)
            )  # fmt: skip
            result.steps[s.kind] += 1
            result.planned.append(
                {"step": s.key, "kind": s.kind, "label": d.label, "due": d.due.isoformat(),
                 "to": [p.email for p in to], "not_again": skipped.get(s.key, [])}
            )  # fmt: skip
            if not to:
                if not skipped.get(s.key):
                    result.without_recipient.append(s.key)
                continue
            waiting = pending.get(d.key, [])
            context = {
                "kind": s.kind,
                "step": s.step,
                "step_label": AUDIENCE[s.to],
                "subject_line": d.label,
                "task": d.label if d.task_id is not None else "",
                "what": deadline_rules.RULES[d.rule].what,
                "detail": d.detail,
                "office": d.office,
                "responsible": responsible,
                "due": d.due.isoformat(),
                "due_weekday": deadline_rules.weekday_cn(d.due),
                # 暂定: the date, or the working days counted to it, rest on a year whose
                # holidays are not yet confirmed (DESIGN §3).
                "provisional": d.provisional or at_cal.provisional(d.due),
                "basis": d.basis,
                "todo": _todo(d),
                "working_days_left": s.working_days_left,
                "late_working_days": s.working_days_late,
                "as_of": as_of,
                "event_seq": seq,
                "pending": [{"code": c, "name": n} for c, n in waiting[:PENDING_SHOWN]],
                "pending_count": len(waiting),
            }
            for p in to:
                messages.append(
                    notifications.Message(
                        key=f"{s.key}|{p.email}",
                        recipient=p.email,
                        recipient_name=p.name,
                        template="deadline",
                        context=context,
                        digest=settings.mail.digest,
                        not_before=not_before,
                    )
                )
        if dry_run:
            result.messages = len(messages)  # would be enqueued
            return result
        audit.append_many(cur, sql, head, events, at=at, role="system")
        cur.executemany(
            sql(
                "INSERT INTO deadline_step (key, deadline, rule, task_id, office, due_date, step,"
                " level, at, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            rows,
        )
        result.messages += notifications.enqueue(cur, wf.raw, messages, at)
    return result


def run(
    wf: Workflow,
    settings: Settings,
    now: datetime | None = None,
    *,
    deliver: bool = True,
    transport: notifications.Transport | None = None,
    dry_run: bool = False,
    by: Actor | None = None,
) -> SweepResult:
    """One sweep as of ``now`` (default: the workflow's clock), then delivery of the outbox.
    ``dry_run``: decide only; nothing is written or sent. On a live database only the real
    time may write (``Workflow.check_time``). ``by``: the account asking (a sweep is over
    every unit: an account of the root unit, ``units.require_whole``)."""
    if by is not None:
        with wf.raw.read() as cur:
            units.require_whole(cur, wf.raw.sql, by, "期限巡检")
    now = now or wf.clock.now()
    if not dry_run:
        wf.check_time(now)
    result = decide_and_enqueue(wf, settings, now, dry_run=dry_run)
    if deliver and not dry_run:
        # On a live database the mail just enqueued is stamped with the real time, a moment
        # after ``now``: deliver as of the real time too, or it would wait for the next sweep.
        send_at = max(now, wf.real_clock.now()) if wf.purpose == "live" else now
        sent = notifications.deliver(
            wf.raw, transport or mail.transport(settings), mail.policy(settings), send_at
        )
        result.delivery = sent.as_json()
    log.info(
        "sweep",
        as_of=result.as_of,
        open=result.open_deadlines,
        due_soon=result.due_soon,
        overdue=result.overdue,
        reminders=result.steps["reminder"],
        overdue_notices=result.steps["overdue"],
        escalations=result.steps["escalation"],
        enqueued=result.messages,
        delivered=(result.delivery or {}).get("mails"),
        problems=len(result.problems),
        dry_run=dry_run,
        provisional=result.provisional,
        calendar_warning=result.calendar_warning_sent,
    )
    return result
