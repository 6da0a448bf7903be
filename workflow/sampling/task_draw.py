"""A task's draw against the database, and what follows it (seed 003).

``draw_task`` is the only way a task fires ``draw``: in one write transaction it reads the
candidate targets and the inspector pool, applies the eligibility rules, runs ``ssj-draw-v1``
with the secret behind the published commitment, stores the record (append-only), creates one
inspection record per drawn target, and moves the task planned → drawn with an event that
reveals the secret and carries the record's digest. ``confirm``, ``substitute`` and the
inspection sheets (workflow/sheets.py) are events of their own.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import states
from states import RESULTS
from workflow.core import audit
from workflow.core.clock import parse_time
from workflow.core.errors import InvalidInput, NotFound, Step, TransitionRefused
from workflow.core.refs import local_time
from workflow.sampling import algorithm, eligibility
from workflow.sampling.plans import month_window

if TYPE_CHECKING:
    from workflow.core.writer import TaskTransaction, Workflow

_FILTER_COLUMNS = ("grade", "type", "size", "region", "industry")

# DESIGN §6 step 3: without a public input fixed after the commitment, the result depends on
# the bureau's secret alone; allowed (the design says "empty if none"), but said.
NO_PUBLIC_INPUT = (
    "注意：未提供公开输入（承诺值公布之后才确定的公开信息，如当日公开数字）。"
    "本次抽取结果仅由事先承诺的密钥决定，公众只能核对结果未被改动，无法确认密钥未被挑选；"
    "正式抽取建议使用公开输入。"
)


def record_digest(record: dict[str, Any]) -> str:
    return _digest(audit.canonical_json(record))


def _digest(record_text: str) -> str:
    return hashlib.sha256(record_text.encode("utf-8")).hexdigest()


def _task_row(tx: TaskTransaction) -> dict[str, Any]:
    row = tx.execute(
        "SELECT p.plan_no, p.year, t.task_no, t.name, t.task_type, t.ratio, t.filters,"
        " t.stratum_ratios, t.inspector_field, t.initiating_office, t.months, t.commitment,"
        " s.secret, t.item_codes FROM task t JOIN plan p ON p.id = t.plan_id"
        " LEFT JOIN draw_secret s ON s.task_id = t.id WHERE t.id = ?",
        (tx.task.id,),
    ).fetchone()
    keys = [
        "plan_no",
        "year",
        "task_no",
        "name",
        "task_type",
        "ratio",
        "filters",
        "stratum_ratios",
        "inspector_field",
        "office",
        "months",
        "commitment",
        "secret",
        "item_codes",
    ]
    out = dict(zip(keys, row, strict=True))
    out["item_codes"] = json.loads(out["item_codes"])
    out["filters"] = json.loads(out["filters"])
    out["stratum_ratios"] = json.loads(out["stratum_ratios"])
    return out


def _in_task_unit(tx: TaskTransaction) -> tuple[str, str]:
    """The WHERE fragment and parameter that keep a draw inside the task's bureau: its own
    targets and inspectors and those of the units under it (DESIGN §8)."""
    (path,) = tx.execute(
        "SELECT u.path FROM unit u JOIN task t ON t.unit_id = u.id WHERE t.id = ?", (tx.task.id,)
    ).fetchone()
    return "unit_id IN (SELECT id FROM unit WHERE path LIKE ?)", path + "%"


def _candidates(tx: TaskTransaction, filters: dict[str, list[str]]) -> list[tuple[Any, ...]]:
    scope, under = _in_task_unit(tx)
    # retired targets are not offered to draws
    clauses, params = ["retired_at IS NULL", scope], [under]
    for column in _FILTER_COLUMNS:
        values = filters.get(column)
        if values:
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    where = f" WHERE {' AND '.join(clauses)}"
    tags = set(filters.get("tags") or ())
    cols = "code, grade, complaints, last_inspected" + (", tags" if tags else "")
    rows: list[tuple[Any, ...]] = tx.execute(
        f"SELECT {cols} FROM target{where}", tuple(params)
    ).fetchall()
    if tags:
        return [r[:4] for r in rows if tags & set(json.loads(r[4]))]
    return rows  # (code, grade, complaints, last_inspected) tuples, as TargetFacts


def _other_visits(tx: TaskTransaction, year: int) -> dict[str, list[eligibility.OtherVisit]]:
    rows = tx.execute(
        "SELECT r.target_code, p.plan_no, t.task_no, t.initiating_office, t.months, r.result,"
        " t.id FROM inspection_record r JOIN task t ON t.id = r.task_id"
        " JOIN plan p ON p.id = t.plan_id WHERE p.year = ? AND t.id <> ?",
        (year, tx.task.id),
    ).fetchall()
    out: dict[str, list[eligibility.OtherVisit]] = {}
    for code, plan_no, task_no, office, months, result, other_id in rows:
        out.setdefault(code, []).append(
            eligibility.OtherVisit(
                f"{plan_no} {task_no}", office, month_window(months, year), result, other_id
            )
        )
    return out


def _pool(tx: TaskTransaction) -> list[algorithm.Candidate]:
    scope, under = _in_task_unit(tx)
    rows = tx.execute(
        f"SELECT cert, fields, recusal, available FROM inspector WHERE {scope}", (under,)
    ).fetchall()
    return [
        algorithm.Candidate(
            cert, frozenset(json.loads(fields)), frozenset(json.loads(recusal)), bool(available)
        )
        for cert, fields, recusal, available in rows
    ]


def draw_task(
    wf: Workflow,
    task_id: int,
    *,
    actor: str,
    public_input: str = "",
    role: str = "clerk",
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Draw a task's targets and inspector groups; returns the published record."""
    out: dict[str, Any] = {}
    payload: dict[str, Any] = {"trigger": "draw"}

    def change(tx: TaskTransaction) -> None:
        if tx.task.state != "planned":
            raise TransitionRefused(
                task_id,
                tx.task.state,
                "draw",
                "只有 planned 状态的任务可以抽取（每个任务只抽取一次）",
                states.allowed_triggers(tx.task.state),
            )
        task = _task_row(tx)
        if task["commitment"] is None or task["secret"] is None:
            raise TransitionRefused(
                task_id,
                "planned",
                "draw",
                f"抽取承诺值尚未公布：请先公布计划 {task['plan_no']}",
                [],
                steps=[Step("plan.publish", {"plan": task["plan_no"]})],
            )
        secret = bytes.fromhex(task["secret"])
        ctx = eligibility.TaskContext(
            year=task["year"],
            directed=task["task_type"] == "directed",
            ratio=task["ratio"],
            stratum_ratios=task["stratum_ratios"],
            office=task["office"],
            months=month_window(task["months"], task["year"]),
        )
        rules = wf.rules
        if rules.merge_joint_visits or rules.skip_clean_this_year:
            ctx.others = _other_visits(tx, task["year"])
        strata = eligibility.build_strata(_candidates(tx, task["filters"]), ctx, rules)
        if not any(s.population for s in strata):
            excluded = sum(len(s.exclusions) for s in strata)
            raise InvalidInput(
                f"任务 {task_id} 没有可抽取的检查对象（符合条件 0 户，排除 {excluded} 户）："
                "请检查检查对象名录、定向条件和抽查对象范围"
            )
        try:
            result = algorithm.run_draw(
                secret,
                public_input,
                [s.as_input() for s in strata],
                _pool(tx),
                group_size=max(rules.group_size, wf.min_group_size),
                cap=rules.load_cap,
                needed_field=task["inspector_field"] or None,
            )
        except algorithm.DrawError as e:
            raise InvalidInput(f"任务 {task_id} 无法抽取：{e}") from None
        record = result.as_json()
        record["task"] = {
            "id": task_id,
            "plan_no": task["plan_no"],
            "task_no": task["task_no"],
            "name": task["name"],
            "task_type": task["task_type"],
            "filters": task["filters"],
        }
        record["drawn_at"] = tx.at
        for s, published in zip(strata, record["strata"], strict=True):
            published["basis"] = s.basis
        text = audit.canonical_json(record)
        digest = _digest(text)  # = record_digest(record), on the text stored
        codes = [t["code"] for t in record["targets"]]
        names = dict(_names(tx, codes))
        tx.insert_records(
            (t["code"], names.get(t["code"], ""), t["group"]) for t in record["targets"]
        )
        tx.execute(
            "INSERT INTO draw_record (task_id, digest, record, created_at) VALUES (?, ?, ?, ?)",
            (task_id, digest, text, tx.at),
        )
        tx.set_drawn(digest)
        out["joins"] = [(code, v.task_id) for s in strata for code, v in s.joins]
        out["task"] = task
        payload["data"] = {
            "algorithm": algorithm.ALGORITHM,
            "record_digest": digest,
            "commitment": record["commitment"],
            "secret": record["secret"],  # revealed now that the result is fixed (DESIGN §6)
            "public_input": public_input,
            "strata": [
                {
                    "name": s["name"],
                    "ratio": s["ratio"],
                    "population_digest": s["population_digest"],
                    "n": len(s["population"]),
                    "excluded": len(s["exclusions"]),
                    "k": s["k"],
                }
                for s in record["strata"]
            ],
            "targets": [[t["code"], t["group"]] for t in record["targets"]],
        }
        if out["joins"]:
            payload["data"]["joint_visits"] = [list(j) for j in out["joins"]]
        wf.decide_trigger(tx, "draw")
        out["record"] = record

    wf.write_task(
        task_id,
        expected_version,
        actor=actor,
        role=role,
        kind="transition",
        reason=None,
        payload=payload,
        change=change,
        then=lambda tx: _join_visits(wf, tx, out["task"], out["joins"], actor=actor, role=role),
    )
    record: dict[str, Any] = out["record"]  # set by change() when the write succeeded
    return record


