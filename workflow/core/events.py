"""The event kinds, declared once: each kind's payload and what it does to a task's state.

The writer refuses a kind that is not declared here (``audit.append``), and replay applies each
event through the same declaration (``apply``), so replay cannot drift from what was written:
a kind added without its ``apply`` is a kind replay visibly ignores, by declaration.
docs/AUDIT.md lists the kinds and their payloads for outsiders; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import states

Problems = list[dict[str, Any]]


# ---------------------------------------------------------------------------------------------
# A task's state as the log builds it (replay)


@dataclass(slots=True)
class RecordState:
    group_size: int
    result: str | None = None
    published: bool = False
    followups: int = 0
    rectify_by: str | None = None
    corrections: int = 0
    joined: list[dict[str, Any]] = field(default_factory=list)  # joint visits merged in
    # What ``audit replay --task N --at T`` shows of the record as of T.
    group: list[str] = field(default_factory=list)
    note: str | None = None
    published_at: str | None = None
    place: str | None = None
    followup_list: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self, code: str) -> dict[str, Any]:
        return {
            "target_code": code,
            "group": list(self.group),
            "result": self.result,
            "result_note": self.note,
            "published_at": self.published_at,
            "published_place": self.place,
            "followups": list(self.followup_list),
            "joined": list(self.joined),
        }


@dataclass(slots=True)
class TaskState:
    state: str
    version: int
    records: dict[str, RecordState] = field(default_factory=dict)


def problem(task: int | None, what: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"task": task, "what": what, "message": message, **extra}


# ---------------------------------------------------------------------------------------------
# Payloads (what the writer puts in each kind's event)


class TransitionPayload(TypedDict, total=False):
    trigger: str
    data: dict[str, Any]  # the draw: {"targets": [[code, group], ...], ...}


class ResultSetPayload(TypedDict, total=False):
    target_code: str
    before: dict[str, Any]
    after: dict[str, Any]
    rectify_by: str


class ResultCorrectedPayload(TypedDict, total=False):
    target_code: str
    before: dict[str, Any]
    after: dict[str, Any]
    category: str
    rectify_by: str | None
    published_on: str
    place: str


class RectifyByChangedPayload(TypedDict):
    target_code: str
    before: str | None
    after: str


class ResultsPublishedPayload(TypedDict, total=False):
    targets: list[str]
    published_at: str
    published_on: str
    place: str


class JointVisitPayload(TypedDict):
    target_code: str
    joined: dict[str, Any]


class FollowupPayload(TypedDict, total=False):
    target_code: str
    outcome: str
    date: str
    note: str


SubstitutionPayload = TypedDict(  # "in" is a keyword: the functional form
    "SubstitutionPayload",
    {
        "target_code": str,
        "out": str,
        "in": str,
        "skipped": list[dict[str, Any]],
        "before": list[str],
        "after": list[str],
    },
    total=False,
)


Payload = dict[str, Any]  # kinds whose payload replay does not read


# ---------------------------------------------------------------------------------------------
# What each kind does to a task's state


def _record(t: TaskState, p: Any, seq: int, problems: Problems, task_id: int) -> RecordState | None:
    rec = t.records.get(p["target_code"])
    if rec is None:
        problems.append(
            problem(task_id, "log", f"事件 {seq}：检查对象 {p['target_code']} 不存在", seq=seq)
        )
    return rec


def _transition(t: TaskState, p: Any, seq: int, problems: Problems, task_id: int, to: str) -> None:
    trigger = p.get("trigger")
    if trigger == "draw":  # the draw event carries the drawn targets and their groups
        for code, group in p.get("data", {}).get("targets", ()):
            t.records[code] = RecordState(len(group), group=list(group))
    if to not in states.destination(t.state, trigger):
        problems.append(
            problem(task_id, "log", f"事件 {seq}：{t.state} 经 {trigger} 不能到达 {to}", seq=seq)
        )
    t.state = to


def _result_set(t: TaskState, p: Any, seq: int, problems: Problems, task_id: int, to: str) -> None:
    rec = _record(t, p, seq, problems, task_id)
    if rec is not None:
        rec.result = p["after"]["result"]
        rec.note = p["after"].get("note")
        rec.rectify_by = p.get("rectify_by")


def _result_corrected(
    t: TaskState, p: Any, seq: int, problems: Problems, task_id: int, to: str
) -> None:
    rec = _record(t, p, seq, problems, task_id)
    if rec is not None:
        rec.result = p["after"]["result"]
        rec.note = p["after"].get("note")
        rec.rectify_by = p.get("rectify_by")
        rec.corrections += 1


def _rectify_by_changed(
    t: TaskState, p: Any, seq: int, problems: Problems, task_id: int, to: str
) -> None:
    rec = _record(t, p, seq, problems, task_id)
    if rec is not None:
        rec.rectify_by = p["after"]


def _results_published(
    t: TaskState, p: Any, seq: int, problems: Problems, task_id: int, to: str
) -> None:
    for code in p["targets"]:
        if code in t.records:
            r = t.records[code]
            r.published = True
            r.published_at, r.place = p.get("published_at"), p.get("place")


def _joint_visit_joined(
    t: TaskState, p: Any, seq: int, problems: Problems, task_id: int, to: str
) -> None:
    rec = _record(t, p, seq, problems, task_id)
    if rec is not None:
        rec.joined.append(p["joined"])


def _followup_added(
    t: TaskState, p: Any, seq: int, problems: Problems, task_id: int, to: str
) -> None:
    code = p["target_code"]
    if code in t.records:
        t.records[code].followups += 1
        t.records[code].followup_list.append(
            {"outcome": p.get("outcome"), "date": p.get("date"), "note": p.get("note")}
        )


def _inspector_substituted(
    t: TaskState, p: Any, seq: int, problems: Problems, task_id: int, to: str
) -> None:
    if p.get("target_code") in t.records and "after" in p:
        t.records[p["target_code"]].group = list(p["after"])


def no_effect(t: TaskState, p: Any, seq: int, problems: Problems, task_id: int, to: str) -> None:
    """Logged for the record; the task's state and records do not change (its version does)."""


