"""Rebuild task state from the audit log alone and compare it with the tables (DESIGN §6).

Replay follows the events in seq order. Besides rebuilding each task's state, version and
inspection records, it checks that the log is a possible history: every event of a task starts
from the state the replay has reached, and every transition is one the lifecycle declares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import states
from workflow.core.db import RawConnection
from workflow.core.events import EVENTS, TaskState, no_effect, problem


@dataclass(slots=True)
class ReplayResult:
    ok: bool
    events: int
    tasks: dict[int, str]
    mismatches: list[dict[str, Any]]
    as_of: str | None = None
    compared: bool = True
    # One task's replay: its records as of the moment (target, group, result, publication,
    # follow-ups), in target order.
    records: list[dict[str, Any]] | None = None

    def as_json(self) -> dict[str, Any]:
        out = {
            "ok": self.ok,
            "events": self.events,
            "as_of": self.as_of,
            "compared_with_tables": self.compared,
            "tasks": {str(k): v for k, v in sorted(self.tasks.items())},
            "mismatches": self.mismatches,
        }
        if self.records is not None:
            out["records"] = self.records
        return out


def _bad(task: int | None, what: str, message: str, **extra: Any) -> dict[str, Any]:
    return problem(task, what, message, **extra)


def rebuild(rows: Any) -> tuple[dict[int, TaskState], list[dict[str, Any]], int]:
    """rows: (seq, task_id, kind, from_state, to_state, payload) in seq order. Each event is
    applied through its kind's declaration (workflow/core/events.py), as the writer wrote it."""
    tasks: dict[int, TaskState] = {}
    problems: list[dict[str, Any]] = []
    n = 0
    for seq, task_id, kind, frm, to, payload in rows:
        n += 1
        declared = EVENTS.get(kind)
        if declared is None:
            problems.append(_bad(task_id, "log", f"事件 {seq}：未声明的事件类型 {kind}", seq=seq))
            continue
        if task_id is None:
            continue
        if kind == "task_created":
            if task_id in tasks:
                problems.append(
                    _bad(task_id, "log", f"事件 {seq}：任务 {task_id} 被重复创建", seq=seq)
                )
            tasks[task_id] = TaskState(to or states.INITIAL_STATE, 1)
            continue
        t = tasks.get(task_id)
        if t is None:
            problems.append(
                _bad(task_id, "log", f"事件 {seq}：任务 {task_id} 在创建之前出现", seq=seq)
            )
            continue
        if frm != t.state:
            problems.append(
                _bad(
                    task_id, "log", f"事件 {seq}：起始状态 {frm} 与重放状态 {t.state} 不符", seq=seq
                )
            )
        t.version += 1
        if not declared.changes_state and to != frm:
            problems.append(_bad(task_id, "log", f"事件 {seq}（{kind}）不应改变任务状态", seq=seq))
        if declared.apply is not None and declared.apply is not no_effect:  # skip the decode
            declared.apply(t, json.loads(payload), seq, problems, task_id, to)
    return tasks, problems, n


