"""Annual plans and their tasks (seed 004): numbering, naming, validation, the plan table
import, and publication with each task's draw commitment (DESIGN §6 step 1).

``create_plan``, ``create_task`` and ``publish`` each run in one write transaction of the
writer; the ``insert_*`` and ``publish_pending`` steps run inside a transaction the caller
holds, so that a plan table imports whole or not at all, and a plan publishes all its
commitments or none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import states
from workflow.core import audit, identity, normalize, refs, units
from workflow.core.config import DrawSettings
from workflow.core.errors import Forbidden, InvalidInput, NotFound, Step
from workflow.core.identity import Actor
from workflow.core.logging import get_logger
from workflow.core.normalize import percent
from workflow.core.refs import local_time
from workflow.core.writer import require_actor
from workflow.sampling import algorithm, directories
from workflow.sampling.directories import (
    TARGET_TYPES,
    Col,
    ImportRejected,
    Kind,
    ParsedRow,
    RowProblem,
    parse_file,
)

if TYPE_CHECKING:
    from workflow.core.writer import Workflow

log = get_logger("ssj.plans")

TASK_TYPES = normalize.TASK_TYPES
PLAN_NO = re.compile(r"^(\d{4})(\d{3})$")  # seed 004: 2024001
TASK_NO = re.compile(r"^\d{3}号$")  # seed 004: 001号 (normalize.task_no writes it)

# Directed-task conditions (seed 004: credit-risk grade, type, size, region …) and their
# Chinese names in the plan table's 定向条件 column.
FILTER_KEYS = {
    "grade": "信用风险等级",
    "type": "类型",
    "size": "规模",
    "region": "地区",
    "industry": "行业",
    "tags": "标签",
}
_FILTER_BY_LABEL = {v: k for k, v in FILTER_KEYS.items()}
# Directed-task conditions whose values are a closed set, in the wording clerks may use.
_FILTER_CHOICES = {
    "grade": normalize.GRADE,
    "type": normalize.TARGET_TYPE,
    "size": normalize.SIZE,
}
UNGRADED = normalize.UNGRADED  # the stratum of targets without a credit-risk grade


def normalize_ratio(ratio: str) -> str:
    """'10%' or '0.10' → '0.1': the exact decimal the draw will use."""
    from decimal import InvalidOperation

    text = normalize.ratio_text(ratio)
    try:
        value = Decimal(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
    except InvalidOperation:
        raise InvalidInput(
            f"抽查比例 {ratio!r} 无效：应为小数（如 0.05）或百分数（如 5%）"
        ) from None
    if not value.is_finite() or not (0 < value <= 1):
        raise InvalidInput(f"抽查比例 {ratio!r} 超出范围：应大于 0 且不超过 100%")
    return format(value.normalize(), "f")


def normalize_months(text: str, year: int | None = None) -> str:
    """'2024年4月', '2024/4' → '2024-04'; '2022年6-7月', '2022/6-2022/7' → '2022-06..2022-07'
    (the forms are normalize.months'); ``year``: the plan's, which the months must lie in."""
    try:
        months = normalize.months(text)
    except ValueError as e:
        raise InvalidInput(f"抽查时间 {text!r} 无效：{e}", field="months") from None
    if year is not None and any(m[:4] != str(year) for m in month_window(months, year)):
        raise InvalidInput(f"抽查时间 {text!r} 不在计划年度 {year} 年内", field="months")
    return months


def month_window(months: str, year: int) -> tuple[str, str]:
    """(first, last) month 'YYYY-MM' of a task; the whole plan year when unset."""
    if not months:
        return f"{year}-01", f"{year}-12"
    first, _, last = months.partition("..")
    return first, last or first


@dataclass
class TaskSpec:
    """One sampling task as planned (seed 004's annex columns, plus directed-draw settings)."""

    name: str
    task_no: str | None = None
    task_type: str = "undirected"
    ratio: str = "0.05"
    items: str = ""  # the plan table's own wording
    item_codes: list[str] = field(default_factory=list)  # resolved against the item list
    scope: str = ""
    initiating_office: str = ""
    joining_offices: list[str] = field(default_factory=list)
    months: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    stratum_ratios: dict[str, str] = field(default_factory=dict)
    inspector_field: str = ""

    def as_payload(self) -> dict[str, Any]:
        return {
            "task_no": self.task_no,
            "name": self.name,
            "task_type": self.task_type,
            "ratio": self.ratio,
            "items": self.items,
            "item_codes": self.item_codes,
            "scope": self.scope,
            "initiating_office": self.initiating_office,
            "joining_offices": self.joining_offices,
            "months": self.months,
            "filters": self.filters,
            "stratum_ratios": self.stratum_ratios,
            "inspector_field": self.inspector_field,
        }


def check_task(spec: TaskSpec, rules: DrawSettings, categories: dict[str, str]) -> TaskSpec:
    """Validate and normalize; ``categories`` maps item code → 重点/一般 from the item list.
    Refuses with the first problem :func:`task_problems` finds."""
    problems = task_problems(spec, rules, categories)
    if problems:
        raise InvalidInput(problems[0][1], field=problems[0][0])
    return spec


def task_problems(  # noqa: C901 (every problem of a task row, each check independent)
    spec: TaskSpec, rules: DrawSettings, categories: dict[str, str]
) -> list[tuple[str, str]]:
    """Normalize ``spec`` in place and return every problem, as (the plan-table column key it
    is about, message), in a fixed order. A check that needs a value found wrong is skipped."""
    out: list[tuple[str, str]] = []
    spec.name = normalize.text(spec.name)
    if not spec.name:
        out.append(("name", "任务名称不能为空"))
    task_type = normalize.TASK_TYPE.get(spec.task_type)
    if task_type is None:
        out.append(
            (
                "task_type",
                f"抽查类型 {spec.task_type!r} 无效：应为 directed（定向）或 undirected（不定向）",
            )
        )
    else:
        spec.task_type = task_type
    if spec.task_no is not None:
        try:
            spec.task_no = normalize.task_no(spec.task_no)
        except ValueError:
            out.append(
                ("task_no", f"抽查任务编号 {spec.task_no!r} 无效：应为三位数字加“号”，如 001号")
            )
    ratio_ok = True
    try:
        spec.ratio = normalize_ratio(spec.ratio)
    except InvalidInput as e:
        out.append(("ratio", str(e)))
        ratio_ok = False
    spec.item_codes = list(dict.fromkeys(normalize.code(c) for c in spec.item_codes))
    retired = [c for c in spec.item_codes if c in categories and categories[c] == RETIRED]
    if retired:
        out.append(("items", f"抽查事项 {'、'.join(retired)} 已停用，不能用于新任务"))
    unknown = [c for c in spec.item_codes if c not in categories]
    if unknown:
        out.append(
            (
                "items",
                f"抽查事项 {'、'.join(unknown)} 不在抽查事项清单中：请先导入抽查事项清单",
            )
        )
    spec.inspector_field = normalize.word(spec.inspector_field)
    spec.joining_offices = list(
        dict.fromkeys(w for j in spec.joining_offices for w in normalize.split_list(j))
    )
    spec.initiating_office = normalize.word(spec.initiating_office)
    spec.scope = normalize.text(spec.scope)
    for key, values in list(spec.filters.items()):
        if key not in FILTER_KEYS:
            out.append(
                ("conditions", f"定向条件 {key!r} 无效：应为 {'、'.join(FILTER_KEYS.values())}")
            )
            del spec.filters[key]
            continue
        choice = _FILTER_CHOICES.get(key)
        if choice is None:
            spec.filters[key] = list(dict.fromkeys(w for v in values if (w := normalize.word(v))))
            continue
        bad = [v for v in values if choice.get(v) is None]
        if bad:
            out.append(
                (
                    "conditions",
                    f"定向条件 {FILTER_KEYS[key]} 的值 {'、'.join(bad)} 无效："
                    f"应为 {'/'.join(choice.values)}",
                )
            )
        spec.filters[key] = list(dict.fromkeys(choice(v) for v in values if v not in bad))
    spec.filters, problem = _scope_filters(spec.scope, spec.filters)
    if problem:
        out.append(problem)
    # An undirected task sets no conditions (seed 004); its scope (target types) and the
    # bureau's own region bound the population and are not conditions.
    if spec.task_type == "undirected" and (
        spec.stratum_ratios or set(spec.filters) - {"type", "region"}
    ):
        out.append(
            (
                "task_type",
                "不定向抽查不设抽取条件（来源文件 004），只可限定抽查对象范围（类型）与地区："
                "请改为定向抽查，或去掉定向条件和分层比例",
            )
        )
    strata: dict[str, str] = {}
    for grade, ratio in spec.stratum_ratios.items():
        try:
            name = normalize.stratum(grade)
        except ValueError:
            out.append(
                ("stratum_ratios", f"分层比例的分层 {grade!r} 无效：应为 A/B/C/D 或 {UNGRADED}")
            )
            continue
        try:
            strata[name] = normalize_ratio(ratio)
        except InvalidInput as e:
            out.append(("stratum_ratios", str(e)))
    spec.stratum_ratios = strata
    # Ratio floor (seeds 000, 001, 003) for the task and every stratum it sets.
    ratios = [("ratio", "抽查比例", spec.ratio)] if ratio_ok else []
    ratios += [("stratum_ratios", f"分层 {g} 的比例", r) for g, r in strata.items()]
    floor = Decimal(rules.ratio_floor)
    level = "省级" if rules.level == "province" else "县级"
    for key, label, ratio in ratios:
        if Decimal(ratio) < floor:
            out.append(
                (
                    key,
                    f"{label} {percent(ratio)} 低于下限 {percent(rules.ratio_floor)}"
                    f"（{level}，来源文件 000、001、003；本单位层级见 config.yaml 的 algorithm.level）",
                )
            )
    # Major items have no ceiling (seed 001); a configured ceiling binds general-only tasks.
    ceiling = rules.general_ratio_ceiling
    general_only = bool(spec.item_codes) and all(
        categories.get(c) == "一般" for c in spec.item_codes
    )
    if ceiling is not None and general_only:
        for key, label, ratio in ratios:
            if Decimal(ratio) > Decimal(ceiling):
                out.append(
                    (
                        key,
                        f"{label} {percent(ratio)} 超过一般事项上限 {percent(ceiling)}"
                        "（重点事项不设上限，来源文件 001）",
                    )
                )
    return out


def scope_filters(scope: str, filters: dict[str, list[str]]) -> dict[str, list[str]]:
    """The filters that bound a task's population: its conditions, plus its scope (抽查对象范围,
    target types with their aliases) as the ``type`` filter. The one place a scope becomes a
    filter, for the plan table and ``task create`` alike; the draw selects by these filters."""
    out, problem = _scope_filters(scope, filters)
    if problem:
        raise InvalidInput(problem[1])
    return out


def _scope_filters(
    scope: str, filters: dict[str, list[str]]
) -> tuple[dict[str, list[str]], tuple[str, str] | None]:
    """:func:`scope_filters`, with its problem (column key, message) returned, not raised."""
    try:
        types = _scope_types(scope)
    except ValueError as e:
        return filters, ("scope", f"抽查对象范围 {scope!r} 无效：{e}")
    if not types:
        return filters, None
    if "type" in filters:
        extra = [t for t in filters["type"] if t not in types]
        if extra:
            return filters, (
                "conditions",
                f"定向条件中的类型 {'、'.join(extra)} 超出抽查对象范围（{'、'.join(types)}）",
            )
        return filters, None
    return {**filters, "type": types}, None


# The category of a retired item in ``item_categories``: known, but not for new tasks.
RETIRED = "停用"


def item_categories(cur: Any) -> dict[str, str]:
    """Item code → 重点/一般, or ``RETIRED`` for an item no longer offered to new tasks."""
    cur.execute("SELECT code, category, retired_at FROM item")
    return {code: RETIRED if retired else cat for code, cat, retired in cur.fetchall()}


# --- writing (inside the caller's transaction) -----------------------------------------------


def plan_identity(plan_no: str, unit: str, name: str | None) -> tuple[str, str, int, str]:
    """(plan no., unit, year, name) normalized and checked against seed 004's rules; the name
    is made from the others when not given."""
    plan_no, unit = normalize.code(plan_no), normalize.word(unit)
    m = PLAN_NO.match(plan_no)
    if not m:
        raise InvalidInput(
            f"抽查计划编号 {plan_no!r} 无效：应为 年份+三位序号，如 2024001",
            field="plan_no",
            value=plan_no,
        )
    if not unit.strip():
        raise InvalidInput("单位不能为空", field="unit")
    year, serial = int(m.group(1)), m.group(2)
    # seed 004 note 1: 抽查计划名称 = 年度 + 部门 + 随机抽查 + 序号
    name = name or f"{year}年{unit}随机抽查{serial}"
    if not (name.startswith(f"{year}年") and name.endswith(serial) and "随机抽查" in name):
        raise InvalidInput(
            f"抽查计划名称 {name!r} 不符合命名规则：年度+部门+随机抽查+序号"
            f"（来源文件 004，如 {year}年{unit}随机抽查{serial}）",
            field="name",
            value=name,
        )
    return plan_no, unit, year, name


def insert_plan(
    wf: Workflow,
    cur: Any,
    plan_no: str,
    *,
    unit: str | None,
    actor: str,
    role: str,
    name: str | None,
    within: Actor | None = None,
) -> int:
    """A new plan of ``unit`` (a bureau's name or code, or the department's wording in a
    single bureau's database; without one, the account's own bureau), which must lie in the
    account's subtree (``within``)."""
    sql = wf.raw.sql
    if (unit is None or not unit.strip()) and within is not None:
        owner = units.home(cur, sql, within)
        unit = owner.name
    else:
        owner, unit = units.owner_of(cur, sql, unit or "")
        units.require_within(owner, within)
    plan_no, unit, year, name = plan_identity(plan_no, unit, name)
    # Plan numbers are the bureau's own (seed 004): two counties may each have 2024001.
    cur.execute(sql("SELECT id FROM plan WHERE plan_no = ? AND unit_id = ?"), (plan_no, owner.id))
    if cur.fetchone():
        raise InvalidInput(
            f"{owner.label} 的抽查计划编号 {plan_no} 已存在", field="plan_no", value=plan_no
        )
    head = audit.read_head(cur, sql)
    at = head.stamp(wf.event_time())
    cur.execute(
        sql(
            "INSERT INTO plan (plan_no, name, year, unit, unit_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
        ),
        (plan_no, name, year, unit, owner.id, at),
    )
    cur.execute(sql("SELECT id FROM plan WHERE plan_no = ? AND unit_id = ?"), (plan_no, owner.id))
    plan_id: int = cur.fetchone()[0]
    audit.append(
        cur,
        sql,
        head,
        at=at,
        actor=actor,
        role=role,
        task_id=None,
        kind="plan_created",
        payload={
            "plan_no": plan_no,
            "name": name,
            "year": year,
            "unit": unit,
            "unit_code": owner.code,
        },
    )
    return plan_id


def insert_task(
    wf: Workflow,
    cur: Any,
    plan_no: str,
    spec: TaskSpec,
    *,
    actor: str,
    role: str,
    reason: str | None,
    rules: DrawSettings,
    within: Actor | None = None,
) -> int:
    sql = wf.raw.sql
    try:
        plan_id = find_plan(cur, sql, plan_no, within)
    except NotFound as e:
        number = refs.plan_ref(plan_no)[1]
        raise NotFound(
            f"{e.message}；请先创建",
            steps=[Step("plan.create", {"plan": number})],
            field="plan",
            value=number,
        ) from None
    cur.execute(sql("SELECT year, plan_no FROM plan WHERE id = ?"), (plan_id,))
    year, plan_no = cur.fetchone()
    spec.months = normalize_months(spec.months, year)
    check_task(spec, rules, item_categories(cur))
    if spec.task_no is None:
        # The unique (plan_id, task_no) index answers this without a scan.
        cur.execute(
            sql("SELECT task_no FROM task WHERE plan_id = ? ORDER BY task_no DESC LIMIT 1"),
            (plan_id,),
        )
        last = cur.fetchone()
        serial = int(last[0][:3]) + 1 if last else 1
        if serial > 999:
            raise InvalidInput(f"计划 {plan_no} 的任务编号已用完（001号–999号）")
        spec.task_no = f"{serial:03d}号"
    else:
        cur.execute(
            sql("SELECT 1 FROM task WHERE plan_id = ? AND task_no = ?"), (plan_id, spec.task_no)
        )
        if cur.fetchone():
            raise InvalidInput(f"计划 {plan_no} 中已有任务 {spec.task_no}")
    cj = audit.canonical_json
    task_id = wf.insert_task(
        cur,
        {
            "plan_id": plan_id,
            "task_no": spec.task_no,
            "name": spec.name,
            "task_type": spec.task_type,
            "ratio": spec.ratio,
            "items": spec.items,
            "scope": spec.scope,
            "initiating_office": spec.initiating_office,
            "joining_offices": cj(spec.joining_offices),
            "months": spec.months,
            "item_codes": cj(spec.item_codes),
            "filters": cj(spec.filters),
            "stratum_ratios": cj(spec.stratum_ratios),
            "inspector_field": spec.inspector_field,
        },
        actor=actor,
        role=role,
        reason=reason,
        payload={"plan_no": plan_no, **spec.as_payload()},
    )
    return task_id


def create_plan(
    wf: Workflow,
    plan_no: str,
    *,
    unit: str | None,
    actor: str,
    name: str | None = None,
    role: str = "clerk",
    within: Actor | None = None,
) -> int:
    """A new annual plan (event ``plan_created``) of ``unit``, in the account's subtree
    (``within``; without a unit, the account's own bureau); returns its id."""
    require_actor(actor, role)
    with wf.raw.write() as cur:
        return insert_plan(
            wf, cur, plan_no, unit=unit, actor=actor, role=role, name=name, within=within
        )


def create_task(
    wf: Workflow,
    plan_no: str,
    *,
    name: str,
    actor: str,
    role: str = "clerk",
    reason: str | None = None,
    within: Actor | None = None,
    **spec: Any,
) -> int:
    """Create a task in ``planned`` (event ``task_created``) in a plan of the account's
    subtree (``within``); ``spec``: the fields of ``TaskSpec`` (task_no, task_type, ratio,
    items, item_codes, scope, …)."""
    require_actor(actor, role)
    try:
        task = TaskSpec(name=name, **spec)
    except TypeError as e:
        raise InvalidInput(f"任务字段无效：{e}") from None
    with wf.raw.write() as cur:
        task_id = insert_task(
            wf, cur, plan_no, task, actor=actor, role=role, reason=reason, rules=wf.rules,
            within=within,
        )  # fmt: skip
    log.debug("task_created", task=task_id, plan=plan_no, task_no=task.task_no)
    return task_id


def find_plan(cur: Any, sql: Any, plan: str, within: Actor | None = None) -> int:
    """The plan ``plan`` names (``2024001``, or ``130227:2024001`` where the number repeats
    across bureaus), within the account's subtree (``within``, default the bound account's):
    another bureau's is refused."""
    query, args = refs.plan_query(plan)
    cur.execute(sql(query), args)
    return refs.choose_plan(cur.fetchall(), plan, within or identity.current())


def publish(
    wf: Workflow,
    plan_no: str,
    *,
    actor: str,
    role: str = "clerk",
    within: Actor | None = None,
) -> list[dict[str, Any]]:
    """Publish the plan with each new task's draw commitment (one transaction); a plan
    outside the account's subtree (``within``) is refused."""
    require_actor(actor, role)
    with wf.raw.write() as cur:
        return publish_pending(wf, cur, plan_no, actor=actor, role=role, within=within)


def publish_pending(
    wf: Workflow, cur: Any, plan_no: str, *, actor: str, role: str, within: Actor | None = None
) -> list[dict[str, Any]]:
    """Publish the plan: each planned task without a commitment gets a fresh secret (kept
    server-side) and its commitment logged; then the plan's publication event lists them all."""
    sql = wf.raw.sql
    plan_id = find_plan(cur, sql, plan_no, within)
    cur.execute(sql("SELECT published_at, plan_no FROM plan WHERE id = ?"), (plan_id,))
    published_at, plan_no = cur.fetchone()
    cur.execute(
        sql(
            "SELECT id, task_no FROM task WHERE plan_id = ? AND state = ? AND commitment IS NULL"
            " ORDER BY task_no"
        ),
        (plan_id, states.INITIAL_STATE),
    )
    pending = cur.fetchall()
    if not pending:
        if published_at:
            when = local_time(published_at, str(wf.timezone))
            raise InvalidInput(f"抽查计划 {plan_no} 已于 {when} 公布，没有新增任务需要公布")
        raise InvalidInput(f"抽查计划 {plan_no} 没有任务：请先创建或导入任务")
    published: list[dict[str, Any]] = []
    for task_id, task_no in pending:
        secret = algorithm.new_secret()
        commitment = algorithm.commitment_of(secret)

        def change(tx: Any, secret: bytes = secret, commitment: str = commitment) -> None:
            if not states.allows("commit", tx.task.state):
                raise InvalidInput(f"任务 {tx.task.id} 状态为 {tx.task.state}，不能公布承诺值")
            tx.execute(
                "INSERT INTO draw_secret (task_id, secret, created_at) VALUES (?, ?, ?)",
                (tx.task.id, secret.hex(), tx.at),
            )
            tx.set_commitment(commitment)

        wf.apply_change(
            cur,
            task_id,
            None,
            actor=actor,
            role=role,
            kind="draw_committed",
            reason=None,
            payload={"plan_no": plan_no, "task_no": task_no, "commitment": commitment},
            change=change,
        )
        published.append({"task_id": task_id, "task_no": task_no, "commitment": commitment})
    head = audit.read_head(cur, sql)
    at = head.stamp(wf.event_time())
    cur.execute(sql("UPDATE plan SET published_at = ? WHERE id = ?"), (at, plan_id))
    audit.append(
        cur,
        sql,
        head,
        at=at,
        actor=actor,
        role=role,
        task_id=None,
        kind="plan_published",
        payload={"plan_no": plan_no, "tasks": published},
    )
    return published


# --- the plan table (seed 004 annex) ----------------------------------------------------------


def _type(v: str) -> str:
    hit = normalize.TASK_TYPE.get(v)
    if hit is None:
        raise ValueError("应为 定向 或 不定向")
    return hit


def _ratio(v: str) -> str:
    try:
        return normalize_ratio(v)
    except InvalidInput as e:
        raise ValueError(str(e)) from None


def _words(v: str) -> list[str]:
    return [w for p in normalize.split_list(v) for w in p.split("/") if w]


def parse_conditions(v: str) -> dict[str, list[str]]:
    """'信用风险等级=C,D；规模=大型' → {"grade": ["C", "D"], "size": ["大型"]}."""
    out: dict[str, list[str]] = {}
    for part in (p.strip() for p in re.split(r"[;；\n]", v)):
        if not part:
            continue
        text = normalize.nfkc(part)  # ＝ and ： become = and :
        label, sep, values = text.partition("=")
        if not sep:
            label, sep, values = text.partition(":")
        label = normalize.word(label)
        key = _FILTER_BY_LABEL.get(label) or (label if label in FILTER_KEYS else None)
        if key is None:
            raise ValueError(f"条件 {label!r} 无效：应为 {'、'.join(FILTER_KEYS.values())}")
        out[key] = _words(values)
        if not out[key]:  # "地区" alone would filter on nothing: say what is missing
            raise ValueError(f"条件 {label} 缺少取值：应写作 {label}=取值，如 信用风险等级=C,D")
        choice = _FILTER_CHOICES.get(key)
        bad = [w for w in out[key] if choice is not None and choice.get(w) is None]
        if bad:
            raise ValueError(
                f"{FILTER_KEYS[key]} 的值 {'、'.join(bad)} 无效：{choice.allowed() if choice else ''}"
            )
        if choice is not None:
            out[key] = list(dict.fromkeys(choice(w) for w in out[key]))
    return out


def parse_task_conditions(
    conditions: str, stratum_ratios: str
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """A task's 定向条件 and 分层比例 as people type them (``task create``, the API), as the
    filters and stratum ratios ``create_task`` takes; InvalidInput names the field."""
    try:
        filters = parse_conditions(conditions)
    except ValueError as e:
        raise InvalidInput(f"定向条件无效：{e}", field="conditions", value=conditions) from None
    try:
        strata = parse_stratum_ratios(stratum_ratios)
    except ValueError as e:
        raise InvalidInput(
            f"分层比例无效：{e}", field="stratum_ratios", value=stratum_ratios
        ) from None
    return filters, strata


def parse_stratum_ratios(v: str) -> dict[str, str]:
    """'C=20%；D=30%' → {"C": "0.2", "D": "0.3"}."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in re.split(r"[;；,，\n]", v)):
        if not part:
            continue
        grade, sep, ratio = normalize.nfkc(part).partition("=")
        if not sep:
            raise ValueError("应为 分层=比例，如 C=20%；D=30%")
        try:
            stratum = normalize.stratum(grade)
        except ValueError:
            raise ValueError(f"分层 {grade.strip()!r} 无效：应为 A/B/C/D 或 {UNGRADED}") from None
        out[stratum] = _ratio(ratio.strip())
    return out


def _plan_no(v: str) -> str:
    return normalize.code(v)


def _task_no(v: str) -> str:
    return normalize.task_no(v) if v else ""


PLAN_TABLE = Kind(
    "plans",
    "年度抽查工作计划",
    "plan",
    (
        Col("serial", "序号", required=True),
        Col("unit", "单位", directories.parse_word, required=True),
        Col("plan_no", "抽查计划编号", _plan_no, required=True, note="年份+三位序号，如 2024001"),
        Col("plan_name", "抽查计划名称", note="年度+部门+随机抽查+序号（来源文件 004）"),
        Col("task_no", "抽查任务编号", _task_no, note="如 001号；留空则顺延"),
        Col("name", "抽查任务名称", required=True),
        Col(
            "task_type",
            "抽查类型",
            _type,
            required=True,
            note="定向 或 不定向",
            choices=normalize.Choice(
                "抽查类型", ("定向", "不定向"), {"定向抽查": "定向", "不定向抽查": "不定向"}
            ),
        ),
        Col("ratio", "抽查比例", _ratio, required=True, note="如 10% 或 0.1"),
        Col("items", "抽查事项", note="事项编码或名称，顿号分隔；或“按照……事项清单”表示清单全覆盖"),
        Col(
            "scope",
            "抽查对象范围",
            note=f"检查对象类型，多个用顿号或空格分隔；{normalize.TARGET_TYPE.allowed()}；留空为全部",
        ),
        Col("office", "发起处室", directories.parse_word),
        Col("joining", "联合处室", _words, note="空格或顿号分隔"),
        Col("months", "抽查时间", normalize.months, note=normalize.MONTH_FORMS),
        Col(
            "conditions",
            "定向条件",
            parse_conditions,
            note="如 信用风险等级=C,D；规模=大型（等级可写 C级，规模可写 小型企业）",
        ),
        Col("stratum_ratios", "分层比例", parse_stratum_ratios, note="如 C=20%；D=30%"),
        Col(
            "field",
            "执法领域",
            directories.parse_word,
            note="检查组人员须具备的执法领域（留空不限）",
        ),
    ),
)


def _scope_types(scope: str) -> list[str]:
    words = _words(scope)
    if not words or words in (["全部"], ["所有"], ["全部对象"]):
        return []
    bad = [w for w in words if normalize.TARGET_TYPE.get(w) is None]
    if bad:
        raise ValueError(f"{'、'.join(bad)} 不是检查对象类型：应为 {'、'.join(TARGET_TYPES)}")
    return list(dict.fromkeys(normalize.TARGET_TYPE(w) for w in words))


def _item_codes(
    text: str, items: dict[str, str], retired: frozenset[str] = frozenset()
) -> list[str]:
    """Item codes named by the 抽查事项 cell: codes or names, or the whole list (清单全覆盖)."""
    if not text:
        return []
    if "事项清单" in text or "清单全覆盖" in text:
        active = {c for c in items.values() if c not in retired}
        if not active:
            raise ValueError("事项清单为空：请先导入抽查事项清单")
        return sorted(active)
    out: list[str] = []
    bad: list[str] = []
    for word in _words(text):
        code = items.get(word) or items.get(normalize.fold(word))
        (out if code else bad).append(code or word)
    if bad:
        raise ValueError(f"{'、'.join(bad)} 不在抽查事项清单中（应为事项编码或名称）")
    gone = [c for c in out if c in retired]
    if gone:
        raise ValueError(f"{'、'.join(dict.fromkeys(gone))} 已停用，不能用于新任务")
    return list(dict.fromkeys(out))


@dataclass
class PlanImport:
    plans_created: list[str]
    tasks_created: int
    tasks_unchanged: int
    dry_run: bool
    warnings: list[str] = field(default_factory=list)  # printed, not refused


def import_plan_table(  # noqa: C901 (whole-file validation: a flat list of independent checks)
    wf: Workflow,
    path: Path,
    *,
    actor: str,
    rules: DrawSettings,
    dry_run: bool,
    within: Actor | None = None,
) -> PlanImport:
    """Load a plan table in seed 004's annex layout; all rows or none. Every problem of every
    row is found in one pass and reported together, by row; only a check that needs a value
    found wrong (a task number's plan, a month's plan year) is skipped for that row. A plan
    outside the account's subtree (``within``), new or stored, is a problem of its row."""
    problems: list[str] = []
    parsed: list[ParsedRow] = []
    parse_file(PLAN_TABLE, path, problems_out=problems, all_rows=parsed)
    header = {c.key: c.header for c in PLAN_TABLE.cols}
    sql = wf.raw.sql

    def bad(row: int, key: str, message: str, value: Any) -> None:
        problems.append(RowProblem(path, message, row=row, column=header[key], value=value))

    def reject() -> ImportRejected:
        order = {c.header: i for i, c in enumerate(PLAN_TABLE.cols)}

        def where(line: str) -> tuple[int, int]:  # FILE:ROW:COLUMN: message
            row, _, rest = line[len(str(path)) + 1 :].partition(":")
            return int(row) if row.isdigit() else 0, order.get(rest.partition(":")[0], -1)

        return ImportRejected(str(path), sorted(problems, key=where))

    summary = PlanImport([], 0, 0, dry_run)
    with wf.raw.write() as cur:
        cur.execute("SELECT code, name, category, retired_at FROM item")
        # Codes and names as written, and folded (NFKC, no spaces, upper case) as clerks type.
        items, categories, retired = {}, {}, set()
        for code, name, category, retired_at in cur.fetchall():
            items[code] = items[name] = items[normalize.fold(name)] = code
            categories[code] = RETIRED if retired_at else category
            if retired_at:
                retired.add(code)
        plans: dict[str, ParsedRow] = {}  # plan no. → its first row
        stored: dict[str, bool] = {}  # plan no. → already in the database
        named: dict[str, str] = {}  # plan no. → the plan qualified by its bureau
        specs: list[tuple[int, str, TaskSpec, bool]] = []  # row, plan, task, stored and same
        seen_task_no: dict[tuple[str, str], int] = {}
        for row in parsed:
            rec, text, n = row.rec, row.text, row.row
            broken = set(row.bad)  # columns already reported: checks needing them are skipped
            before = len(problems)
            plan_no = rec.get("plan_no", "")
            m = PLAN_NO.match(plan_no) if "plan_no" not in broken else None
            if m is None and "plan_no" not in broken:
                bad(n, "plan_no", "应为 年份+三位序号，如 2024001", plan_no)
                broken.add("plan_no")
            if m:
                first = plans.setdefault(plan_no, row)
                if first is row:
                    stored[plan_no], named[plan_no] = _check_plan(
                        cur, sql, plan_no, row, broken, bad, within
                    )
                else:
                    for key in ("unit", "plan_name"):
                        if key not in broken | first.bad and rec[key] != first.rec[key]:
                            bad(n, key, f"与第 {first.row} 行同一计划的值不一致", rec[key])
            spec = TaskSpec(
                name=rec.get("name", ""),
                task_no=rec["task_no"] or None,
                # A placeholder for a value already reported, so that the other checks run:
                # whatever they then say about its own column is left out below.
                task_type=rec.get("task_type", "directed"),
                ratio=rec.get("ratio", "1"),
                items=rec["items"],
                scope=rec["scope"],
                initiating_office=rec["office"],
                joining_offices=rec["joining"],
                months=rec["months"],
                filters=dict(rec["conditions"]),
                stratum_ratios=rec["stratum_ratios"],
                inspector_field=rec["field"],
            )
            try:
                spec.item_codes = _item_codes(rec["items"], items, frozenset(retired))
            except ValueError as e:
                bad(n, "items", str(e), rec["items"])
                broken.add("items")
            if m and "months" not in broken:
                try:
                    spec.months = normalize_months(text["months"], int(m.group(1)))
                except InvalidInput as e:
                    bad(n, "months", str(e), text["months"])
            if m and spec.task_no:
                other = seen_task_no.get((plan_no, spec.task_no))
                if other:
                    bad(n, "task_no", f"与第 {other} 行的任务编号重复", spec.task_no)
                else:
                    seen_task_no[(plan_no, spec.task_no)] = n
            for key, message in task_problems(spec, rules, categories):
                if key not in broken:
                    bad(n, key, message, text.get(key, ""))
            same = None  # the stored task of this number is the same (None: there is none)
            if not row.bad and len(problems) == before and stored.get(plan_no) and spec.task_no:
                same = _stored_task_is(cur, sql, named[plan_no], spec)
                if same is False:
                    bad(
                        n,
                        "task_no",
                        f"计划 {plan_no} 已有此任务且内容不同；已建任务不能通过导入修改",
                        spec.task_no,
                    )
            specs.append((n, plan_no, spec, bool(same)))
        if problems:
            raise reject()
        for plan_no, first in plans.items():
            if stored[plan_no]:
                continue
            insert_plan(
                wf,
                cur,
                plan_no,
                unit=first.rec["unit"],
                actor=actor,
                role="clerk",
                name=first.rec["plan_name"] or None,
                within=within,
            )
            summary.plans_created.append(plan_no)
        for n, plan_no, spec, same in specs:
            if same:
                summary.tasks_unchanged += 1
                continue
            try:
                insert_task(
                    wf,
                    cur,
                    named.get(plan_no, plan_no),
                    spec,
                    actor=actor,
                    role="clerk",
                    reason=f"导入 {path.name}",
                    rules=rules,
                    within=within,
                )
            except InvalidInput as e:  # a task number taken by one numbered on import
                bad(n, "task_no", str(e), spec.task_no or "")
                continue
            summary.tasks_created += 1
        if problems:
            raise reject()
        summary.warnings = _field_warnings(cur, specs)
        if dry_run:
            wf.raw.dbapi.rollback()
    return summary


def _check_plan(
    cur: Any,
    sql: Any,
    plan_no: str,
    row: ParsedRow,
    broken: set[str],
    bad: Callable[[int, str, str, Any], None],
    within: Actor | None = None,
) -> tuple[bool, str]:
    """Check a plan at its first row: its bureau (plan numbers are each bureau's own), a new
    one's name. Whether it is stored already, and the plan as the rest of the import names it
    (``130227:2024001``)."""
    if "unit" in broken:
        return False, plan_no
    try:
        owner, unit = units.owner_of(cur, sql, row.rec["unit"])
        units.require_within(owner, within)
    except (InvalidInput, Forbidden) as e:
        bad(row.row, "unit", e.message, row.rec["unit"])
        return False, plan_no
    cur.execute(sql("SELECT id FROM plan WHERE plan_no = ? AND unit_id = ?"), (plan_no, owner.id))
    if cur.fetchone() is not None:
        return True, f"{owner.code}:{plan_no}"
    if "plan_name" not in broken:
        try:
            plan_identity(plan_no, unit, row.rec["plan_name"] or None)
        except InvalidInput as e:
            bad(row.row, "plan_name", str(e), row.rec["plan_name"])
    return False, f"{owner.code}:{plan_no}"


def _stored_task_is(cur: Any, sql: Any, plan_no: str, spec: TaskSpec) -> bool | None:
    """Whether the stored task of this number is the same as ``spec`` (None: there is none)."""
    cur.execute(
        sql(
            "SELECT t.name, t.task_type, t.ratio, t.item_codes, t.filters,"
            " t.stratum_ratios, t.months FROM task t WHERE t.plan_id = ? AND t.task_no = ?"
        ),
        (find_plan(cur, sql, plan_no), spec.task_no),
    )
    found = cur.fetchone()
    if found is None:
        return None
    return (
        found[0],
        found[1],
        found[2],
        json.loads(found[3]),
        json.loads(found[4]),
        json.loads(found[5]),
        found[6],
    ) == (
        spec.name,
        spec.task_type,
        spec.ratio,
        spec.item_codes,
        spec.filters,
        spec.stratum_ratios,
        spec.months,
    )


def _field_warnings(cur: Any, specs: list[tuple[int, str, TaskSpec, bool]]) -> list[str]:
    """A task's 执法领域 that no inspector has: its draw would find no group."""
    cur.execute("SELECT fields FROM inspector")
    have = {f for (fields,) in cur.fetchall() for f in json.loads(fields)}
    out = []
    for row, _, spec, _ in specs:
        if spec.inspector_field and spec.inspector_field not in have:
            out.append(
                f"第 {row} 行的执法领域“{spec.inspector_field}”没有任何执法人员具备"
                f"（名录中的执法领域：{'、'.join(sorted(have)) or '无'}）；抽取时将无法组成检查组"
            )
    return out


def write_plan_template(path: Path) -> None:
    from workflow.sampling.directories import write_sheet

    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"模板须为 .xlsx 文件：{path}")
    write_sheet(path, [[c.header for c in PLAN_TABLE.cols]], PLAN_TABLE, notes=True)