Apply = Callable[[TaskState, Any, int, Problems, int, str], None]


@dataclass(frozen=True, slots=True)
class EventKind:
    name: str
    # task: written through the writer, bumps the task's version; other scopes have no task.
    scope: Literal["task", "plan", "directory", "deadline", "report", "calendar", "unit", "account"]
    payload: type
    apply: Apply | None = None  # task kinds: what replay does with the event
    changes_state: bool = False  # only a transition moves the task between states


_TASK_KINDS = [
    EventKind("task_created", "task", Payload, no_effect),  # replay creates the task itself
    EventKind("transition", "task", TransitionPayload, _transition, changes_state=True),
    EventKind("draw_committed", "task", Payload, no_effect),
    EventKind("draw_confirmed", "task", Payload, no_effect),
    EventKind("sheets_made", "task", Payload, no_effect),
    EventKind("result_set", "task", ResultSetPayload, _result_set),
    EventKind("result_corrected", "task", ResultCorrectedPayload, _result_corrected),
    EventKind("rectify_by_changed", "task", RectifyByChangedPayload, _rectify_by_changed),
    EventKind("results_published", "task", ResultsPublishedPayload, _results_published),
    EventKind("joint_visit_joined", "task", JointVisitPayload, _joint_visit_joined),
    EventKind("followup_added", "task", FollowupPayload, _followup_added),
    EventKind("inspector_substituted", "task", SubstitutionPayload, _inspector_substituted),
]
_OTHER_KINDS = [
    EventKind("plan_created", "plan", Payload),
    EventKind("plan_published", "plan", Payload),
    *(
        EventKind(f"{table}_{what}", "directory", Payload)
        for table in ("item", "target")
        for what in ("upserted", "retired", "restored")
    ),
    EventKind("inspector_upserted", "directory", Payload),
    EventKind("deadline_reminder", "deadline", Payload),
    EventKind("deadline_overdue", "deadline", Payload),
    EventKind("deadline_escalated", "deadline", Payload),
    EventKind("report_submitted", "report", Payload),
    EventKind("calendar_recorded", "calendar", Payload),
    EventKind("calendar_uncovered", "calendar", Payload),
    EventKind("unit_added", "unit", Payload),
    EventKind("unit_changed", "unit", Payload),
    EventKind("account_added", "account", Payload),
    EventKind("account_changed", "account", Payload),
    EventKind("token_created", "account", Payload),
    EventKind("token_revoked", "account", Payload),
]

EVENTS: dict[str, EventKind] = {k.name: k for k in [*_TASK_KINDS, *_OTHER_KINDS]}


def require(kind: str, *, task: bool) -> EventKind:
    """The declaration of ``kind``; a kind not declared, or written in the wrong scope (a task
    kind without a task or the reverse), is a programming error."""
    declared = EVENTS.get(kind)
    if declared is None:
        raise ValueError(f"event kind {kind!r} is not declared in workflow/core/events.py")
    if (declared.scope == "task") != task:
        raise ValueError(f"event kind {kind!r} is a {declared.scope} event")
    return declared


# Each event kind as people read it (zh-CN: the pages' history and log search show it, the
# kind's code beside it); a test keeps it in step with EVENTS.
KIND_LABELS: dict[str, str] = {
    "task_created": "创建任务",
    "transition": "状态变更",
    "draw_committed": "抽取承诺",
    "draw_confirmed": "确认抽取结果",
    "sheets_made": "生成检查单",
    "result_set": "录入检查结果",
    "result_corrected": "更正检查结果",
    "rectify_by_changed": "变更整改期限",
    "results_published": "公示检查结果",
    "joint_visit_joined": "联合检查",
    "followup_added": "后续处置",
    "inspector_substituted": "替换执法人员",
    "plan_created": "创建计划",
    "plan_published": "发布计划",
    "item_upserted": "更新事项清单",
    "item_retired": "停用事项",
    "item_restored": "恢复事项",
    "target_upserted": "更新检查对象名录",
    "target_retired": "停用检查对象",
    "target_restored": "恢复检查对象",
    "inspector_upserted": "更新执法人员名录",
    "deadline_reminder": "期限提醒",
    "deadline_overdue": "逾期通知",
    "deadline_escalated": "逾期督办",
    "report_submitted": "报送报表",
    "calendar_recorded": "录入节假日安排",
    "calendar_uncovered": "日历未覆盖提醒",
    "unit_added": "新增单位",
    "unit_changed": "变更单位",
    "account_added": "新增账号",
    "account_changed": "变更账号",
    "token_created": "创建令牌",
    "token_revoked": "吊销令牌",
}
