"""Calendar years recorded in the database from the State Council's notice, and the daily
warning while a year is provisional (DESIGN §3).

A recorded year is a row of ``calendar_year`` and a ``calendar_recorded`` event, written in one
transaction under the log's append lock, so every process and host sees the same calendar.
Long-running processes re-read the rows at every sweep (``refresh``): a notice recorded by
another process takes effect at the next sweep, and no cached answer outlives it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import notifications
from workflow.core import audit
from workflow.core.errors import InvalidInput
from workflow.deadlines.calendar import WorkCalendar, YearOverride, calendar_of
from workflow.deadlines.calendar_notice import Notice, weekday_cn

if TYPE_CHECKING:
    from workflow.core.config import Settings
    from workflow.core.writer import Workflow

RECORDED = "calendar_recorded"
WARNING = "calendar_uncovered"
SWEEP_ACTOR = "ssj-sweep"
NOTICE_COMMAND = "ssj calendar notice 通知全文.txt"


def _source(title: str, recorded_at: str) -> str:
    return f"数据库：{title}（{recorded_at[:10]} 录入）"


def load(cur: Any, sql: Any) -> dict[int, YearOverride]:
    """The recorded years, read inside the caller's transaction."""
    cur.execute(sql("SELECT year, holidays, workdays, source, recorded_at FROM calendar_year"))
    return {
        year: YearOverride(
            frozenset(date.fromisoformat(d) for d in json.loads(holidays)),
            frozenset(date.fromisoformat(d) for d in json.loads(workdays)),
            _source(source, recorded_at),
        )
        for year, holidays, workdays, source, recorded_at in cur.fetchall()
    }


def refresh(cal: WorkCalendar, cur: Any, sql: Any) -> bool:
    """Bring ``cal`` up to date with the database; True when a year was recorded meanwhile."""
    return cal.set_recorded(load(cur, sql))


def differences(notice: Notice, cal: WorkCalendar) -> list[str]:
    """Days of the notice's year (and its days in a neighbouring year) on which the notice and
    the calendar's current answer disagree."""
    off = {d for p in notice.periods for d in p.days}
    first = date(notice.year, 1, 1)
    days = {first + timedelta(days=i) for i in range((date(notice.year, 12, 31) - first).days + 1)}
    out = []
    for d in sorted(days | off | notice.workdays):
        on = d in notice.workdays or (d not in off and d.weekday() < 5)
        if cal.is_working_day(d) != on:
            out.append(f"{d}（{weekday_cn(d)}）通知为{'上班' if on else '休息'}")
    return out


@dataclass
class Recorded:
    year: int
    already: bool  # the same arrangement was recorded before: nothing written
    event_seq: int | None
    recorded_at: str | None
    note: str = ""


def record(wf: Workflow, notice: Notice, text: str, actor: str) -> Recorded:
    """Record ``notice`` for every process: one row and one event, one transaction.

    A year is recorded once. Recording it again with the same days is a no-op; with other
    days it is refused (an amended arrangement goes into config.yaml, which takes
    precedence). A year config.yaml or chinesecalendar already covers is recorded only if the
    notice agrees with it day by day: a disagreement means a wrong or mistyped text.
    """
    if not actor.strip():
        raise InvalidInput("必须指明录入人", needs="actor")
    holidays = sorted(d.isoformat() for d in notice.holidays)
    workdays = sorted(d.isoformat() for d in notice.workdays)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    sql = wf.raw.sql
    with wf.raw.write() as cur:
        cur.execute(
            sql("SELECT holidays, workdays, actor, recorded_at FROM calendar_year WHERE year = ?"),
            (notice.year,),
        )
        row = cur.fetchone()
        if row is not None:
            if json.loads(row[0]) == holidays and json.loads(row[1]) == workdays:
                return Recorded(
                    notice.year,
                    True,
                    None,
                    row[3],
                    f"已由 {row[2]} 于 {row[3][:10]} 录入，内容一致",
                )
            raise InvalidInput(
                f"{notice.year} 年的节假日安排已由 {row[2]} 于 {row[3][:10]} 录入，与本通知不同："
                "已录入的年份不能改写；如国务院发布了调整通知，请在 config.yaml 的"
                f" calendar.years.{notice.year} 中填写（优先于数据库）"
            )
        refresh(calendar_of(wf), cur, sql)
        cov = calendar_of(wf).coverage_of(notice.year)
        note = ""
        if not cov.provisional:
            diff = differences(notice, calendar_of(wf))
            if diff:
                raise InvalidInput(
                    f"{notice.year} 年已由 {cov.source} 覆盖，本通知与之不符（请核对通知原文）："
                    + "；".join(diff[:10])
                    + (f" 等 {len(diff)} 处" if len(diff) > 10 else "")
                )
            note = f"与 {cov.source} 一致"
        payload = {
            "year": notice.year,
            "title": notice.title,
            "holidays": holidays,
            "workdays": workdays,
            "periods": [
                {"name": p.name, "start": p.start.isoformat(), "end": p.end.isoformat()}
                for p in notice.periods
            ],
            "text_sha256": digest,
            "was": cov.source,
        }
        head = audit.read_head(cur, sql)
        at = head.stamp(wf.event_time())
        new = audit.append(
            cur, sql, head, at=at, actor=actor, role="clerk", task_id=None, kind=RECORDED,
            payload=payload,
        )  # fmt: skip
        cur.execute(
            sql(
                "INSERT INTO calendar_year (year, holidays, workdays, source, text_sha256, actor,"
                " recorded_at, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            (notice.year, json.dumps(holidays), json.dumps(workdays), notice.title, digest,
             actor, at, new.seq),
        )  # fmt: skip
        refresh(calendar_of(wf), cur, sql)
    return Recorded(notice.year, False, new.seq, at, note)


