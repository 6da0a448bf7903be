"""The tables, declared with SQLModel. Schema changes go through Alembic (workflow/migrations).

Instants are stored as fixed-width UTC text (``clock.format_utc``): the audit log hashes them
byte for byte, and one representation on SQLite and PostgreSQL keeps replay comparisons exact.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from notifications.outbox import Outbox  # noqa: F401  (its table lives in this schema too)

UTC_TEXT = 27  # len("2024-04-01T08:00:00.000000Z")


class Unit(SQLModel, table=True):
    """单位 (DESIGN §8): the tree province → city → county bureau → office (科室). Plans, tasks,
    targets, inspectors, report obligations and accounts belong to one; an account sees its
    unit's subtree. ``path`` ("/1/4/9/": the ids from the root) makes a subtree one prefix
    match in the queries."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)  # e.g. 410421 (行政区划代码) or 410421-01
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # province | city | county | office
    parent_id: int | None = Field(default=None, foreign_key="unit.id")
    path: str = Field(max_length=500, index=True)
    head: str = Field(default="", max_length=100)  # 负责人: escalations go there
    email: str = Field(default="", max_length=200)
    reports: bool = False  # an office that owes the periodic reports of seed 000
    created_at: str = Field(max_length=UTC_TEXT)
    updated_at: str = Field(max_length=UTC_TEXT)


