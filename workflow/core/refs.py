"""People, not codes: what users type for a task, a target or an inspector, and how we show them.

Users write a task as its plan and task numbers (``2026001-001号``, ``2026001-001``,
``2026001 001号``, full-width forms too) or as its numeric id; a target by its credit code or
its unique name; an inspector by certificate number or name. Every command that takes one
resolves it here, so they all accept the same forms and refuse the same way: an unknown or
ambiguous name is an error listing the candidates. Output shows names beside codes
("名称（代码）", "姓名（证号）") and times in the bureau's zone, to the minute.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from workflow.core import input_limits
from workflow.core.db import Bind, connected
from workflow.core.errors import Forbidden, InvalidInput, NotFound
from workflow.core.identity import Actor

MAX_CANDIDATES = 10
# plan no, a separator, task no (1–3 digits), optional 号: 2026001-001号, 2026001 001, X-7
_TASK_REF = re.compile(r"(.+?)\s*[-–—_/\s]\s*(\d{1,3})\s*号?")
# the same written together: 2026001001号 (seed plan numbers have 7 digits)
_TASK_REF_JOINED = re.compile(r"(\d{7})(\d{1,3})\s*号?")
PLAN_DIGITS = 7


# a plan, qualified by its bureau's code where numbers repeat across bureaus: 130227:2024001
_PLAN_REF = re.compile(r"(?:(.+?)\s*[:/]\s*)?(\d{7})")
_PLAN_SQL = (
    "SELECT p.id, p.plan_no, u.code, u.name, u.path FROM plan p JOIN unit u ON u.id = p.unit_id"
    " WHERE p.plan_no = ?"
)


def plan_ref(value: str) -> tuple[str | None, str]:
    """(bureau code or None, plan no.) of what the user typed for a plan."""
    text = norm(value)
    m = _PLAN_REF.fullmatch(text)
    if m is None:
        return None, text.upper()
    return (m.group(1).upper() if m.group(1) else None), m.group(2)


def plan_query(value: str) -> tuple[str, tuple[str, ...]]:
    """The SELECT (``?`` placeholders) of the plans ``value`` may name, and its parameters."""
    unit, plan_no = plan_ref(value)
    if unit is None:
        return _PLAN_SQL, (plan_no,)
    return _PLAN_SQL + " AND u.code = ?", (plan_no, unit)


def choose_plan(
    rows: Iterable[tuple[int, str, str, str, str]], value: str, within: Actor | None
) -> int:
    """The one plan ``value`` names among ``rows`` (id, plan no, unit code, name, path): plan
    numbers are per bureau (seed 004), so a number alone is resolved within the account's
    subtree, and where it still repeats the bureau's code is asked for."""
    found = list(rows)
    unit, plan_no = plan_ref(value)
    if within is not None and within.role != "system":
        seen = [r for r in found if within.sees_path(r[4])]
        if not seen and found:
            r = found[0]
            raise Forbidden(
                f"抽查计划 {plan_no} 属于 {r[3]}（{r[2]}），不在账号 {within.username} 所属单位"
                f"（{within.unit_code}）及其下级单位之内",
                field="plan",
                value=value,
            )
        found = seen
    if not found:
        where = f"{unit} 的" if unit else ""
        raise NotFound(f"{where}抽查计划 {plan_no} 不存在", field="plan", value=value)
    if len(found) > 1:
        listed = "、".join(f"{r[2]}:{r[1]}（{r[3]}）" for r in found[:MAX_CANDIDATES])
        raise InvalidInput(
            f"抽查计划编号 {plan_no} 在多个单位中都有：{listed}；请写明单位代码，如 {found[0][2]}:{plan_no}",
            field="plan",
            value=value,
        )
    return int(found[0][0])


def plan_id(bind: Bind, value: str, within: Actor | None = None) -> int:
    """The id of the plan ``value`` names (``2024001``, or ``130227:2024001``)."""
    query, args = plan_query(value)
    with connected(bind) as c:
        if c.dialect.paramstyle != "qmark":
            query = query.replace("?", "%s")
        rows = c.exec_driver_sql(query, args).all()
    return choose_plan([tuple(r) for r in rows], value, within)


def norm(value: str) -> str:
    """What the user typed, as we compare it: NFKC (full-width → ASCII), trimmed."""
    return unicodedata.normalize("NFKC", value).strip()


def _candidates(found: Iterable[str]) -> str:
    shown = list(found)
    more = len(shown) - MAX_CANDIDATES
    return "、".join(shown[:MAX_CANDIDATES]) + (f" 等 {len(shown)} 个" if more > 0 else "")


# --- tasks -----------------------------------------------------------------------------------


def task_id(bind: Bind, ref: str | int, within: Actor | None = None) -> int:
    """The id of the task ``ref`` names: an id, or plan no + task no (2026001-001号; where
    plan numbers repeat across bureaus, 130227:2026001-001号). The plan number is resolved
    within ``within``'s subtree (default: the bound account's). ``bind``: an engine, or a
    connection the caller holds (db.Bind)."""
    if isinstance(ref, int):
        return ref
    with connected(bind) as c:
        return _task_id(c, ref, within)


