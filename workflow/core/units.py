"""Units (单位, DESIGN §8): the tree province → city → county bureau → office (科室).

Plans, tasks, targets, inspectors, report obligations and (next) accounts belong to a unit; an
account sees its unit's subtree. Each unit keeps ``path``, the ids from the root ("/1/4/9/"),
so that a subtree is one prefix match inside the query that reads the rows (:func:`in_subtree`)
rather than a filter after it. Every new unit and every change is one audit event.

A database starts with one root unit (the migration's ``000000`` 本单位: a single bureau,
renamed with ``edit``); offices are units of kind ``office`` under a bureau. An office's head
and address receive the escalations of the office's deadlines, and ``reports`` marks the
offices that owe the periodic reports of seed 000.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from workflow.core import audit, identity, normalize
from workflow.core.db import RawConnection
from workflow.core.errors import Forbidden, InvalidInput, NotFound, Step
from workflow.core.identity import Actor

# The levels, top down. A unit sits under a unit of a higher level: a city under the province,
# a county under a city or (省直管县) the province, an office under any bureau.
KINDS: dict[str, str] = {"province": "省级", "city": "市级", "county": "县级", "office": "科室"}
BUREAUS = ("province", "city", "county")
_KIND_WORDS = {
    **{k: k for k in KINDS},
    **{v: k for k, v in KINDS.items()},
    "省": "province",
    "市": "city",
    "县": "county",
    "区": "county",
    "县区": "county",
    "处室": "office",
    "大队": "office",
    "科": "office",
}
_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,31}")
COLUMNS = ("id", "code", "name", "kind", "parent_id", "path", "head", "email", "reports")
EDITABLE = ("code", "name", "kind", "head", "email", "reports")


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str
    head: str = ""
    email: str = ""
    reports: bool = False

    @property
    def is_office(self) -> bool:
        return self.kind == "office"

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code}）"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "kind_label": KINDS[self.kind]}


def parse_kind(text: str) -> str:
    """A level as people write it: province/city/county/office, 省级/市级/县级/科室, 省/市/县 …"""
    word = normalize.nfkc(text).strip().lower()
    kind = _KIND_WORDS.get(word) or _KIND_WORDS.get(word.removesuffix("级"))
    if kind is None:
        raise InvalidInput(
            f"单位层级 {text!r} 无效：应为 省级、市级、县级 或 科室", field="kind", value=text
        )
    return kind


def parse_code(text: str) -> str:
    code = normalize.nfkc(text).strip()
    if not _CODE.fullmatch(code):
        raise InvalidInput(
            f"单位代码 {text!r} 无效：应为 1–32 位字母、数字、-、_（如 410421 或 410421-01）",
            field="code",
            value=text,
        )
    return code


def placement_problem(kind: str, parent: Unit | None) -> str | None:
    """Why a unit of ``kind`` cannot sit under ``parent`` (None: the root), or None."""
    if parent is None:
        return "只能有一个最上级单位：新单位须指明上级单位"
    if parent.is_office:
        return f"上级单位 {parent.label} 是科室，科室下不能再设单位"
    if kind != "office" and BUREAUS.index(kind) <= BUREAUS.index(parent.kind):
        return (
            f"{KINDS[kind]}单位不能设在{KINDS[parent.kind]}单位 {parent.label} 之下"
            "（层级自上而下：省级、市级、县级，科室设在任一级之下）"
        )
    return None


# ---------------------------------------------------------------------------------------------
# Reading


def _unit(row: Iterable[Any]) -> Unit:
    values = list(row)
    values[-1] = bool(values[-1])
    return Unit(*values)


def load(cur: Any, sql: Any) -> list[Unit]:
    """Every unit, parents before children (by path)."""
    cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit ORDER BY path"))
    return [_unit(r) for r in cur.fetchall()]


def all_units(raw: RawConnection) -> list[Unit]:
    with raw.read() as cur:
        return load(cur, raw.sql)


def find(
    cur: Any, sql: Any, code: str, *, within: Actor | None = None, field: str = "unit"
) -> Unit:
    """The unit of ``code`` (as typed: full-width folded); NotFound lists the codes there are.
    ``within``: outside that account's subtree a unit does not exist (as accounts do not), and
    only the subtree's codes are listed."""
    folded = normalize.nfkc(code).strip()
    cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit WHERE code = ?"), (folded,))
    row = cur.fetchone()
    if row is None or (within is not None and not within.sees_path(_unit(row).path)):
        scope, args = ("WHERE path LIKE ? ", (within.unit_path + "%",)) if within else ("", ())
        cur.execute(sql(f"SELECT code, name FROM unit {scope}ORDER BY path"), args)
        known = "、".join(f"{n}（{c}）" for c, n in cur.fetchall()[:20])
        raise NotFound(f"单位 {code!r} 不存在（现有：{known or '无'}）", field=field, value=code)
    return _unit(row)