def _join_visits(
    wf: Workflow,
    tx: TaskTransaction,
    task: dict[str, Any],
    joins: list[tuple[str, int]],
    *,
    actor: str,
    role: str,
) -> None:
    """In the draw's transaction, after its event: each target that joins another task's visit
    gets this task's items on that task's record (event ``joint_visit_joined`` of that task),
    so the one visit checks both tasks' items and counts once."""
    entry = {
        "task_id": tx.task.id,
        "task_no": task["task_no"],
        "office": task["office"],
        "item_codes": task["item_codes"],
    }
    label = f"{task['plan_no']} {task['task_no']}"
    for code, other in joins:

        def change(otx: TaskTransaction, code: str = code) -> None:
            row = otx.execute(
                "SELECT id, result, joined FROM inspection_record"
                " WHERE task_id = ? AND target_code = ?",
                (otx.task.id, code),
            ).fetchone()
            if row is None or row[1] is not None:  # read in this transaction: cannot happen
                raise InvalidInput(f"任务 {otx.task.id} 对检查对象 {code} 的检查不能再并入联合检查")
            joined = [*json.loads(row[2]), entry]
            otx.set_joined(row[0], joined)

        wf.apply_change(
            tx.cur,
            other,
            None,
            actor=actor,
            role=role,
            kind="joint_visit_joined",
            reason=f"任务 {tx.task.id}（{label}）抽取时并入联合检查",
            payload={"target_code": code, "joined": entry},
            change=change,
        )


