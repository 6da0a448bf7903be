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
from sqlalchemy.engine import Engine

from workflow.core import input_limits
from workflow.core.errors import Forbidden, InvalidInput, NotFound
from workflow.core.identity import Actor

MAX_CANDIDATES = 10
# plan no, a separator, task no (1–3 digits), optional 号: 2026001-001号, 2026001 001, X-7
_TASK_REF = re.compile(r"(.+?)\s*[-–—_/\s]\s*(\d{1,3})\s*号?")
# the same written together: 2026001001号 (seed plan numbers have 7 digits)
_TASK_REF_JOINED = re.compile(r"(\d{7})(\d{1,3})\s*号?")


def norm(value: str) -> str:
    """What the user typed, as we compare it: NFKC (full-width → ASCII), trimmed."""
    return unicodedata.normalize("NFKC", value).strip()


def _candidates(found: Iterable[str]) -> str:
    shown = list(found)
    more = len(shown) - MAX_CANDIDATES
    return "、".join(shown[:MAX_CANDIDATES]) + (f" 等 {len(shown)} 个" if more > 0 else "")


# --- tasks -----------------------------------------------------------------------------------


def task_id(engine: Engine, ref: str | int) -> int:
    """The id of the task ``ref`` names: an id, or plan no + task no (2026001-001号)."""
    if isinstance(ref, int):
        return ref
    value = norm(ref)
    m = _TASK_REF.fullmatch(value) or _TASK_REF_JOINED.fullmatch(value)
    # Digits alone are an id, unless they begin with an existing plan's number.
    if value.isdigit() and (m is None or not _plan_exists(engine, m.group(1))):
        if _plan_exists(engine, value):
            raise InvalidInput(f"{value} 是抽查计划编号：请写明任务，如 {value}-001号（或任务 ID）")
        return input_limits.check_id(int(value), "任务编号")
    if m is None:
        raise InvalidInput(
            f"任务 {ref!r} 无效：应为任务 ID（如 12）或“计划编号-任务编号”（如 2026001-001号）"
        )
    plan_no, serial = m.group(1), int(m.group(2))
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT t.id, t.task_no FROM task t JOIN plan p ON p.id = t.plan_id"
                " WHERE p.plan_no = :p ORDER BY t.task_no"
            ),
            {"p": plan_no},
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


def require_in_scope(engine: Engine, task_id: int, within: Actor | None) -> int:
    """``task_id`` if the task lies in ``within``'s unit subtree (DESIGN §8: an account acts on
    its unit's subtree only); otherwise Forbidden, saying whose it is. No account: no scope."""
    if within is None:
        return task_id
    with engine.connect() as c:
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


def _plan_exists(engine: Engine, plan_no: str) -> bool:
    with engine.connect() as c:
        row = c.execute(text("SELECT 1 FROM plan WHERE plan_no = :p"), {"p": plan_no}).first()
    return row is not None


# --- targets ---------------------------------------------------------------------------------


def target_code(engine: Engine, ref: str, task: int | None = None) -> str:
    """The credit code of the target ``ref`` names (code or unique name). With ``task``, the
    target must be one of that task's drawn targets."""
    value = norm(ref)
    if not value:
        raise InvalidInput("检查对象不能为空：请写统一社会信用代码或名称")
    code = value.upper()
    with engine.connect() as c:
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
    exact = [(r[0], r[1]) for r in rows if value in r[1:]]
    if len(exact) == 1:
        return str(exact[0][0])
    if len(exact) > 1:
        raise InvalidInput(
            f"检查对象 {ref!r} 不唯一：{scope}中有 {len(exact)} 个同名对象，请用统一社会信用代码："
            + _candidates(target_label(k, n) for k, n in exact)
        )
    partial = [(r[0], r[1]) for r in rows if r[1] and value in r[1]]
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


# --- labels ----------------------------------------------------------------------------------


def target_label(code: str, name: str | None) -> str:
    return f"{name}（{code}）" if name else code


def inspector_label(cert: str, name: str | None) -> str:
    return f"{name}（{cert}）" if name else cert


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