def root(cur: Any, sql: Any) -> Unit:
    cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit WHERE parent_id IS NULL"))
    row = cur.fetchone()
    if row is None:  # the migration creates it; only a hand-edited database lacks it
        raise NotFound("数据库中没有任何单位：请先初始化数据库", steps=[Step("init")])
    return _unit(row)


def by_id(cur: Any, sql: Any, unit_id: int) -> Unit:
    cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit WHERE id = ?"), (unit_id,))
    return _unit(cur.fetchone())


def resolve(cur: Any, sql: Any, code: str | None) -> Unit:
    """The unit named by ``code``; without one, the root (a single bureau's database)."""
    return root(cur, sql) if code is None or not code.strip() else find(cur, sql, code)


def bureau(cur: Any, sql: Any, code: str | None) -> Unit:
    """A bureau (not an office) that owns plans, tasks and directory rows. Without a code, the
    bound account's bureau (an office's account: the bureau it is part of), else the root; a
    bureau outside the bound account's subtree is refused."""
    who = identity.current()
    if (code is None or not code.strip()) and who is not None and who.role != "system":
        cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit WHERE path = ?"), (who.unit_path,))
        row = cur.fetchone()
        u = _unit(row) if row is not None else resolve(cur, sql, None)
    else:
        u = reachable(resolve(cur, sql, code))
    if u.is_office:
        raise InvalidInput(
            f"{u.label} 是科室：计划、任务与名录属于局（省级、市级或县级单位），请指明其所在的局",
            field="unit",
            value=code,
        )
    return u


def home(cur: Any, sql: Any, actor: Actor) -> Unit:
    """The unit an account acts over: its own, or an office account's bureau (whose path its
    scope carries)."""
    cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit WHERE path = ?"), (actor.unit_path,))
    row = cur.fetchone()
    if row is None:  # the account's unit is there: the foreign key holds it
        raise NotFound(f"账号 {actor.username} 所属单位不存在", field="unit")
    return _unit(row)


def require_within(unit: Unit, within: Actor | None) -> Unit:
    """``unit`` if it lies in the account's subtree (DESIGN §8), else Forbidden naming it.
    No account: no scope."""
    if within is not None and not within.sees_path(unit.path):
        raise Forbidden(
            f"{unit.label} 不在账号 {within.username} 所属单位（{within.unit_code}）"
            "及其下级单位之内",
            field="unit",
            value=unit.code,
        )
    return unit


def owning_bureau(cur: Any, sql: Any, code: str | None, within: Actor | None) -> Unit:
    """The bureau that owns what an account writes (plans, directory rows): the one ``code``
    names, which must lie in the account's subtree; without a code, the account's own bureau
    (no account: the root, a single bureau's database)."""
    if (code is None or not code.strip()) and within is not None:
        return bureau(cur, sql, home(cur, sql, within).code)
    return require_within(bureau(cur, sql, code), within)


def reachable(u: Unit) -> Unit:
    """``u``, if the bound account may act on it (its subtree holds it); nobody bound (the
    engine's own callers) and the system account reach every unit."""
    who = identity.current()
    return require_within(u, who if who is not None and who.role != "system" else None)


def in_subtree(column: str, unit: Unit) -> tuple[str, tuple[str]]:
    """A WHERE fragment: ``column`` (a unit id) lies in ``unit``'s subtree; and its parameter."""
    return under(column, unit.path)


def under(column: str, path: str) -> tuple[str, tuple[str]]:
    """A WHERE fragment: ``column`` (a unit id) lies in the subtree at ``path`` (an account's
    ``unit_path``); and its parameter."""
    return f"{column} IN (SELECT id FROM unit WHERE path LIKE ?)", (path + "%",)


def require_whole(cur: Any, sql: Any, who: Actor | None, what: str) -> None:
    """Work over the whole database at once (the sweep, the mail queue, the log exported
    whole), which no unit owns, belongs to the accounts whose subtree is the whole tree: those
    of the root unit (or of its offices). ``what``: the work, for the message."""
    if who is None:
        return
    top = root(cur, sql)
    if who.unit_path != top.path:
        raise Forbidden(
            f"{what}涉及全部单位：限于 {top.label} 的账号，账号 {who.username} 属于{who.unit_code}",
            unit=who.unit_code,
        )