def _compare(
    raw: RawConnection, tasks: dict[int, TaskState], task_id: int | None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    where, params = ("WHERE id = ?", (task_id,)) if task_id is not None else ("", ())
    rwhere = "WHERE task_id = ?" if task_id is not None else ""
    with raw.read() as cur:
        cur.execute(raw.sql(f"SELECT id, state, version FROM task {where}"), params)
        table_tasks = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        cur.execute(
            raw.sql(
                "SELECT task_id, target_code, group_size, result, published_at, followup_count,"
                f" rectify_by, correction_count, joined FROM inspection_record {rwhere}"
            ),
            params,
        )
        table_records = {(r[0], r[1]): r[2:] for r in cur.fetchall()}
    for tid in sorted(set(tasks) | set(table_tasks)):
        t, row = tasks.get(tid), table_tasks.get(tid)
        if row is None:
            out.append(_bad(tid, "missing_in_table", f"任务 {tid} 在日志中存在，但表中没有"))
            continue
        if t is None:
            out.append(
                _bad(tid, "missing_in_log", f"任务 {tid} 在表中存在，但日志中没有其创建事件")
            )
            continue
        if t.state != row[0]:
            out.append(
                _bad(
                    tid,
                    "state",
                    f"任务 {tid}：日志重放为 {t.state}，表中为 {row[0]}",
                    log=t.state,
                    table=row[0],
                )
            )
        if t.version != row[1]:
            out.append(
                _bad(
                    tid,
                    "version",
                    f"任务 {tid}：日志重放版本 {t.version}，表中为 {row[1]}",
                    log=t.version,
                    table=row[1],
                )
            )
    log_records = {(tid, code): r for tid, t in tasks.items() for code, r in t.records.items()}
    for key in sorted(set(log_records) | set(table_records)):
        tid, code = key
        r, row = log_records.get(key), table_records.get(key)
        if r is None or row is None:
            where_ = "表" if row is None else "日志"
            out.append(
                _bad(tid, "record", f"任务 {tid} 检查对象 {code} 在{where_}中缺失", target=code)
            )
            continue
        table_view = (
            row[0],
            row[1],
            row[2] is not None,
            row[3],
            row[4],
            row[5],
            json.loads(row[6]),
        )
        log_view = (
            r.group_size,
            r.result,
            r.published,
            r.followups,
            r.rectify_by,
            r.corrections,
            r.joined,
        )
        if table_view != log_view:
            out.append(
                _bad(
                    tid,
                    "record",
                    f"任务 {tid} 检查对象 {code}：日志 {log_view} 与表 {table_view} 不符",
                    target=code,
                    log=list(log_view),
                    table=list(table_view),
                )
            )
    return out


def replay(raw: RawConnection, task_id: int | None = None, at: str | None = None) -> ReplayResult:
    """Replay the log (as of ``at``, a stored UTC text time: the prefix up to the last event
    stamped at or before it); compare with the tables when ``at`` is None."""
    clauses: list[str] = []
    params: list[int | str] = []
    if task_id is not None:
        clauses.append("task_id = ?")
        params.append(task_id)
    if at is not None:
        # The prefix of the log up to the last event stamped at or before ``at``: seq is the
        # order of commits, and a prefix is always a possible history even where times are
        # not monotonic (a demo's --now, a host's clock stepping back, an event dated ahead).
        clauses.append("seq <= (SELECT coalesce(max(seq), 0) FROM event WHERE at <= ?)")
        params.append(at)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    cur = raw.dbapi.cursor(name="ssj_replay") if raw.postgres else raw.dbapi.cursor()
    try:
        if raw.postgres:
            cur.itersize = 20000
        cur.execute(
            raw.sql(
                f"SELECT seq, task_id, kind, from_state, to_state, payload FROM event {where} ORDER BY seq"
            ),
            tuple(params),
        )

        def rows() -> Any:
            while batch := cur.fetchmany(20000):
                yield from batch

        tasks, problems, n = rebuild(rows())
    finally:
        cur.close()
        raw.dbapi.rollback()
    compared = at is None
    if compared:
        problems.extend(_compare(raw, tasks, task_id))
    result = ReplayResult(
        not problems, n, {k: v.state for k, v in tasks.items()}, problems, at, compared
    )
    if task_id is not None:
        t = tasks.get(task_id)
        result.records = (
            [r.as_json(code) for code, r in sorted(t.records.items())] if t is not None else []
        )
    return result


def replay_named(
    raw: RawConnection, task_id: int | None = None, at: str | None = None
) -> ReplayResult:
    """``replay`` as people read it: one task's records carry the target's and inspectors'
    names. A task the log never mentions, replayed up to now, does not exist (NotFound)."""
    from workflow.core.errors import NotFound

    result = replay(raw, task_id, at)
    if task_id is not None and result.records:
        name_records(raw, task_id, result.records)
    if task_id is not None and task_id not in result.tasks and not result.mismatches and at is None:
        raise NotFound(f"任务 {task_id} 不存在", task=task_id)
    return result


def name_records(raw: RawConnection, task_id: int, records: list[dict[str, Any]]) -> None:
    """Add the target's and the inspectors' names (from today's tables, for people) to the
    replayed ``records`` in place."""
    certs = sorted({c for r in records for c in r["group"]})
    with raw.read() as cur:
        cur.execute(
            raw.sql("SELECT target_code, target_name FROM inspection_record WHERE task_id = ?"),
            (task_id,),
        )
        targets = dict(cur.fetchall())
        people = dict(raw.select_in(cur, "SELECT cert, name FROM inspector", "cert", certs))
    for r in records:
        r["target_name"] = targets.get(r["target_code"], "")
        r["group_names"] = [people.get(c, "") for c in r["group"]]
