"""The one write path.

Every change to a task — creating it, a lifecycle trigger, adding a drawn target, recording or
correcting a result, publishing, a follow-up — goes through ``Workflow._task_write``: in one
database transaction it takes the log's append lock, loads the task, checks the expected
version, lets the change run, bumps the version and appends the event. Only ``fire`` changes
``task.state``. The hot path uses the DBAPI connection directly: the ORM is for reading.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

import states
from states import IllegalTransition, TaskFacts
from states._facts import OUTCOMES, PROBLEM_RESULTS, RESULTS
from workflow import audit, plans
from workflow.calendar import WorkCalendar
from workflow.clock import Clock, SystemClock, format_utc
from workflow.config import DeadlineSettings, DrawSettings
from workflow.db import RawConnection
from workflow.errors import Conflict, InvalidInput, NotFound, TransitionRefused
from workflow.logging import get_logger

log = get_logger("ssj.engine")


@dataclass(slots=True)
class _TaskRow:
    id: int
    state: str
    version: int


class _TaskTx:
    """What a change may do inside the write transaction of one task."""

    def __init__(self, wf: Workflow, cur: Any, task: _TaskRow, at: str) -> None:
        self.wf = wf
        self.cur = cur
        self.task = task
        self.at = at
        self.new_state: str | None = None
        self.event: audit.Head | None = None  # the appended event, once committed
        self.facts: TaskFacts | None = None  # loaded for lifecycle triggers only

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        self.cur.execute(self.wf.raw.sql(sql), params)
        return self.cur


class Workflow:
    """The engine over one database. Not thread-safe: use one per thread or process."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        min_group_size: int = 2,
        rules: DrawSettings | None = None,
        calendar: WorkCalendar | None = None,
        deadlines: DeadlineSettings | None = None,
        timezone: str = "Asia/Shanghai",
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.min_group_size = min_group_size
        self.rules = rules or DrawSettings()
        self.calendar = calendar or WorkCalendar()
        self.deadlines = deadlines or DeadlineSettings()
        self.timezone = ZoneInfo(timezone)
        self.raw = RawConnection(engine)

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> Workflow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> str:
        return format_utc(self.clock.now())

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

    def _decide(self, tx: _TaskTx, trigger: str, facts: TaskFacts) -> None:
        """Ask the lifecycle; set ``tx.new_state`` or refuse with the guard's reason."""
        try:
            decision = states.decide(tx.task.state, trigger, facts)
        except IllegalTransition as e:
            raise TransitionRefused(
                tx.task.id,
                tx.task.state,
                trigger,
                e.reason,
                states.allowed_triggers(tx.task.state),
            ) from None
        tx.new_state = decision.dest

    def _decide_now(self, tx: _TaskTx, trigger: str) -> None:
        """As ``_decide``, on facts read inside the transaction after ``change`` wrote them."""
        row = tx.execute(self._LOAD_WITH_FACTS, (tx.task.id,)).fetchone()
        self._decide(tx, trigger, self._facts(row))

    def _task_write(
        self,
        task_id: int,
        expected_version: int | None,
        *,
        actor: str,
        role: str,
        kind: str,
        reason: str | None,
        payload: dict[str, Any],
        change: Callable[[_TaskTx], None],
        with_facts: bool = False,
    ) -> _TaskTx:
        """THE write path. One transaction: take the append lock, apply the change (``_apply``),
        commit; or roll back all. A plain function rather than a context manager: this is the
        hot path (PERFORMANCE.md)."""
        conn = self.raw.dbapi
        cur = conn.cursor()
        try:
            cur.execute(self.raw.begin_write)
            tx = self._apply(
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
            conn.commit()
            return tx
        except BaseException as e:
            conn.rollback()
            if isinstance(e, self._operational_errors()) and self._is_locked(e):
                raise Conflict(f"数据库正忙（其他写入未结束），请稍后重试：{e}") from e
            raise
        finally:
            cur.close()

    def _apply(
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
        change: Callable[[_TaskTx], None],
        with_facts: bool = False,
    ) -> _TaskTx:
        """One task change inside a write transaction the caller holds (and commits): load the
        task, check the expected version, let ``change`` run (it may refuse by raising, and may
        set ``tx.new_state``), bump the version and append the event. Plan publication applies
        several in one transaction; everything else goes through ``_task_write``."""
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
        tx = _TaskTx(self, cur, task, head.stamp(self._now()))
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
            role=role,
            task_id=task_id,
            kind=kind,
            from_state=task.state,
            to_state=to_state,
            reason=reason,
            payload=payload,
        )
        return tx

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
        _require_actor(actor, role)
        if trigger == "draw":
            raise InvalidInput(
                f"任务 {task_id}：draw 只能通过 ssj draw {task_id} 执行"
                "（按已公布的承诺值随机抽取，并生成可验证的抽取记录）"
            )
        payload = {"trigger": trigger, "data": data or {}}

        def change(tx: _TaskTx) -> None:
            assert tx.facts is not None
            self._decide(tx, trigger, tx.facts)

        tx = self._task_write(
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
    # Plans and tasks

    def create_plan(
        self, plan_no: str, *, unit: str, actor: str, name: str | None = None, role: str = "clerk"
    ) -> int:
        _require_actor(actor, role)
        with self.raw.write() as cur:
            return plans.insert_plan(
                self, cur, plan_no, unit=unit, actor=actor, role=role, name=name
            )

    def create_task(
        self,
        plan_no: str,
        *,
        name: str,
        actor: str,
        role: str = "clerk",
        reason: str | None = None,
        **spec: Any,
    ) -> int:
        """Create a task in ``planned`` (event ``task_created``); ``spec``: the fields of
        ``plans.TaskSpec`` (task_no, task_type, ratio, items, item_codes, scope, …)."""
        _require_actor(actor, role)
        try:
            task = plans.TaskSpec(name=name, **spec)
        except TypeError as e:
            raise InvalidInput(f"任务字段无效：{e}") from None
        with self.raw.write() as cur:
            task_id = plans.insert_task(
                self, cur, plan_no, task, actor=actor, role=role, reason=reason, rules=self.rules
            )
        log.debug("task_created", task=task_id, plan=plan_no, task_no=task.task_no)
        return task_id

    def publish_plan(
        self, plan_no: str, *, actor: str, role: str = "clerk"
    ) -> list[dict[str, Any]]:
        """Publish the plan with each new task's draw commitment (one transaction)."""
        _require_actor(actor, role)
        with self.raw.write() as cur:
            return plans.publish_plan(self, cur, plan_no, actor=actor, role=role)

    # ----------------------------------------------------------------------------------------
    # Inspection records

    def _record(self, tx: _TaskTx, target_code: str) -> tuple[Any, ...]:
        row = tx.execute(
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
        role: str = "inspector",
        note: str | None = None,
        reason: str | None = None,
        rectify_by: date | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Record or correct a result; the event holds the values before and after. A problem
        (or a refusal) gets its rectification date: ``rectify_by``, or the configured number
        of working days from today (DESIGN §3)."""
        _require_actor(actor, role)
        if result not in RESULTS:
            raise InvalidInput(
                f"检查结果 {result!r} 无效：应为 "
                + "、".join(f"{k}（{v}）" for k, v in RESULTS.items())
            )
        today = self.clock.now().astimezone(self.timezone).date()
        if result not in PROBLEM_RESULTS:
            if rectify_by is not None:
                raise InvalidInput(
                    f"结果 {result} 无需整改：只有 problem 或 refused 可以设整改期限"
                )
            due = None
        elif rectify_by is not None:
            if rectify_by < today:
                raise InvalidInput(f"整改期限 {rectify_by} 早于今天 {today}")
            due = rectify_by.isoformat()
        else:
            days = self.deadlines.rectify_within_working_days
            due = self.calendar.add_working_days(today, days).isoformat()
        payload: dict[str, Any] = {"target_code": target_code}
        if due is not None:
            payload["rectify_by"] = due

        def change(tx: _TaskTx) -> None:
            if not states.allows("set_result", tx.task.state):
                raise InvalidInput(
                    f"任务 {task_id} 当前状态为 {tx.task.state}：只能在 drawn 或 inspected 状态"
                    "录入或更正检查结果（已公示的结果不得改动）"
                )
            rec_id, before, before_note, published_at, _ = self._record(tx, target_code)
            if published_at is not None:
                raise InvalidInput(f"任务 {task_id} 检查对象 {target_code} 的结果已公示，不得改动")
            if before is not None and reason is None:
                raise InvalidInput(
                    f"任务 {task_id} 检查对象 {target_code} 已有结果 {before}：更正结果须用 --reason 说明原因"
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

        self._task_write(
            task_id,
            expected_version,
            actor=actor,
            role=role,
            kind="result_set",
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
        published_on: str | None = None,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> list[str]:
        """Record the publication (time and place) of results; all unpublished ones by default."""
        _require_actor(actor, role)
        if not place.strip():
            raise InvalidInput("公示位置不能为空（如 河北人社网“行政执法信息公示专栏”的网址）")
        payload: dict[str, Any] = {"place": place}

        def change(tx: _TaskTx) -> None:
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
                    raise InvalidInput(f"检查对象 {code} 的结果已于 {known[code][2]} 公示")
                if known[code][1] is None:
                    raise InvalidInput(f"检查对象 {code} 尚无检查结果，不能公示")
            if not wanted:
                raise InvalidInput(f"任务 {task_id} 没有待公示的结果")
            published_at = published_on or tx.at
            payload["targets"] = sorted(wanted)
            payload["published_at"] = published_at
            for code in wanted:
                tx.execute(
                    "UPDATE inspection_record SET published_at = ?, published_place = ?"
                    " WHERE task_id = ? AND target_code = ?",
                    (published_at, place, task_id, code),
                )

        self._task_write(
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
        role: str = "inspector",
        on: date | None = None,
        note: str = "",
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Add a follow-up outcome to a problem or refused record."""
        _require_actor(actor, role)
        if outcome not in OUTCOMES:
            raise InvalidInput(
                f"后续处置 {outcome!r} 无效：应为 "
                + "、".join(f"{k}（{v}）" for k, v in OUTCOMES.items())
            )
        payload: dict[str, Any] = {"target_code": target_code, "outcome": outcome, "note": note}

        def change(tx: _TaskTx) -> None:
            if not states.allows("add_followup", tx.task.state):
                raise InvalidInput(
                    f"任务 {task_id} 当前状态为 {tx.task.state}：只能在 inspected 或 publicized 状态登记后续处置"
                )
            rec_id, result, _, _, followups = self._record(tx, target_code)
            if result not in PROBLEM_RESULTS:
                raise InvalidInput(
                    f"检查对象 {target_code} 的结果为 {result or '未录入'}：只有 problem 或 refused 需要后续处置"
                )
            outcome_date = (on or self.clock.now().date()).isoformat()
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

        self._task_write(
            task_id,
            expected_version,
            actor=actor,
            role=role,
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

    def task_state(self, task_id: int) -> tuple[str, int]:
        with self.raw.read() as cur:
            cur.execute(self.raw.sql("SELECT state, version FROM task WHERE id = ?"), (task_id,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"任务 {task_id} 不存在")
        return row[0], row[1]


ROLES = {
    "clerk": "经办人员",
    "inspector": "执法检查人员",
    "supervisor": "监督人员",
    "auditor": "审计人员",
    "system": "系统",
}


def _require_actor(actor: str, role: str | None = None) -> None:
    if not actor or not actor.strip():
        raise InvalidInput("必须用 --actor 指明操作人")
    if role is not None and role not in ROLES:
        raise InvalidInput(
            f"角色 {role!r} 无效：应为 " + "、".join(f"{k}（{v}）" for k, v in ROLES.items())
        )


def parse_data(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as e:
        raise InvalidInput(f"--data 不是有效的 JSON：{e}") from None
    if not isinstance(value, dict):
        raise InvalidInput('--data 必须是 JSON 对象，如 {"note": "..."}')
    return value