class Plan(SQLModel, table=True):
    """年度抽查工作计划 (seed 004: plan no. 2024001; name = year + department + 随机抽查 + serial)."""

    # Plan numbers are each bureau's own: two counties may both have 2024001.
    __table_args__ = (UniqueConstraint("unit_id", "plan_no", name="uq_plan_unit_no"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_no: str = Field(max_length=16, index=True)
    name: str = Field(max_length=200)
    year: int
    unit: str = Field(max_length=200)
    unit_id: int = Field(foreign_key="unit.id", index=True)  # the bureau whose plan it is
    created_at: str = Field(max_length=UTC_TEXT)
    published_at: str | None = Field(default=None, max_length=UTC_TEXT)


class Task(SQLModel, table=True):
    """抽查任务: one sampling task, one state machine (states package)."""

    __table_args__ = (UniqueConstraint("plan_id", "task_no", name="uq_task_plan_no"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)  # the plan's bureau
    task_no: str = Field(max_length=16)  # e.g. 001号
    name: str = Field(max_length=200)
    task_type: str = Field(max_length=16)  # directed 定向 | undirected 不定向
    ratio: str = Field(max_length=16)  # exact decimal text, e.g. "0.10"
    items: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    scope: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    initiating_office: str = Field(default="", max_length=100)
    joining_offices: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    months: str = Field(default="", max_length=64)  # e.g. "2024-04" or "2022-06..2022-07"
    item_codes: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    # Directed tasks: {"grade"|"type"|"size"|"region"|"industry"|"tags": [values]} and a ratio
    # per stratum (grade) overriding ``ratio``.
    filters: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    stratum_ratios: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    inspector_field: str = Field(default="", max_length=100)  # inspectors' field to match
    commitment: str | None = Field(default=None, max_length=64)  # published with the plan
    draw_digest: str | None = Field(default=None, max_length=64)  # of the stored draw record
    confirmed_at: str | None = Field(default=None, max_length=UTC_TEXT)
    drawn_at: str | None = Field(default=None, max_length=UTC_TEXT)  # starts the 2-day clock
    # No index on state: six values, most rows end "closed", and every transition would pay
    # for it at commit (measured, docs/PERFORMANCE.md); a scan of 100k tasks takes milliseconds.
    state: str = Field(max_length=16)
    version: int  # optimistic lock: +1 on every event of this task
    created_at: str = Field(max_length=UTC_TEXT)
    updated_at: str = Field(max_length=UTC_TEXT)


class InspectionRecord(SQLModel, table=True):
    """One drawn target of a task: its inspector group, result, publication and follow-ups."""

    __tablename__ = "inspection_record"
    __table_args__ = (UniqueConstraint("task_id", "target_code", name="uq_record_task_target"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    target_code: str = Field(max_length=18)  # 统一社会信用代码
    target_name: str = Field(max_length=200)
    inspectors: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of cert nos
    group_size: int
    result: str | None = Field(default=None, max_length=16)
    result_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    result_at: str | None = Field(default=None, max_length=UTC_TEXT)
    published_at: str | None = Field(default=None, max_length=UTC_TEXT)
    published_place: str | None = Field(default=None, max_length=300)
    followup_count: int = 0
    replaced: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON certs out
    # A problem's rectification deadline (local date), set with its result (DESIGN §3).
    rectify_by: str | None = Field(default=None, max_length=10)
    # The publication date as stated by the user (local date); published_at is the real time.
    published_on: str | None = Field(default=None, max_length=10)
    # Joint visits (seeds 000, 002): other tasks merged into this visit, with their items;
    # JSON list of {"task_id", "task_no", "office", "item_codes"}.
    joined: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    correction_count: int = 0


class JointVisit(SQLModel, table=True):
    """A task merged into another task's visit (a record whose ``joined`` names it): the
    same facts as ``joined``, indexed by the merged task so that showing it reads only its
    own (TaskTransaction.set_joined writes both)."""

    __tablename__ = "joint_visit"

    task_id: int = Field(foreign_key="task.id", primary_key=True)
    record_id: int = Field(foreign_key="inspection_record.id", primary_key=True)


class ResultCorrection(SQLModel, table=True):
    """更正: a published result changed by an explicit correction, itself published."""

    __tablename__ = "result_correction"

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="inspection_record.id", index=True)
    before_result: str | None = Field(default=None, max_length=16)
    before_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after_result: str = Field(max_length=16)
    after_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    category: str = Field(max_length=32)
    actor: str = Field(max_length=100)
    corrected_at: str = Field(max_length=UTC_TEXT)
    published_on: str | None = Field(default=None, max_length=10)
    published_place: str | None = Field(default=None, max_length=300)
    event_seq: int


class FollowUp(SQLModel, table=True):
    """后续处置 of a problem or refused record; several may accumulate."""

    __tablename__ = "followup"

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="inspection_record.id", index=True)
    outcome: str = Field(max_length=32)
    outcome_date: str = Field(max_length=10)  # local date, YYYY-MM-DD
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    actor: str = Field(max_length=100)
    created_at: str = Field(max_length=UTC_TEXT)


class Event(SQLModel, table=True):
    """The append-only, hash-chained audit log (DESIGN §6). The database refuses UPDATE/DELETE."""

    __table_args__ = (Index("ix_event_task_seq", "task_id", "seq"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str = Field(max_length=UTC_TEXT)
    actor: str = Field(max_length=100)
    role: str = Field(max_length=32)
    task_id: int | None = Field(default=None)
    kind: str = Field(max_length=32)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str | None = Field(default=None, max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    payload: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON text
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Item(SQLModel, table=True):
    """抽查事项清单: what may be inspected."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    legal_basis: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    content: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    method: str = Field(max_length=16)  # 现场 | 书面 | 非现场
    category: str = Field(max_length=8)  # 重点 | 一般
    updated_at: str = Field(max_length=UTC_TEXT)
    retired_at: str | None = Field(default=None, max_length=UTC_TEXT)  # kept, not offered


class Target(SQLModel, table=True):
    """检查对象名录库: one entity, keyed by its 统一社会信用代码."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=18, unique=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=200)
    type: str = Field(max_length=32)
    industry: str = Field(default="", max_length=100)
    region: str = Field(default="", max_length=100)
    size: str = Field(default="", max_length=16)
    grade: str = Field(default="", max_length=4)  # credit-risk grade A–D
    tags: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    violations: int = 0
    complaints: int = 0
    last_inspected: str | None = Field(default=None, max_length=10)  # YYYY-MM-DD
    updated_at: str = Field(max_length=UTC_TEXT)
    retired_at: str | None = Field(default=None, max_length=UTC_TEXT)  # kept, not offered
    address: str = Field(default="", max_length=300)  # 住所
    legal_rep: str = Field(default="", max_length=50)  # 法定代表人
    phone: str = Field(default="", max_length=50)  # 联系电话


class Inspector(SQLModel, table=True):
    """执法检查人员名录库: keyed by enforcement-certificate number."""

    id: int | None = Field(default=None, primary_key=True)
    cert: str = Field(max_length=32, unique=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=50)
    fields: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    specialties: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    office: str = Field(default="", max_length=100)
    recusal: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list of codes
    email: str = Field(default="", max_length=200)
    available: bool = True
    updated_at: str = Field(max_length=UTC_TEXT)


class DrawSecret(SQLModel, table=True):
    """The secret behind a published commitment, kept server-side until the draw reveals it."""

    __tablename__ = "draw_secret"

    task_id: int = Field(foreign_key="task.id", primary_key=True)
    secret: str = Field(max_length=64)  # hex
    created_at: str = Field(max_length=UTC_TEXT)


class DrawRecordRow(SQLModel, table=True):
    """The published draw record (DESIGN §6) as canonical JSON; append-only like the log.
    Its SHA-256 is in the draw event, so the chain vouches for it."""

    __tablename__ = "draw_record"

    task_id: int = Field(foreign_key="task.id", primary_key=True)
    digest: str = Field(max_length=64)
    record: str = Field(sa_column=Column(Text, nullable=False))
    created_at: str = Field(max_length=UTC_TEXT)


class DeadlineStep(SQLModel, table=True):
    """One reminder, overdue notice or escalation step of one deadline, taken once: the unique
    ``key`` (deadline key + step) is what makes two sweeps, or two processes, take it once."""

    __tablename__ = "deadline_step"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=250, unique=True)
    deadline: str = Field(max_length=200, index=True)  # e.g. task:12:publish
    rule: str = Field(max_length=32)
    task_id: int | None = Field(default=None)
    office: str = Field(default="", max_length=100)
    due_date: str = Field(max_length=10)  # local date, YYYY-MM-DD
    step: str = Field(max_length=32)  # remind_3, overdue, office_head, supervisor, ...
    level: int  # 0 reminders, 1.. the ladder's steps
    at: str = Field(max_length=UTC_TEXT)
    event_seq: int


class ReportSubmission(SQLModel, table=True):
    """A periodic report an office has submitted (seed 000), fulfilling that obligation."""

    __tablename__ = "report_submission"
    __table_args__ = (
        UniqueConstraint("kind", "period", "unit_id", name="uq_report_kind_period_unit"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # monthly | progress | review
    period: str = Field(max_length=16)  # 2024-03 | 2024-Q1 | 2024
    office: str = Field(max_length=100)
    unit_id: int = Field(foreign_key="unit.id")  # the office (a unit of kind office)
    actor: str = Field(max_length=100)
    submitted_at: str = Field(max_length=UTC_TEXT)
    event_seq: int


class DatabaseInfo(SQLModel, table=True):
    """Settings of the database itself: ``purpose`` live | demo | test. Only a demo or test
    database accepts writes dated by ``--now``; a live one's events carry the real time."""

    __tablename__ = "database_info"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class CalendarYear(SQLModel, table=True):
    """A year's holidays and make-up working days as recorded from the State Council's notice
    (国务院办公厅关于YYYY年部分节假日安排的通知), so every process and host sees it."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    holidays: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of dates
    workdays: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of dates
    source: str = Field(sa_column=Column(Text, nullable=False))
    text_sha256: str = Field(max_length=64)
    actor: str = Field(max_length=100)
    recorded_at: str = Field(max_length=UTC_TEXT)
    event_seq: int


class Account(SQLModel, table=True):
    """An account (DESIGN §8): one person's sign-in, role and unit. An inspector's account is
    linked to the person's entry in the inspector directory. Passwords are kept as Argon2id
    hashes only; an account is disabled, never deleted (the log names it)."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=50)
    role: str = Field(max_length=16)  # admin | clerk | inspector | supervisor | auditor | system
    unit_id: int = Field(foreign_key="unit.id", index=True)
    inspector_id: int | None = Field(default=None, foreign_key="inspector.id")
    password_hash: str | None = Field(default=None, max_length=200)
    email: str = Field(default="", max_length=200)
    disabled_at: str | None = Field(default=None, max_length=UTC_TEXT)
    password_changed_at: str | None = Field(default=None, max_length=UTC_TEXT)
    created_at: str = Field(max_length=UTC_TEXT)
    updated_at: str = Field(max_length=UTC_TEXT)


class ApiToken(SQLModel, table=True):
    """A token for scripts (``Authorization: Bearer``): shown once, kept as its SHA-256 (a
    random 256-bit token needs no slow hash); ``lookup`` is its public prefix."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    name: str = Field(max_length=100)
    lookup: str = Field(max_length=16, unique=True)
    digest: str = Field(max_length=64)
    created_at: str = Field(max_length=UTC_TEXT)
    revoked_at: str | None = Field(default=None, max_length=UTC_TEXT)


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie carries a random id, the table its SHA-256, so that a
    logout ends the session for whoever holds the cookie."""

    __tablename__ = "web_session"

    digest: str = Field(max_length=64, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    csrf: str = Field(max_length=64)
    created_at: str = Field(max_length=UTC_TEXT)
    expires_at: str = Field(max_length=UTC_TEXT)
    ended_at: str | None = Field(default=None, max_length=UTC_TEXT)


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, counted per account name and per address for throttling."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
    at: str = Field(max_length=UTC_TEXT, index=True)