def _names(tx: TaskTransaction, codes: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for i in range(0, len(codes), 500):
        chunk = codes[i : i + 500]
        out.extend(
            tx.execute(
                f"SELECT code, name FROM target WHERE code IN ({', '.join('?' for _ in chunk)})",
                tuple(chunk),
            ).fetchall()
        )
    return out


def load_record(wf: Workflow, task_id: int) -> dict[str, Any]:
    """The published record of a task's draw."""
    record: dict[str, Any] = json.loads(record_text(wf, task_id))
    return record


def record_text(wf: Workflow, task_id: int) -> str:
    """The published record of a task's draw as stored: the canonical JSON whose SHA-256 the
    draw's event holds (what anyone downloads and checks with the verifier)."""
    with wf.raw.read() as cur:
        cur.execute(wf.raw.sql("SELECT id FROM task WHERE id = ?"), (task_id,))
        if cur.fetchone() is None:
            raise NotFound(f"任务 {task_id} 不存在")
        cur.execute(
            wf.raw.sql("SELECT digest, record FROM draw_record WHERE task_id = ?"), (task_id,)
        )
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"任务 {task_id} 尚未抽取，没有抽取记录", task=task_id)
    return str(row[1])


def logged_digest(wf: Workflow, task_id: int) -> str | None:
    """The record digest in the task's draw event (the chain vouches for it)."""
    with wf.raw.read() as cur:
        cur.execute(
            wf.raw.sql(
                "SELECT payload FROM event WHERE task_id = ? AND kind = 'transition'"
                " AND to_state = 'drawn' ORDER BY seq LIMIT 1"
            ),
            (task_id,),
        )
        row = cur.fetchone()
    return json.loads(row[0])["data"]["record_digest"] if row else None