def scoped_task_id(bind: Bind, ref: str | int, within: Actor | None) -> int:
    """``require_in_scope(task_id(ref), within)`` on one connection: the task a command or a
    request names, if it lies in the acting account's unit subtree."""
    with connected(bind) as c:
        return require_in_scope(c, ref if isinstance(ref, int) else _task_id(c, ref), within)


def _task_id(c: Connection, ref: str, within: Actor | None = None) -> int:
    from workflow.core import identity

    within = within or identity.current()
    value = norm(ref)
    m = _TASK_REF.fullmatch(value) or _TASK_REF_JOINED.fullmatch(value)
    # Digits alone are an id, unless they begin with an existing plan's number. Plan numbers
    # have seven digits (seed 004: 年份+三位序号, sampling.plans.PLAN_NO), so only seven
    # digits can be one: an id of another length is taken without asking the database.
    if value.isdigit() and (m is None or not _plan_exists(c, m.group(1))):
        if len(value) == PLAN_DIGITS and _plan_exists(c, value):
            raise InvalidInput(f"{value} 是抽查计划编号：请写明任务，如 {value}-001号（或任务 ID）")
        return input_limits.check_id(int(value), "任务编号")
    if m is None:
        raise InvalidInput(
            f"任务 {ref!r} 无效：应为任务 ID（如 12）或“计划编号-任务编号”（如 2026001-001号）"
        )
    plan_no, serial = plan_ref(m.group(1))[1], int(m.group(2))
    try:
        plan = plan_id(c, m.group(1), within)
    except NotFound:
        raise NotFound(f"任务 {ref!r}：抽查计划 {plan_no} 不存在或没有任务") from None
    rows = c.execute(
        text("SELECT t.id, t.task_no FROM task t WHERE t.plan_id = :p ORDER BY t.task_no"),
        {"p": plan},
    ).all()
    if not rows:
        raise NotFound(f"任务 {ref!r}：抽查计划 {plan_no} 不存在或没有任务")
    for tid, task_no in rows:
        digits = re.sub(r"\D", "", task_no)
        if digits and int(digits) == serial:
            return int(tid)
    raise NotFound(
        f"任务 {ref!r}：计划 {plan_no} 中没有任务 {serial:03d}号"
        f"（该计划的任务：{_candidates(r[1] for r in rows)}）"
    )


def require_in_scope(bind: Bind, task_id: int, within: Actor | None) -> int:
    """``task_id`` if the task lies in ``within``'s unit subtree (DESIGN §8: an account acts on
    its unit's subtree only); otherwise Forbidden, saying whose it is. No account: no scope."""
    if within is None:
        return task_id
    with connected(bind) as c:
        row = c.execute(
            text(
                "SELECT u.path, u.name, u.code FROM task t JOIN unit u ON u.id = t.unit_id"
                " WHERE t.id = :t"
            ),
            {"t": task_id},
        ).first()
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在", task=task_id)
    if not within.sees_path(row[0]):
        raise Forbidden(
            f"任务 {task_id} 属于 {row[1]}（{row[2]}），不在账号 {within.username} 所属单位"
            f"（{within.unit_code}）及其下级单位之内",
            task=task_id,
        )
    return task_id


def _plan_exists(c: Connection, value: str) -> bool:
    query, args = plan_query(value)
    if c.dialect.paramstyle != "qmark":
        query = query.replace("?", "%s")
    return c.exec_driver_sql(query, args).first() is not None


# --- targets ---------------------------------------------------------------------------------


def target_code(bind: Bind, ref: str, task: int | None = None) -> str:
    """The credit code of the target ``ref`` names (code or unique name). With ``task``, the
    target must be one of that task's drawn targets."""
    value = norm(ref)
    if not value:
        raise InvalidInput("检查对象不能为空：请写统一社会信用代码或名称")
    code = value.upper()
    with connected(bind) as c:
        if task is not None:
            # The directory's name, and the name the record was drawn under (if since renamed).
            rows = c.execute(
                text(
                    "SELECT r.target_code, COALESCE(t.name, r.target_name), r.target_name"
                    " FROM inspection_record r LEFT JOIN target t ON t.code = r.target_code"
                    " WHERE r.task_id = :t ORDER BY r.target_code"
                ),
                {"t": task},
            ).all()
            if not rows:
                # Let the command say what is wrong with the task (unknown id, not drawn yet).
                return code
            scope = f"任务 {task} 的检查对象"
        else:
            rows = c.execute(text("SELECT code, name FROM target ORDER BY code")).all()
            scope = "检查对象名录"
    codes = {r[0] for r in rows}
    if code in codes:
        return code
    # Names compared as typed and as stored, both normalised: a name imported with full-width
    # letters (宝丰县 ＡＢＣ 科技) is found as a clerk types it (宝丰县 ABC 科技), and as stored.
    exact = [(r[0], r[1]) for r in rows if value in {norm(n) for n in r[1:] if n}]
    if len(exact) == 1:
        return str(exact[0][0])
    if len(exact) > 1:
        raise InvalidInput(
            f"检查对象 {ref!r} 不唯一：{scope}中有 {len(exact)} 个同名对象，请用统一社会信用代码："
            + _candidates(target_label(k, n) for k, n in exact)
        )
    partial = [(r[0], r[1]) for r in rows if r[1] and value in norm(r[1])]
    hint = (
        "；名称相近的有：" + _candidates(target_label(k, n) for k, n in partial) if partial else ""
    )
    raise NotFound(f"{scope}中没有 {ref!r}（按统一社会信用代码或名称查找）{hint}")