def offices(cur: Any, sql: Any) -> dict[int, dict[str, Unit]]:
    """Bureau id → office name → the office: a task's initiating office is a name within
    its bureau, so two counties may each have a 劳动保障监察大队."""
    cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit WHERE kind = 'office' ORDER BY path"))
    out: dict[int, dict[str, Unit]] = {}
    for row in cur.fetchall():
        u = _unit(row)
        out.setdefault(u.parent_id or 0, {})[u.name] = u
    return out


def reporting_offices(cur: Any, sql: Any, within: str | None = None) -> list[Unit]:
    """The offices that owe the periodic reports; ``within`` (a unit path): of that subtree."""
    scope = " AND path LIKE ?" if within else ""
    cur.execute(
        sql(
            f"SELECT {', '.join(COLUMNS)} FROM unit WHERE kind = 'office' AND reports = ?"
            f"{scope} ORDER BY path"
        ),
        (True, within + "%") if within else (True,),
    )
    return [_unit(r) for r in cur.fetchall()]


# ---------------------------------------------------------------------------------------------
# Writing: one event per unit added or changed


@dataclass(frozen=True)
class NewUnit:
    code: str
    name: str
    kind: str
    parent: str | None  # the parent's code
    head: str = ""
    email: str = ""
    reports: bool = False


def add(
    raw: RawConnection, new: NewUnit, *, actor: str, now: str, within: Actor | None = None
) -> Unit:
    """Add ``new``; ``within``: its parent must lie in that account's subtree."""
    with raw.write() as cur:
        if within is not None and new.parent:
            find(cur, raw.sql, new.parent, within=within, field="parent")
        return insert(cur, raw.sql, new, actor=actor, now=now, reason=None)


def insert(cur: Any, sql: Any, new: NewUnit, *, actor: str, now: str, reason: str | None) -> Unit:
    """Add ``new`` inside the caller's write transaction (an import adds many in one)."""
    code = parse_code(new.code)
    name = normalize.nfkc(new.name).strip()
    if not name:
        raise InvalidInput("单位名称不能为空", field="name")
    cur.execute(sql("SELECT name FROM unit WHERE code = ?"), (code,))
    clash = cur.fetchone()
    if clash:
        raise InvalidInput(f"单位代码 {code} 已被 {clash[0]} 使用", field="code", value=code)
    parent = find(cur, sql, new.parent, field="parent") if new.parent else None
    problem = placement_problem(new.kind, parent)
    if problem:
        raise InvalidInput(problem, field="parent", value=new.parent)
    assert parent is not None
    _require_unique_name(cur, sql, parent, name, None)
    cur.execute(
        sql(
            "INSERT INTO unit (code, name, kind, parent_id, path, head, email, reports,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?)"
        ),
        (code, name, new.kind, parent.id, new.head, new.email, new.reports, now, now),
    )
    cur.execute(sql("SELECT id FROM unit WHERE code = ?"), (code,))
    uid = cur.fetchone()[0]
    path = f"{parent.path}{uid}/"
    cur.execute(sql("UPDATE unit SET path = ? WHERE id = ?"), (path, uid))
    unit = Unit(uid, code, name, new.kind, parent.id, path, new.head, new.email, new.reports)
    payload = {"unit": code, "before": None, "after": {**_public(unit), "parent": parent.code}}
    _log(cur, sql, "unit_added", payload, actor=actor, now=now, reason=reason)
    return unit


def edit(
    raw: RawConnection,
    code: str,
    changes: Mapping[str, Any],
    *,
    actor: str,
    now: str,
    within: Actor | None = None,
) -> Unit:
    """Change the unit of ``code``; ``within``: it must lie in that account's subtree."""
    with raw.write() as cur:
        if within is not None:
            find(cur, raw.sql, code, within=within, field="code")
        return update(cur, raw.sql, code, changes, actor=actor, now=now, reason=None)