RECORD_FILE_MAX = 512 * 1024 * 1024  # a province's draw record is tens of MB


def verify_record_file(data: bytes, source: str) -> list[str]:
    """Recompute a draw record handed in as a file's bytes (``ssj draw verify --file``, the
    API's upload), with no database: the problems, empty when it reproduces. ``source`` names
    the file in the errors of a file that is no record."""
    from workflow.core import input_limits

    if len(data) > RECORD_FILE_MAX:
        raise InvalidInput(f"{source} 超过 {RECORD_FILE_MAX // 1024 // 1024} MB，不是抽取记录")
    # Numbers as exact decimals: 1e400 stays a number the checks can refuse, not inf.
    record = input_limits.load_json(
        input_limits.decode_utf8(data, source), source, exact_numbers=True
    )
    if not isinstance(record, dict):
        raise InvalidInput(f"{source} 不是抽取记录（应为 JSON 对象）", field="file")
    return algorithm.verify_record(record)


def verify_task(wf: Workflow, task_id: int) -> list[str]:
    """Recompute the stored record, and check it is the one the audit log vouches for."""
    record = load_record(wf, task_id)
    problems = algorithm.verify_record(record)
    logged = logged_digest(wf, task_id)
    if logged is None:
        problems.append("审计日志中没有该任务的抽取事件")
    elif logged != record_digest(record):
        problems.append("抽取记录的摘要与审计日志中的摘要不符（记录被改动）")
    return problems


def _drawn_on(tx: TaskTransaction, tz: str) -> date:
    row = tx.execute("SELECT drawn_at FROM task WHERE id = ?", (tx.task.id,)).fetchone()
    return parse_time(row[0], tz).astimezone(ZoneInfo(tz)).date()