# --- inspectors ------------------------------------------------------------------------------


def inspector_cert(engine: Engine, ref: str, among: Iterable[str] | None = None) -> str:
    """The certificate number of the inspector ``ref`` names (certificate or unique name);
    ``among``: certificates to look in first (a target's group), which settles a shared name."""
    value = norm(ref)
    if not value:
        raise InvalidInput("执法人员不能为空：请写执法证号或姓名")
    with engine.connect() as c:
        rows = c.execute(text("SELECT cert, name FROM inspector ORDER BY cert")).all()
    by_cert = {r[0]: r[1] for r in rows}
    for cert in (value, value.upper()):
        if cert in by_cert:
            return cert
    exact = [(r[0], r[1]) for r in rows if r[1] == value]
    if among is not None and len(exact) > 1:
        group = set(among)
        in_group = [e for e in exact if e[0] in group]
        if len(in_group) == 1:
            return str(in_group[0][0])
    if len(exact) == 1:
        return str(exact[0][0])
    if len(exact) > 1:
        raise InvalidInput(
            f"执法人员 {ref!r} 不唯一：名录中有 {len(exact)} 人同名，请用执法证号："
            + _candidates(inspector_label(k, n) for k, n in exact)
        )
    partial = [(r[0], r[1]) for r in rows if value in r[1]]
    hint = (
        "；姓名相近的有：" + _candidates(inspector_label(k, n) for k, n in partial)
        if partial
        else ""
    )
    if among is not None and value.upper() not in by_cert:
        # A certificate no longer in the directory may still be in a group.
        for cert in among:
            if cert in (value, value.upper()):
                return cert
    raise NotFound(f"执法人员名录中没有 {ref!r}（按执法证号或姓名查找）{hint}")


def group_member(engine: Engine, ref: str, task: int, target: str) -> str:
    """The certificate of the inspector ``ref`` names in the group of ``target`` (a credit
    code) in ``task``: the group settles a name two inspectors share."""
    import json

    with engine.connect() as c:
        row = c.execute(
            text(
                "SELECT inspectors FROM inspection_record WHERE task_id = :t AND target_code = :c"
            ),
            {"t": task, "c": target},
        ).first()
    return inspector_cert(engine, ref, json.loads(row[0]) if row else [])


# --- labels ----------------------------------------------------------------------------------


def target_label(code: str, name: str | None) -> str:
    return f"{name}（{code}）" if name else code


def inspector_label(cert: str, name: str | None) -> str:
    return f"{name}（{cert}）" if name else cert


def inspector_names(bind: Bind, certs: Iterable[str]) -> dict[str, str]:
    """The directory's names of these inspectors (certificate → name), read for them alone
    (a task's groups), not the whole directory as ``Names`` does."""
    wanted = sorted(set(certs))
    if not wanted:
        return {}
    with connected(bind) as c:
        found: dict[str, str] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ", ".join(f":c{n}" for n in range(len(chunk)))
            rows = c.execute(
                text(f"SELECT cert, name FROM inspector WHERE cert IN ({marks})"),
                {f"c{n}": cert for n, cert in enumerate(chunk)},
            ).all()
            found.update({r[0]: r[1] for r in rows})
        return found


class Names:
    """Names of targets and inspectors, loaded once for one output."""

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as c:
            self.targets: dict[str, str] = {
                r[0]: r[1] for r in c.execute(text("SELECT code, name FROM target")).all()
            }
            self.inspectors: dict[str, str] = {
                r[0]: r[1] for r in c.execute(text("SELECT cert, name FROM inspector")).all()
            }

    def target(self, code: str, fallback: str | None = None) -> str:
        return target_label(code, self.targets.get(code) or fallback)

    def inspector(self, cert: str) -> str:
        return inspector_label(cert, self.inspectors.get(cert))

    def group(self, certs: Iterable[str], sep: str = "、") -> str:
        return sep.join(self.inspector(c) for c in certs)


# --- times -----------------------------------------------------------------------------------


def local_time(stored: str | None, tz: str = "Asia/Shanghai") -> str:
    """A stored UTC time as people read it: in the bureau's zone, to the minute
    (2026-03-05 14:07). Dates (YYYY-MM-DD) and empty values pass through."""
    if not stored:
        return "—"
    if len(stored) <= 10:
        return stored
    try:
        dt = datetime.fromisoformat(stored.replace("Z", "+00:00"))
    except ValueError:
        return stored
    if dt.tzinfo is None:
        return stored
    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