@dataclass
class NoticeTaken:
    """What ``take_notice`` made of a notice: the arrangement read, and either what recording
    it did (``recorded``) or, for a dry run, how it compares with the year's current source."""

    notice: Notice
    recorded: Recorded | None = None
    covered_by: str | None = None  # dry run: the year's source when it is not provisional
    differences: list[str] = field(default_factory=list)  # dry run: days the two disagree


def take_notice(wf: Workflow, text: str, actor: str, *, dry_run: bool = False) -> NoticeTaken:
    """Read the State Council's notice ``text`` and record it (``record``); ``dry_run``: read
    and compare only. A text that is not such a notice is an InvalidInput naming the line."""
    from workflow.deadlines import calendar_notice

    try:
        notice = calendar_notice.parse(text)
    except calendar_notice.NoticeError as e:
        e.fields.setdefault("field", "text")
        raise
    if not dry_run:
        return NoticeTaken(notice, record(wf, notice, text, actor))
    cov = calendar_of(wf).coverage_of(notice.year)
    if cov.provisional:
        return NoticeTaken(notice)
    return NoticeTaken(notice, None, cov.source, differences(notice, calendar_of(wf)))


def coverage(cal: WorkCalendar, year: int) -> dict[str, Any]:
    """Who confirms ``year``'s working days; for a provisional year, the weekdays known to be
    off (the statutory holidays, lunar ones and substitute days included; no 调休 workdays)."""
    from workflow.deadlines.calendar import statutory_days

    if not 1900 <= year <= 9998:
        raise InvalidInput(f"年份 {year} 无效：应为 1900–9998 之间的年份", field="year", value=year)
    c = cal.coverage_of(year)
    off = sorted(d for d in statutory_days(year)[0] if d.weekday() < 5) if c.provisional else []
    return {
        "year": year,
        "provisional": c.provisional,
        "source": c.source,
        "weekdays_off": [d.isoformat() for d in off],
    }


# ---------------------------------------------------------------------------------------------
# The daily warning


def years_to_warn(cal: WorkCalendar, today: date) -> list[int]:
    """Provisional years the administrators must hear about today: this year, and from
    November on next year."""
    years = [today.year, today.year + 1] if today.month >= 11 else [today.year]
    return [y for y in years if cal.is_provisional(y)]


@dataclass
class Warning:
    years: list[int]
    message: str
    new: bool = False  # first time today: event logged, mail enqueued
    to: list[str] = field(default_factory=list)
    event_seq: int | None = None
    messages: int = 0


def warning_text(years: list[int], source: str) -> str:
    ys = "、".join(f"{y} 年" for y in years)
    return (
        f"{ys}的节假日安排尚未确认（chinesecalendar、config.yaml 和数据库均未覆盖）：这些年份的期限"
        f"暂按周末和法定节假日（{source}）推算，标注“暂定”。国务院办公厅通知发布后，"
        f"请将通知全文存为文本文件，运行 {NOTICE_COMMAND} 录入"
    )


def warn(
    cur: Any, sql: Any, wf: Workflow, settings: Settings, today: date, now: datetime
) -> Warning | None:
    """Once a day while a year is provisional (``years_to_warn``): one event, one deadline
    step keyed by the day (so the day's warning is taken once, whichever process sweeps), and a
    mail to each administrator (calendar.admin_emails). Inside the sweep's write transaction."""
    from workflow.deadlines.calendar import provisional_source

    years = years_to_warn(calendar_of(wf), today)
    if not years:
        return None
    w = Warning(years, warning_text(years, provisional_source()))
    tag = "+".join(str(y) for y in years)
    deadline = f"calendar:{tag}"
    step = f"warn_{today.isoformat()}"
    key = f"{deadline}|{step}"
    cur.execute(sql("SELECT 1 FROM deadline_step WHERE key = ?"), (key,))
    if cur.fetchone() is not None:
        return w
    cal = settings.calendar
    w.to = list(cal.admin_emails)
    head = audit.read_head(cur, sql)
    at = head.stamp(wf.event_time(now))
    payload = {
        "years": years,
        "today": today.isoformat(),
        "provisional_source": provisional_source(),
        "to": w.to,
    }
    new = audit.append(
        cur, sql, head, at=at, actor=SWEEP_ACTOR, role="system", task_id=None, kind=WARNING,
        payload=payload,
    )  # fmt: skip
    cur.execute(
        sql(
            "INSERT INTO deadline_step (key, deadline, rule, task_id, office, due_date, step,"
            " level, at, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        (key, deadline, "calendar", None, "", f"{years[0]}-01-01", step, 0, at, new.seq),
    )
    context = {
        "years": years,
        "years_text": "、".join(f"{y} 年" for y in years),
        "source": provisional_source(),
        "command": NOTICE_COMMAND,
        "today": today.isoformat(),
        "event_seq": new.seq,
    }
    messages = [
        notifications.Message(
            key=f"{key}|{email}",
            recipient=email,
            recipient_name=cal.admin_name,
            template="calendar",
            context=context,
        )
        for email in w.to
    ]
    w.messages = notifications.enqueue(cur, wf.raw, messages, at)
    w.new, w.event_seq = True, new.seq
    return w
