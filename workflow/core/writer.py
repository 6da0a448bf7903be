"""The one write path.

Every change to a task — creating it, a lifecycle trigger, adding a drawn target, recording or
correcting a result, publishing, a follow-up — goes through ``Workflow.write_task``: in one
database transaction it takes the log's append lock, loads the task, checks the expected
version, lets the change run, bumps the version and appends the event. Only ``fire`` changes
``task.state``. The hot path uses the DBAPI connection directly: the ORM is for reading.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

import states
from states import OUTCOMES, PROBLEM_RESULTS, RESULTS, IllegalTransition, TaskFacts
from workflow.core import audit, identity
from workflow.core.clock import Clock, SystemClock, format_utc, parse_time
from workflow.core.config import DeadlineSettings, DrawSettings
from workflow.core.db import RawConnection
from workflow.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    SsjError,
    Step,
    TransitionRefused,
    guard_steps,
)
from workflow.core.logging import get_logger
from workflow.core.refs import inspector_label, local_time

log = get_logger("ssj.engine")

# How far a live write's as-of time (a sweep's moment, taken when it started deciding) may be
# from the real clock: long enough for a slow sweep, far too short to act on another day.
MAX_SKEW = timedelta(minutes=5)


class WorkingDays(Protocol):
    """What the writer needs of the working-day calendar (``deadlines.calendar.WorkCalendar``):
    the rectification date a problem result gets. A protocol, so core does not import deadlines."""

    def add_working_days(self, start: date, n: int) -> date: ...


@dataclass(slots=True)
class _TaskRow:
    id: int
    state: str
    version: int


class TaskTransaction:
    """What a change may do inside the write transaction of one task."""

    def __init__(self, wf: Workflow, cur: Any, task: _TaskRow, at: str) -> None:
        self.wf = wf
        self.cur = cur
        self.task = task
        self.at = at
        self.new_state: str | None = None
        self.event: audit.Head | None = None  # the appended event, once committed
        self.facts: TaskFacts | None = None  # loaded for lifecycle triggers only
        self.role: str | None = None  # set by a change that establishes the actor's role

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        self.cur.execute(self.wf.raw.sql(sql), params)
        return self.cur

    # The task and record rows a change may write: here, so that nothing outside core writes
    # them (tests/workflow/test_layers.py checks the source).

    def insert_records(self, rows: Iterable[tuple[str, str, list[str]]]) -> None:
        """One inspection record per drawn target: (code, name, the group's certificates)."""
        self.cur.executemany(
            self.wf.raw.sql(
                "INSERT INTO inspection_record (task_id, target_code, target_name, inspectors,"
                " group_size, followup_count, replaced) VALUES (?, ?, ?, ?, ?, 0, '[]')"
            ),
            [(self.task.id, c, n, audit.canonical_json(g), len(g)) for c, n, g in rows],
        )

    def set_drawn(self, digest: str) -> None:
        """The draw is stored: its record's digest and the time."""
        self.execute(
            "UPDATE task SET draw_digest = ?, drawn_at = ? WHERE id = ?",
            (digest, self.at, self.task.id),
        )

    def set_confirmed(self) -> None:
        self.execute("UPDATE task SET confirmed_at = ? WHERE id = ?", (self.at, self.task.id))

    def set_commitment(self, commitment: str) -> None:
        self.execute("UPDATE task SET commitment = ? WHERE id = ?", (commitment, self.task.id))

    def set_joined(self, record_id: int, joined: list[Any]) -> None:
        """The tasks whose items a record's visit also carries (joint visits), and the same
        facts indexed by task (table joint_visit: showing a task looks its visits up there)."""
        self.execute(
            "UPDATE inspection_record SET joined = ? WHERE id = ?",
            (audit.canonical_json(joined), record_id),
        )
        self.execute("DELETE FROM joint_visit WHERE record_id = ?", (record_id,))
        for task_id in sorted({int(j["task_id"]) for j in joined}):
            self.execute(
                "INSERT INTO joint_visit (task_id, record_id) VALUES (?, ?)", (task_id, record_id)
            )

    def replace_inspectors(self, record_id: int, group: list[str], replaced: list[str]) -> None:
        self.execute(
            "UPDATE inspection_record SET inspectors = ?, replaced = ? WHERE id = ?",
            (audit.canonical_json(group), audit.canonical_json(replaced), record_id),
        )


def recorder_role(
    actor: str, group: Mapping[str, str | None], clerks: Collection[str]
) -> str | None:
    """Who may record a target's result, the one rule the writer and the results import share.
    With an account bound (every command and request): an inspector account for a target of a
    group its directory entry is in, a clerk account for any target (of its subtree: the
    interfaces scope the task), no one else. Unbound (engine-level use): ``inspector`` for a
    member of the target's group (``group``: certificate → name; by either), ``clerk`` for one
    of the bureau's clerks (config.yaml ``clerks``), None for anyone else."""
    bound = identity.current()
    if bound is not None and bound.role != "system":
        if bound.inspector_cert and bound.inspector_cert in group:
            return "inspector"
        return "clerk" if bound.role == "clerk" else None
    who = actor.strip()
    if who in group or who in {n for n in group.values() if n}:
        return "inspector"
    return "clerk" if who in clerks else None


class Workflow:
    """The engine over one database. Not thread-safe: use one per thread or process."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        *,
        calendar: WorkingDays,
        min_group_size: int = 2,
        rules: DrawSettings | None = None,
        deadlines: DeadlineSettings | None = None,
        timezone: str = "Asia/Shanghai",
        real_clock: Clock | None = None,
        clerks: Iterable[str] = (),
        raw: RawConnection | None = None,
        purpose: str | None = None,
    ) -> None:
        self.engine = engine
        self.clerks = frozenset(c.strip() for c in clerks)  # may record any target's result
        self.clock = clock or SystemClock()
        # The real clock; tests of a live database pass the same FixedClock as both.
        self.real_clock = real_clock or SystemClock()
        self._purpose: str | None = purpose  # known to the caller already, else read once
        self.min_group_size = min_group_size
        self.rules = rules or DrawSettings()
        self.calendar = calendar
        self.deadlines = deadlines or DeadlineSettings()
        self.timezone = ZoneInfo(timezone)
        self.raw = RawConnection(engine) if raw is None else raw  # a borrowed one: not returned
        # Each task's version after this workflow's last committed write of it (write_task):
        # what the web answers as the ETag, without reading the task again.
        self.versions: dict[int, int] = {}

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> Workflow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def purpose(self) -> str:
        """live | demo | test (workflow/purpose.py), read once."""
        if self._purpose is None:
            from workflow.core import purpose

            self._purpose = purpose.read_raw(self.raw)
        return self._purpose

    def forget_purpose(self) -> None:
        """After the purpose was recorded (``ssj demo`` on an empty database)."""
        self._purpose = None

    def clock_is_real(self) -> bool:
        return self.clock is self.real_clock or isinstance(self.clock, SystemClock)

    def check_time(self, as_of: datetime | None = None) -> None:
        """Refuse a write on a live database at any time but the real clock's: a fixed clock,
        or an explicit moment (a sweep's ``now``) more than MAX_SKEW from the real time. One
        event dated ahead of the clock would otherwise date the deadline steps early and make
        the real sweep send nothing; a demo or test database accepts any time."""
        if self.purpose != "live":
            return
        real = self.real_clock.now()
        if not self.clock_is_real():
            at = self.clock.now()
        elif as_of is not None and abs(as_of - real) > MAX_SKEW:
            at = as_of
        else:
            return

        def local(t: datetime) -> str:
            return t.astimezone(self.timezone).strftime("%Y-%m-%d %H:%M")

        raise InvalidInput(
            f"正式库（live）只按真实时间写入：拒绝按 {local(at)} 写入"
            f"（真实时间 {local(real)}，北京时间）。指定时刻在正式库上只演练、不写入；"
            "要按指定时刻写入，请使用演示库或测试库",
            steps=[Step("init", {"purpose": "demo|test"})],
        )

    def event_time(self, as_of: datetime | None = None) -> str:
        """The time stamped on an event (every writer asks here, inside its transaction):
        the real clock on a live database (after ``check_time``), the workflow's clock (or the
        given moment) on a demo or test database."""
        self.check_time(as_of)
        if self.purpose == "live":
            return format_utc(self.real_clock.now())
        return format_utc(as_of or self.clock.now())

    def _today(self, at: str) -> date:
        """The local date of a stored event time."""
        return parse_time(at).astimezone(self.timezone).date()

    def _is_locked(self, e: Exception) -> bool:
        return "locked" in str(e) or "lock timeout" in str(e)

    # ----------------------------------------------------------------------------------------
    # The write path

    # The task and, for lifecycle triggers, its guard facts in one round trip (measured faster
    # than separate reads; folding the chain head in too was slower: SQLite materializes it).
    _LOAD = "SELECT state, version FROM task WHERE id = ?"
    _PROBLEMS = ", ".join(f"'{r}'" for r in sorted(PROBLEM_RESULTS))
    _LOAD_WITH_FACTS = (
        "SELECT t.state, t.version, count(r.id), min(r.group_size), count(r.result),"
        " count(r.published_at),"
        f" sum(CASE WHEN r.result IN ({_PROBLEMS}) THEN 1 ELSE 0 END),"
        f" sum(CASE WHEN r.result IN ({_PROBLEMS}) AND r.followup_count > 0 THEN 1 ELSE 0 END),"
        " t.commitment, t.draw_digest"
        " FROM task t LEFT JOIN inspection_record r ON r.task_id = t.id"
        " WHERE t.id = ? GROUP BY t.id, t.state, t.version, t.commitment, t.draw_digest"
    )

    def _facts(self, row: tuple[Any, ...]) -> TaskFacts:
        return TaskFacts(
            records=row[2],
            smallest_group=row[3] or 0,
            with_result=row[4],
            published=row[5],
            problems=row[6] or 0,
            problems_followed_up=row[7] or 0,
            min_group_size=self.min_group_size,
            committed=row[8] is not None,
            draw_recorded=row[9] is not None,
        )

    def _decide(self, tx: TaskTransaction, trigger: str, facts: TaskFacts) -> None:
        """Ask the lifecycle; set ``tx.new_state`` or refuse with the guard's reason."""
        check = check_trigger(tx.task.id, tx.task.state, trigger, facts)
        if check.refused is not None:
            raise check.refused
        tx.new_state = check.dest

    def decide_trigger(self, tx: TaskTransaction, trigger: str) -> None:
        """As ``_decide``, on facts read inside the transaction after ``change`` wrote them."""
        row = tx.execute(self._LOAD_WITH_FACTS, (tx.task.id,)).fetchone()
        self._decide(tx, trigger, self._facts(row))

    def write_task(
        self,
        task_id: int,
        expected_version: int | None,
        *,
        actor: str,
        role: str,
        kind: str,
        reason: str | None,
        payload: dict[str, Any],
        change: Callable[[TaskTransaction], None],
        with_facts: bool = False,
        then: Callable[[TaskTransaction], None] | None = None,
    ) -> TaskTransaction:
        """THE write path. One transaction: take the append lock, apply the change (``apply_change``),
        then ``then`` (changes to other tasks that follow from this one, each through ``apply_change``
        with its own event, after this one's), commit; or roll back all. A plain function rather
        than a context manager: this is the hot path (PERFORMANCE.md)."""
        conn = self.raw.dbapi
        cur = conn.cursor()
        try:
            cur.execute(self.raw.begin_write)
            tx = self.apply_change(
                cur,
                task_id,
                expected_version,
                actor=actor,
                role=role,
                kind=kind,
                reason=reason,
                payload=payload,
                change=change,
                with_facts=with_facts,
            )
            if then is not None:
                then(tx)
            conn.commit()
            self.versions[task_id] = tx.task.version + 1
            return tx
        except BaseException as e:
            conn.rollback()
            if isinstance(e, self._operational_errors()) and self._is_locked(e):
                raise Conflict(f"数据库正忙（其他写入未结束），请稍后重试：{e}") from e
            raise
        finally:
            cur.close()

    def apply_change(
        self,
        cur: Any,
        task_id: int,
        expected_version: int | None,
        *,
        actor: str,
        role: str,
        kind: str,
        reason: str | None,
        payload: dict[str, Any],
        change: Callable[[TaskTransaction], None],
        with_facts: bool = False,
    ) -> TaskTransaction:
        """One task change inside a write transaction the caller holds (and commits): load the
        task, check the expected version, let ``change`` run (it may refuse by raising, and may
        set ``tx.new_state``), bump the version and append the event. Plan publication applies
        several in one transaction; everything else goes through ``write_task``."""
        sql = self.raw.sql
        cur.execute(sql(self._LOAD_WITH_FACTS if with_facts else self._LOAD), (task_id,))
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"任务 {task_id} 不存在")
        task = _TaskRow(task_id, row[0], row[1])
        if expected_version is not None and task.version != expected_version:
            raise Conflict(
                f"任务 {task_id} 已被他人修改：期望版本 {expected_version}，"
                f"当前版本 {task.version}（状态 {task.state}）；请重新读取后再操作"
            )
        head = audit.read_head(cur, sql)
        tx = TaskTransaction(
            self, cur, task, head.stamp(self.event_time())
        )  # _now: the one clock check
        if with_facts:
            tx.facts = self._facts(row)
        change(tx)
        to_state = tx.new_state or task.state
        cur.execute(
            sql(
                "UPDATE task SET state = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?"
            ),
            (to_state, task.version + 1, tx.at, task_id, task.version),
        )
        if cur.rowcount != 1:  # only a writer bypassing the append lock could do this
            raise Conflict(f"任务 {task_id} 在写入时被并发修改")
        tx.event = audit.append(
            cur,
            sql,
            head,
            at=tx.at,
            actor=actor,
            role=tx.role or role,
            task_id=task_id,
            kind=kind,
            from_state=task.state,
            to_state=to_state,
            reason=reason,
            payload=payload,
        )
        return tx

    # The columns a new task row takes (the rest: state, version and times, set here).
    TASK_COLUMNS = (
        "plan_id", "task_no", "name", "task_type", "ratio", "items", "scope",
        "initiating_office", "joining_offices", "months", "item_codes", "filters",
        "stratum_ratios", "inspector_field",
    )  # fmt: skip

    def insert_task(
        self,
        cur: Any,
        values: dict[str, Any],
        *,
        actor: str,
        role: str,
        reason: str | None,
        payload: dict[str, Any],
    ) -> int:
        """A new task in its initial state and its ``task_created`` event, inside the caller's
        write transaction (plan import creates many in one). ``values``: TASK_COLUMNS."""
        if set(values) != set(self.TASK_COLUMNS):
            raise ValueError(f"task columns: {sorted(set(values) ^ set(self.TASK_COLUMNS))}")
        sql = self.raw.sql
        head = audit.read_head(cur, sql)
        at = head.stamp(self.event_time())
        names = ", ".join(self.TASK_COLUMNS)
        marks = ", ".join("?" for _ in self.TASK_COLUMNS)
        # A task belongs to its plan's bureau.
        cur.execute(sql("SELECT unit_id FROM plan WHERE id = ?"), (values["plan_id"],))
        unit_id = cur.fetchone()[0]
        cur.execute(
            sql(
                f"INSERT INTO task ({names}, unit_id, state, version, created_at, updated_at)"
                f" VALUES ({marks}, ?, ?, 1, ?, ?)"
            ),
            (*(values[c] for c in self.TASK_COLUMNS), unit_id, states.INITIAL_STATE, at, at),
        )
        cur.execute(
            sql("SELECT id FROM task WHERE plan_id = ? AND task_no = ?"),
            (values["plan_id"], values["task_no"]),
        )
        task_id: int = cur.fetchone()[0]
        audit.append(
            cur,
            sql,
            head,
            at=at,
            actor=actor,
            role=role,
            task_id=task_id,
            kind="task_created",
            to_state=states.INITIAL_STATE,
            reason=reason,
            payload=payload,
        )
        return task_id

    def _operational_errors(self) -> tuple[type[Exception], ...]:
        import sqlite3

        import psycopg

        return (sqlite3.OperationalError, psycopg.errors.LockNotAvailable)

    def fire(
        self,
        task_id: int,
        trigger: str,
        *,
        actor: str,
        role: str = "clerk",
        reason: str | None = None,
        data: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> tuple[str, str, int]:
        """Apply a lifecycle trigger; returns (from_state, to_state, event seq)."""
        require_actor(actor, role)
        if trigger == "draw":
            raise draw_by_program(task_id)
        payload = {"trigger": trigger, "data": data or {}}

        def change(tx: TaskTransaction) -> None:
            assert tx.facts is not None
            self._decide(tx, trigger, tx.facts)

        tx = self.write_task(
            task_id,
            expected_version,
            actor=actor,
            role=role,
            kind="transition",
            reason=reason,
            payload=payload,
            with_facts=True,
            change=change,
        )
        assert tx.event is not None and tx.new_state is not None
        log.debug("transition", task=task_id, trigger=trigger, to=tx.new_state, seq=tx.event.seq)
        return tx.task.state, tx.new_state, tx.event.seq

    # ----------------------------------------------------------------------------------------
    # Inspection records

    def _record(self, tx: TaskTransaction, target_code: str) -> tuple[Any, ...]:
        row: tuple[Any, ...] | None = tx.execute(
            "SELECT id, result, result_note, published_at, followup_count FROM inspection_record"
            " WHERE task_id = ? AND target_code = ?",
            (tx.task.id, target_code),
        ).fetchone()
        if row is None:
            raise NotFound(f"任务 {tx.task.id} 没有检查对象 {target_code}")
        return row

    def set_result(
        self,
        task_id: int,
        target_code: str,
        result: str,
        *,
        actor: str,
        role: str | None = None,
        note: str | None = None,
        reason: str | None = None,
        rectify_by: date | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Record or correct an unpublished result; the event holds the values before and
        after. A problem (or a refusal) gets its rectification date: ``rectify_by``, or the
        configured number of working days from today (DESIGN §3). The actor must be in the
        target's group or a listed clerk."""
        require_actor(actor, role)
        payload, change = self.result_change(
            task_id,
            target_code,
            result,
            actor=actor,
            note=note,
            reason=reason,
            rectify_by=rectify_by,
            role=role,
        )
        self.write_task(
            task_id,
            expected_version,
            actor=actor,
            role=role or "inspector",  # the recorder check names the role found
            kind="result_set",
            reason=reason,
            payload=payload,
            change=change,
        )
        return payload

    def _due(self, result: str, rectify_by: date | None) -> str | None:
        """The rectification date a result gets (None when it needs none)."""
        if result not in RESULTS:
            raise InvalidInput(
                f"检查结果 {result!r} 无效：应为 "
                + "、".join(f"{k}（{v}）" for k, v in RESULTS.items()),
                field="result",
            )
        today = self.clock.now().astimezone(self.timezone).date()
        if result not in PROBLEM_RESULTS:
            if rectify_by is not None:
                raise InvalidInput(
                    f"结果 {result} 无需整改：只有 problem 或 refused 可以设整改期限",
                    field="rectify_by",
                )
            return None
        if rectify_by is not None:
            if rectify_by < today:
                raise InvalidInput(f"整改期限 {rectify_by} 早于今天 {today}", field="rectify_by")
            return rectify_by.isoformat()
        days = self.deadlines.rectify_within_working_days
        return self.calendar.add_working_days(today, days).isoformat()

    def result_change(
        self,
        task_id: int,
        target_code: str,
        result: str,
        *,
        actor: str,
        note: str | None = None,
        reason: str | None = None,
        rectify_by: date | None = None,
        role: str | None = None,
    ) -> tuple[dict[str, Any], Callable[[TaskTransaction], None]]:
        """The payload and the change of one ``result_set`` event (set_result, result import)."""
        due = self._due(result, rectify_by)
        payload: dict[str, Any] = {"target_code": target_code}
        if due is not None:
            payload["rectify_by"] = due

        def change(tx: TaskTransaction) -> None:
            if not states.allows("set_result", tx.task.state):
                raise InvalidInput(
                    f"任务 {task_id} 当前状态为 {tx.task.state}：只能在 drawn 或 inspected 状态"
                    "录入或更正检查结果（已公示的结果须经更正程序）",
                    steps=[Step("result.correct", {"task": task_id, "code": target_code})],
                    task=task_id,
                    state=tx.task.state,
                )
            rec_id, before, before_note, published_at, _ = self._record(tx, target_code)
            if published_at is not None:
                raise InvalidInput(
                    f"任务 {task_id} 检查对象 {target_code} 的结果已公示，不得直接改动：请发布更正",
                    steps=[Step("result.correct", {"task": task_id, "code": target_code})],
                    task=task_id,
                    value=target_code,
                )
            self._require_recorder(tx, target_code, actor, role)
            if before is not None and reason is None:
                raise InvalidInput(
                    f"任务 {task_id} 检查对象 {target_code} 已有结果 {before}：更正结果须说明原因",
                    needs="reason",
                    task=task_id,
                    value=target_code,
                )
            if before is not None and before == result and before_note == note:
                raise InvalidInput(f"检查对象 {target_code} 的结果已经是 {result}，无需更正")
            payload["before"] = {"result": before, "note": before_note}
            payload["after"] = {"result": result, "note": note}
            tx.execute(
                "UPDATE inspection_record SET result = ?, result_note = ?, result_at = ?,"
                " rectify_by = ? WHERE id = ?",
                (result, note, tx.at, due, rec_id),
            )

        return payload, change

    def _require_recorder(
        self, tx: TaskTransaction, target_code: str, actor: str, role: str | None = None
    ) -> None:
        """Results are recorded by an inspector of the target's group (by name or certificate)
        or by one of the bureau's clerks (config.yaml ``clerks``); anyone else is refused.
        Without an explicit ``role`` the event records the one found: inspector or clerk."""
        found, members = self._recorder_role(tx, target_code, actor)
        if found is not None:
            if role is None:
                tx.role = found
            return
        raise InvalidInput(
            f"{actor.strip()} 不是检查对象 {target_code} 的检查组成员（{members}），"
            "也不是录入员：不能录入或更正其检查结果"
        )

    def _recorder_role(
        self, tx: TaskTransaction, target_code: str, actor: str
    ) -> tuple[str | None, str]:
        """The role :func:`recorder_role` finds for ``actor`` on this target, and the group as
        people read it."""
        bound = identity.current()
        if bound is not None and bound.role == "clerk" and not bound.inspector_cert:
            # A clerk account records any target's result, whatever the group: two reads
            # fewer inside the write transaction, which holds the log's append lock.
            return "clerk", ""
        row = tx.execute(
            "SELECT inspectors FROM inspection_record WHERE task_id = ? AND target_code = ?",
            (tx.task.id, target_code),
        ).fetchone()
        certs: list[str] = json.loads(row[0]) if row else []
        names: dict[str, str] = {}
        if certs:
            names = dict(
                tx.execute(
                    "SELECT cert, name FROM inspector WHERE cert IN ("
                    + ", ".join("?" for _ in certs)
                    + ")",
                    tuple(certs),
                ).fetchall()
            )
        group = {c: names.get(c) for c in certs}
        members = "、".join(inspector_label(c, n) for c, n in group.items()) or "无"
        return recorder_role(actor, group, self.clerks), members

    def correct_result(
        self,
        task_id: int,
        target_code: str,
        result: str,
        *,
        actor: str,
        reason: str,
        category: str,
        note: str | None = None,
        rectify_by: date | None = None,
        place: str | None = None,
        role: str = "clerk",
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """更正: change a published result by an explicit correction with a reason and a
        category; the correction is itself published (its own row, date and place) and the
        record counts it. Event ``result_corrected`` holds the values before and after."""
        require_actor(actor, role)
        if not reason or not reason.strip():
            raise InvalidInput("更正已公示的结果须说明原因", needs="reason", task=task_id)
        cat = correction_category(category)
        due = self._due(result, rectify_by)
        today = self.clock.now().astimezone(self.timezone).date().isoformat()
        payload: dict[str, Any] = {"target_code": target_code, "category": cat}

        def change(tx: TaskTransaction) -> None:
            rec_id, before, before_note, published_at, _ = self._record(tx, target_code)
            if published_at is None:
                raise InvalidInput(
                    f"任务 {task_id} 检查对象 {target_code} 的结果尚未公示：直接录入新结果并说明原因即可更正",
                    steps=[
                        Step("result.set", {"task": task_id, "code": target_code, "reason": "原因"})
                    ],
                    task=task_id,
                    value=target_code,
                )
            if not states.allows("correct_result", tx.task.state):
                raise InvalidInput(
                    f"任务 {task_id} 当前状态为 {tx.task.state}：已公示的结果只能在"
                    f" {'、'.join(sorted(states.RECORD_ACTIONS['correct_result']))} 状态更正"
                )
            self._require_recorder(tx, target_code, actor, role)
            if before == result and before_note == note:
                raise InvalidInput(f"检查对象 {target_code} 的结果已经是 {result}，无需更正")
            row = tx.execute(
                "SELECT published_place, correction_count FROM inspection_record WHERE id = ?",
                (rec_id,),
            ).fetchone()
            where = (place or "").strip() or row[0]
            payload["before"] = {"result": before, "note": before_note}
            payload["after"] = {"result": result, "note": note}
            payload["rectify_by"] = due
            payload["published_on"] = today
            payload["place"] = where
            seq = audit.read_head(tx.cur, self.raw.sql).seq + 1  # this change's event
            tx.execute(
                "INSERT INTO result_correction (record_id, before_result, before_note,"
                " after_result, after_note, reason, category, actor, corrected_at, published_on,"
                " published_place, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rec_id,
                    before,
                    before_note,
                    result,
                    note,
                    reason,
                    cat,
                    actor,
                    tx.at,
                    today,
                    where,
                    seq,
                ),
            )
            tx.execute(
                "UPDATE inspection_record SET result = ?, result_note = ?, result_at = ?,"
                " rectify_by = ?, correction_count = ? WHERE id = ?",
                (result, note, tx.at, due, row[1] + 1, rec_id),
            )

        self.write_task(
            task_id,
            expected_version,
            actor=actor,
            role=role,
            kind="result_corrected",
            reason=reason,
            payload=payload,
            change=change,
        )
        return payload

    def change_rectify_by(
        self,
        task_id: int,
        target_code: str,
        day: date,
        *,
        actor: str,
        reason: str,
        role: str = "clerk",
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Move a problem's rectification date on its own, with a reason (event
        ``rectify_by_changed``); the result stays as it is, published or not."""
        require_actor(actor, role)
        if not reason or not reason.strip():
            raise InvalidInput("变更整改期限须说明原因", needs="reason", task=task_id)
        today = self.clock.now().astimezone(self.timezone).date()
        if day < today:
            raise InvalidInput(f"整改期限 {day} 早于今天 {today}", field="rectify_by")
        payload: dict[str, Any] = {"target_code": target_code, "after": day.isoformat()}

        def change(tx: TaskTransaction) -> None:
            if not states.allows("change_rectify_by", tx.task.state):
                raise InvalidInput(
                    f"任务 {task_id} 当前状态为 {tx.task.state}：不能变更整改期限"
                    f"（{'、'.join(sorted(states.RECORD_ACTIONS['change_rectify_by']))} 状态可以）"
                )
            rec_id, result, _, _, _ = self._record(tx, target_code)
            if result not in PROBLEM_RESULTS:
                raise InvalidInput(
                    f"检查对象 {target_code} 的结果为 {result or '未录入'}：只有 problem 或 refused 有整改期限"
                )
            self._require_recorder(tx, target_code, actor, role)
            before = tx.execute(
                "SELECT rectify_by FROM inspection_record WHERE id = ?", (rec_id,)
            ).fetchone()[0]
            if before == payload["after"]:
                raise InvalidInput(f"检查对象 {target_code} 的整改期限已经是 {before}")
            payload["before"] = before
            tx.execute(
                "UPDATE inspection_record SET rectify_by = ? WHERE id = ?",
                (payload["after"], rec_id),
            )

        self.write_task(
            task_id,
            expected_version,
            actor=actor,
            role=role,
            kind="rectify_by_changed",
            reason=reason,
            payload=payload,
            change=change,
        )
        return payload

    def publish(
        self,
        task_id: int,
        *,
        place: str,
        actor: str,
        role: str = "clerk",
        targets: list[str] | None = None,
        published_on: date | None = None,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> list[str]:
        """Record the publication (date and place) of results; all unpublished ones by default.
        ``published_on``: the local date the user states the publication happened (default
        today), stored beside ``published_at``, the real time of the event; never in the future."""
        require_actor(actor, role)
        if not place.strip():
            raise InvalidInput(
                "公示位置不能为空（如 河北人社网“行政执法信息公示专栏”的网址）", field="place"
            )
        payload: dict[str, Any] = {"place": place}

        def change(tx: TaskTransaction) -> None:
            if not states.allows("publish", tx.task.state):
                raise InvalidInput(
                    f"任务 {task_id} 当前状态为 {tx.task.state}：只有 inspected 状态可以公示结果"
                )
            rows = tx.execute(
                "SELECT target_code, result, published_at FROM inspection_record"
                " WHERE task_id = ? ORDER BY target_code",
                (task_id,),
            ).fetchall()
            known = {r[0]: r for r in rows}
            wanted = targets or [r[0] for r in rows if r[2] is None]
            for code in wanted:
                if code not in known:
                    raise NotFound(f"任务 {task_id} 没有检查对象 {code}")
                if known[code][2] is not None:
                    when = local_time(known[code][2], str(self.timezone))
                    raise InvalidInput(f"检查对象 {code} 的结果已于 {when} 公示")
                if known[code][1] is None:
                    raise InvalidInput(f"检查对象 {code} 尚无检查结果，不能公示")
            if not wanted:
                raise InvalidInput(f"任务 {task_id} 没有待公示的结果")
            on = _stated(published_on, self._today(tx.at), "公示日期", "date")
            payload["targets"] = sorted(wanted)
            payload["published_at"] = tx.at
            payload["published_on"] = on
            for code in wanted:
                tx.execute(
                    "UPDATE inspection_record SET published_at = ?, published_on = ?,"
                    " published_place = ? WHERE task_id = ? AND target_code = ?",
                    (tx.at, on, place, task_id, code),
                )

        self.write_task(
            task_id,
            expected_version,
            actor=actor,
            role=role,
            kind="results_published",
            reason=reason,
            payload=payload,
            change=change,
        )
        return list(payload["targets"])

    def add_followup(
        self,
        task_id: int,
        target_code: str,
        outcome: str,
        *,
        actor: str,
        role: str | None = None,
        on: date | None = None,
        note: str = "",
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Add a follow-up outcome to a problem or refused record."""
        require_actor(actor, role)
        if outcome not in OUTCOMES:
            raise InvalidInput(
                f"后续处置 {outcome!r} 无效：应为 "
                + "、".join(f"{k}（{v}）" for k, v in OUTCOMES.items()),
                field="outcome",
            )
        payload: dict[str, Any] = {"target_code": target_code, "outcome": outcome, "note": note}

        def change(tx: TaskTransaction) -> None:
            if not states.allows("add_followup", tx.task.state):
                raise InvalidInput(
                    f"任务 {task_id} 当前状态为 {tx.task.state}：只能在 inspected 或 publicized 状态登记后续处置"
                )
            rec_id, result, _, _, followups = self._record(tx, target_code)
            if result not in PROBLEM_RESULTS:
                raise InvalidInput(
                    f"检查对象 {target_code} 的结果为 {result or '未录入'}：只有 problem 或 refused 需要后续处置"
                )
            if role is None:  # who registers follow-ups is not restricted yet (accounts: #11)
                tx.role = self._recorder_role(tx, target_code, actor)[0] or "clerk"
            outcome_date = _stated(on, self._today(tx.at), "处置日期", "date")
            payload["date"] = outcome_date
            tx.execute(
                "INSERT INTO followup (record_id, outcome, outcome_date, note, actor, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (rec_id, outcome, outcome_date, note, actor, tx.at),
            )
            tx.execute(
                "UPDATE inspection_record SET followup_count = ? WHERE id = ?",
                (followups + 1, rec_id),
            )

        self.write_task(
            task_id,
            expected_version,
            actor=actor,
            role=role or "clerk",  # the change names the role found
            kind="followup_added",
            reason=reason,
            payload=payload,
            change=change,
        )

    # ----------------------------------------------------------------------------------------
    # Reading

    def head(self) -> audit.Head:
        with self.raw.read() as cur:
            return audit.read_head(cur, self.raw.sql)

    def facts(self, task_id: int) -> tuple[str, TaskFacts]:
        """A task's state and the facts its guards read (what may move it on now)."""
        with self.raw.read() as cur:
            cur.execute(self.raw.sql(self._LOAD_WITH_FACTS), (task_id,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"任务 {task_id} 不存在")
        return row[0], self._facts(row)

    def trigger_checks(self, task_id: int) -> tuple[str, list[TriggerCheck]]:
        """A task's state and, for each trigger its state declares, whether ``fire`` would
        take it now and if not why (the refusal ``fire`` would raise), on the facts its guards
        read (one query). The role matrix is the caller's to ask (``permissions``)."""
        state, facts = self.facts(task_id)
        return state, [
            # The draw is the draw program's (``fire`` refuses it whatever the guards say).
            TriggerCheck(t, None, draw_by_program(task_id))
            if t == "draw"
            else check_trigger(task_id, state, t, facts)
            for t in states.allowed_triggers(state)
        ]

    def task_state(self, task_id: int) -> tuple[str, int]:
        with self.raw.read() as cur:
            cur.execute(self.raw.sql("SELECT state, version FROM task WHERE id = ?"), (task_id,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"任务 {task_id} 不存在")
        return row[0], row[1]


@dataclass(frozen=True, slots=True)
class TriggerCheck:
    """Whether a trigger would move a task now: where to (``dest``), or the error ``fire``
    would raise (``refused``: its reason, and the steps that would let it pass)."""

    trigger: str
    dest: str | None
    refused: SsjError | None

    @property
    def reason(self) -> str | None:
        """Why not, as the guard says it (None: it would pass)."""
        if isinstance(self.refused, TransitionRefused):
            return self.refused.reason
        return self.refused.message if self.refused is not None else None


def draw_by_program(task_id: int) -> InvalidInput:
    """``fire(draw)``'s refusal: the draw is made by the draw program, never fired."""
    return InvalidInput(
        f"任务 {task_id}：抽取只能由抽取程序执行"
        "（按已公布的承诺值随机抽取，并生成可验证的抽取记录）",
        steps=[Step("draw.run", {"task": task_id})],
        task=task_id,
    )


def check_trigger(task_id: int, state: str, trigger: str, facts: TaskFacts) -> TriggerCheck:
    """The lifecycle's answer to ``trigger`` on a task in ``state`` with ``facts``: the one
    judgement the writer acts on (``fire``, the draw) and the pages show before anyone
    presses."""
    try:
        decision = states.decide(state, trigger, facts)
    except IllegalTransition as e:
        allowed = trigger in states.allowed_triggers(state)
        failed = states.failed_guards(state, trigger, facts) if allowed else []
        refused = TransitionRefused(
            task_id,
            state,
            trigger,
            e.reason,
            states.allowed_triggers(state),
            steps=guard_steps(task_id, failed),
        )
        return TriggerCheck(trigger, None, refused)
    return TriggerCheck(trigger, decision.dest, None)


# 更正 categories (result corrections): code → label; either is accepted.
CORRECTION_CATEGORIES: dict[str, str] = {
    "entry_error": "录入错误",
    "review": "复核改变",
    "other": "其他",
}


def correction_category(value: str) -> str:
    v = value.strip()
    for code, label in CORRECTION_CATEGORIES.items():
        if v in (code, label):
            return code
    raise InvalidInput(
        f"更正类别 {value!r} 无效：应为 "
        + "、".join(f"{k}（{v}）" for k, v in CORRECTION_CATEGORIES.items()),
        field="category",
        value=value,
    )


ROLES = {
    "admin": "系统管理员",
    "clerk": "经办人员",
    "inspector": "执法检查人员",
    "supervisor": "监督人员",
    "auditor": "审计人员",
    "system": "系统",
}


def _stated(day: date | None, today: date, what: str, field: str) -> str:
    """A date the user states for a past fact (a publication, a follow-up): today by default,
    never after today (local date of the event's real time)."""
    if day is None:
        return today.isoformat()
    if day > today:
        raise InvalidInput(f"{what} {day} 晚于今天 {today}：只能登记已经发生的事", field=field)
    return day.isoformat()


def require_actor(actor: str, role: str | None = None) -> None:
    if not actor or not actor.strip():
        raise InvalidInput("必须指明操作人", needs="actor")
    if role is not None and role not in ROLES:
        raise InvalidInput(
            f"角色 {role!r} 无效：应为 " + "、".join(f"{k}（{v}）" for k, v in ROLES.items())
        )