def update(
    cur: Any,
    sql: Any,
    code: str,
    changes: Mapping[str, Any],
    *,
    actor: str,
    now: str,
    reason: str | None,
) -> Unit:
    """Change a unit's code, name, level, head, address or report duty; one event with
    before/after. Nothing else refers to a unit by code, so a new code changes nothing else; a
    new level must still fit between the unit's parent and its children (the migration's root
    starts as a county bureau: a city or province bureau says so here)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValueError(f"not editable: {unknown}")
    old = find(cur, sql, code, field="code")
    new = dict(_public(old))
    for key, value in changes.items():
        if value is None:
            continue
        if key == "code":
            value = parse_code(value)
        elif key == "name":
            value = normalize.nfkc(value).strip()
            if not value:
                raise InvalidInput("单位名称不能为空", field="name")
        elif key == "kind":
            value = parse_kind(value)
        new[key] = value
    if new["kind"] != old.kind:
        _require_level_fits(cur, sql, old, new["kind"])
    if new["code"] != old.code:
        cur.execute(sql("SELECT name FROM unit WHERE code = ?"), (new["code"],))
        clash = cur.fetchone()
        if clash:
            raise InvalidInput(
                f"单位代码 {new['code']} 已被 {clash[0]} 使用", field="code", value=new["code"]
            )
    if new["reports"] and not old.is_office:
        raise InvalidInput(f"{old.label} 不是科室：定期报告由科室报送", field="reports")
    if new["name"] != old.name and old.parent_id is not None:
        cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit WHERE id = ?"), (old.parent_id,))
        _require_unique_name(cur, sql, _unit(cur.fetchone()), new["name"], old.id)
    diff = [k for k in EDITABLE if new[k] != getattr(old, k)]
    if not diff:
        return old
    cur.execute(
        sql(
            "UPDATE unit SET code = ?, name = ?, kind = ?, head = ?, email = ?, reports = ?,"
            " updated_at = ? WHERE id = ?"
        ),
        (new["code"], new["name"], new["kind"], new["head"], new["email"], new["reports"], now,
         old.id),
    )  # fmt: skip
    payload = {
        "unit": new["code"],
        "before": {k: getattr(old, k) for k in diff},
        "after": {k: new[k] for k in diff},
    }
    _log(cur, sql, "unit_changed", payload, actor=actor, now=now, reason=reason)
    return Unit(old.id, new["code"], new["name"], new["kind"], old.parent_id, old.path,
                new["head"], new["email"], new["reports"])  # fmt: skip


def _require_level_fits(cur: Any, sql: Any, old: Unit, kind: str) -> None:
    if (kind == "office") != old.is_office:
        raise InvalidInput(
            f"{old.label} 不能在局与科室之间改变层级", field="kind", value=KINDS[kind]
        )
    parent = None
    if old.parent_id is not None:
        cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit WHERE id = ?"), (old.parent_id,))
        parent = _unit(cur.fetchone())
        problem = placement_problem(kind, parent)
        if problem:
            raise InvalidInput(problem, field="kind", value=KINDS[kind])
    cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit WHERE parent_id = ?"), (old.id,))
    moved = replace(old, kind=kind)
    for child in (_unit(r) for r in cur.fetchall()):
        problem = placement_problem(child.kind, moved)
        if problem:
            raise InvalidInput(
                f"下级单位 {child.label} 不能留在{KINDS[kind]}单位之下：{problem}",
                field="kind",
                value=KINDS[kind],
            )


def _require_unique_name(cur: Any, sql: Any, parent: Unit, name: str, own: int | None) -> None:
    cur.execute(
        sql("SELECT code FROM unit WHERE parent_id = ? AND name = ? AND id <> ?"),
        (parent.id, name, own or -1),
    )
    other = cur.fetchone()
    if other:
        raise InvalidInput(
            f"{parent.label} 下已有名为 {name} 的单位（{other[0]}）", field="name", value=name
        )


def _public(u: Unit) -> dict[str, Any]:
    return {
        "code": u.code,
        "name": u.name,
        "kind": u.kind,
        "head": u.head,
        "email": u.email,
        "reports": u.reports,
    }


def _log(
    cur: Any,
    sql: Any,
    kind: str,
    payload: dict[str, Any],
    *,
    actor: str,
    now: str,
    reason: str | None,
) -> None:
    head = audit.read_head(cur, sql)
    audit.append(
        cur,
        sql,
        head,
        at=head.stamp(now),
        actor=actor,
        role="admin",
        task_id=None,
        kind=kind,
        reason=reason,
        payload=payload,
    )


def owner_of(cur: Any, sql: Any, text: str) -> tuple[Unit, str]:
    """The bureau a plan names in its 单位 column (seed 004: the department's name, e.g.
    迁西县人力资源和社会保障局), and the department name to keep with the plan. ``text`` may be
    a bureau's code or name; a database with a single bureau takes any name as its own (the
    name is the plan's wording), one with several refuses a name it cannot place."""
    folded = normalize.word(text)
    cur.execute(sql(f"SELECT {', '.join(COLUMNS)} FROM unit WHERE kind <> 'office' ORDER BY path"))
    bureaus = [_unit(r) for r in cur.fetchall()]
    for u in bureaus:
        if folded in (u.code, u.name):
            return reachable(u), u.name
    if len(bureaus) == 1:
        return reachable(bureaus[0]), folded
    listed = "、".join(u.label for u in bureaus[:20])
    raise InvalidInput(
        f"单位 {text!r} 不是本系统中的局：应为其中之一的名称或代码（{listed}）",
        field="unit",
        value=text,
    )