def confirm(
    wf: Workflow,
    task_id: int,
    *,
    actor: str,
    reason: str | None = None,
    tz: str = "Asia/Shanghai",
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Confirm the drawn targets and matched inspectors (seed 003: within 2 working days)."""
    payload: dict[str, Any] = {}

    def change(tx: TaskTransaction) -> None:
        if not states.allows("confirm_draw", tx.task.state):
            raise InvalidInput(
                f"任务 {task_id} 状态为 {tx.task.state}：只有 drawn 状态可以确认抽取结果"
            )
        done = tx.execute("SELECT confirmed_at FROM task WHERE id = ?", (task_id,)).fetchone()[0]
        if done:
            raise InvalidInput(f"任务 {task_id} 的抽取结果已于 {local_time(done, tz)} 确认")
        drawn_on = _drawn_on(tx, tz)
        due = wf.calendar.add_working_days(drawn_on, wf.rules.confirm_within_working_days)
        today = wf.clock.now().astimezone(ZoneInfo(tz)).date()
        late = today > due
        if late and not reason:
            raise InvalidInput(
                f"任务 {task_id} 应在 {due.isoformat()} 前确认（抽取于 {drawn_on.isoformat()}，"
                f"{wf.rules.confirm_within_working_days} 个工作日内，来源文件 003），"
                "已逾期：逾期确认须说明原因",
                needs="reason",
                task=task_id,
            )
        payload.update({"drawn_on": drawn_on.isoformat(), "due": due.isoformat(), "late": late})
        tx.set_confirmed()

    wf.write_task(
        task_id,
        expected_version,
        actor=actor,
        role="clerk",
        kind="draw_confirmed",
        reason=reason,
        payload=payload,
        change=change,
    )
    return payload


def substitute(  # noqa: C901 (each refusal of a substitute is its own branch)
    wf: Workflow,
    task_id: int,
    target: str,
    cert: str,
    *,
    reason: str,
    actor: str,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Replace an unavailable or conflicted inspector by the next substitute in draw order
    (seed 003), skipping any now unavailable, recused, already in the group or at the cap."""
    if not reason or not reason.strip():
        raise InvalidInput("递补须说明原因（如 回避、病假、出差）", needs="reason", task=task_id)
    payload: dict[str, Any] = {"target_code": target, "out": cert}

    def change(tx: TaskTransaction) -> None:
        if not states.allows("substitute", tx.task.state):
            raise InvalidInput(
                f"任务 {task_id} 状态为 {tx.task.state}：只有 drawn 状态（检查前）可以递补执法人员"
            )
        row = tx.execute(
            "SELECT r.id, r.inspectors, r.replaced, r.result, r.target_name, p.plan_no, t.task_no"
            " FROM inspection_record r JOIN task t ON t.id = r.task_id"
            " JOIN plan p ON p.id = t.plan_id WHERE r.task_id = ? AND r.target_code = ?",
            (task_id, target),
        ).fetchone()
        if row is None:
            raise NotFound(f"任务 {task_id} 没有检查对象 {target}")
        rec_id, group, replaced = row[0], json.loads(row[1]), json.loads(row[2])
        if row[3] is not None:
            # The group that inspected is the group the result belongs to: swapping a member
            # afterwards would file the result under people who were not there.
            raise InvalidInput(
                f"任务 {task_id}（{row[5]} {row[6]}）的检查对象 {target} {row[4]}"
                f"已录入检查结果“{RESULTS.get(row[3], row[3])}”（{row[3]}）：录入结果后不能递补执法人员"
                f"（检查组：{'、'.join(group)}）"
            )
        if cert not in group:
            raise InvalidInput(
                f"执法人员 {cert} 不在检查对象 {target} 的检查组中（检查组：{'、'.join(group)}）"
            )
        record = json.loads(
            tx.execute("SELECT record FROM draw_record WHERE task_id = ?", (task_id,)).fetchone()[0]
        )
        drawn = next(t for t in record["targets"] if t["code"] == target)
        load: dict[str, int] = {}
        for (inspectors,) in tx.execute(
            "SELECT inspectors FROM inspection_record WHERE task_id = ?", (task_id,)
        ).fetchall():
            for c in json.loads(inspectors):
                load[c] = load.get(c, 0) + 1
        directory = {
            c: (bool(avail), set(json.loads(rec)))
            for c, avail, rec in tx.execute(
                "SELECT cert, available, recusal FROM inspector"
            ).fetchall()
        }
        skipped, chosen = [], None
        for c in drawn["substitutes"]:
            why = None
            if c in group or c in replaced:
                why = "已在检查组或已被替换"
            elif c not in directory or not directory[c][0]:
                why = "目前不可用"
            elif target in directory[c][1]:
                why = "须回避该检查对象"
            elif load.get(c, 0) >= record["cap"]:
                why = f"本任务已达上限 {record['cap']} 户"
            if why is None:
                chosen = c
                break
            skipped.append({"cert": c, "reason": why})
        if chosen is None:
            raise InvalidInput(
                f"检查对象 {target} 没有可递补的执法人员（递补名单 {len(drawn['substitutes'])} 人均不可用）"
            )
        after = [chosen if c == cert else c for c in group]
        payload.update({"in": chosen, "skipped": skipped, "before": group, "after": after})
        tx.replace_inspectors(rec_id, after, [*replaced, cert])

    wf.write_task(
        task_id,
        expected_version,
        actor=actor,
        role="clerk",
        kind="inspector_substituted",
        reason=reason,
        payload=payload,
        change=change,
    )
    return payload
