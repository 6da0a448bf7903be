"""``ssj audit``: verify, replay, export, checkpoints, the log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from workflow.app import AppContext
from workflow.cli.base import (
    app_context,
    audit_app,
    local_time,
    print_json,
    reported_errors,
    run_in_app,
    task_id_of,
)
from workflow.cli.hints import OPTIONS
from workflow.core import audit, queries
from workflow.core.clock import SystemClock, format_utc, parse_time
from workflow.core.errors import Conflict, InvalidInput
from workflow.core.replay import replay_named

# ---------------------------------------------------------------------------------------------
# Audit


def _verify_output(result: audit.VerifyResult, as_json: bool, source: str) -> None:
    if as_json:
        print_json(result.as_json())
    elif result.ok:
        typer.echo(
            f"哈希链完整（{source}）：{result.events} 个事件，链头 {result.head_seq} {result.head_hash}"
        )
    else:
        typer.echo(
            f"哈希链校验失败（{source}）："
            + (f"第一个异常事件序号 {result.first_bad_seq}：" if result.first_bad_seq else "")
            + (result.reason or "")  # a failed verification always gives its reason
        )
    if result.note and not as_json:
        option = OPTIONS.get(result.needs or "")
        typer.echo(f"注意：{result.note}" + (f"（用 {option} 给出）" if option else ""))
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
    against: Annotated[
        Path | None, typer.Option("--against", help="检查点文件：证明日志仍延续它")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="校验导出的日志文件（无需数据库）")
    ] = None,
) -> None:
    """校验哈希链；异常时退出码 1 并指出第一个异常事件序号。"""
    with reported_errors():
        checkpoint = None
        if against is not None:
            try:
                checkpoint = audit.Checkpoint.load(str(against))
            except ValueError as e:
                raise InvalidInput(str(e)) from None
        if file is not None:
            try:
                result = audit.verify_export(str(file), checkpoint)
            except OSError as e:
                raise InvalidInput(f"无法读取 {file}：{e.strerror}") from None
            _verify_output(result, as_json, str(file))
            return
        a = app_context(ctx)
        with a.raw() as raw:
            result = audit.verify_db(raw, checkpoint)
        _verify_output(result, as_json, a.safe_url())


@audit_app.command("replay")
def audit_replay(
    ctx: typer.Context,
    task_ref: Annotated[
        str | None,
        typer.Option("--task", help="只重放这个任务（ID 或 2026001-001号）", show_default=False),
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="重放到这个时刻（ISO 8601）为止")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """仅凭日志重建任务状态并与数据表比对；不一致时退出码 1。"""
    with reported_errors():
        a = app_context(ctx)
        task = None if task_ref is None else task_id_of(a, task_ref)
        at_utc = None if at is None else audit.utc_text(at, a.settings.calendar.timezone, "at")
        with a.raw() as raw:
            result = replay_named(raw, task, at_utc)
        if as_json:
            print_json(result.as_json())
        else:
            scope = f"任务 {task}" if task is not None else "全部任务"
            when = f"截至 {at}" if at else "截至现在"
            typer.echo(f"重放{scope}（{when}，{result.events} 个事件）：")
            for tid, st in sorted(result.tasks.items()):
                typer.echo(f"  任务 {tid}: {st}")
            if result.records:
                _replayed_records(result.records, a.settings.calendar.timezone)
            if not result.compared:
                typer.echo("  （按历史时刻重放，不与当前数据表比对）")
            elif result.ok:
                typer.echo("  与数据表一致。")
            for m in result.mismatches:
                typer.echo(f"  不一致：{m['message']}")
        if not result.ok:
            raise typer.Exit(1)


def _replayed_records(records: list[dict[str, Any]], tz: str) -> None:
    """``audit replay --task N``: each record as of the moment, one line each."""

    from states import OUTCOMES, RESULTS

    def when(text: str) -> str:  # a stated date stays as stated; a UTC time shown local
        if len(text) <= 10:
            return text
        return parse_time(text).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")

    typer.echo(f"  检查对象及检查组（{len(records)} 户）：")
    for r in records:
        group = "、".join(
            f"{n}（{c}）" if n else c for c, n in zip(r["group"], r["group_names"], strict=True)
        )
        result = RESULTS.get(r["result"], r["result"]) if r["result"] else "未录入"
        if r["result_note"]:
            result += f"（{r['result_note']}）"
        line = f"    {r['target_name']}（{r['target_code']}）  检查组：{group}  结果：{result}"
        if r["published_at"]:
            line += f"  公示：{when(r['published_at'])} {r['published_place'] or ''}".rstrip()
        else:
            line += "  公示：未公示"
        if r["followups"]:
            line += "  后续处置：" + "；".join(
                f"{OUTCOMES.get(f['outcome'], f['outcome'])} {f['date'] or ''}".rstrip()
                for f in r["followups"]
            )
        typer.echo(line)


@audit_app.command("export")
def audit_export(ctx: typer.Context, file: Path) -> None:
    """把审计日志导出为 JSON Lines 文件（每行一个事件，含哈希）。"""
    with reported_errors():
        tmp = file.with_name(file.name + ".part")
        n = 0
        a = app_context(ctx)
        with a.raw() as raw:
            lines = audit.export(raw, a.actor)
            try:
                with open(tmp, "w", encoding="utf-8") as f:
                    for line in lines:
                        f.write(line)
                        n += 1
                tmp.replace(file)  # never leave a half-written export under the real name
            except OSError as e:
                tmp.unlink(missing_ok=True)
                raise InvalidInput(f"无法写入 {file}：{e.strerror}") from None
        typer.echo(f"已导出 {n} 个事件到 {file}。")


@audit_app.command("checkpoint")
def audit_checkpoint(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="写入文件（默认打印）")] = None,
    signed_by: Annotated[str | None, typer.Option("--signed-by", help="签收人")] = None,
) -> None:
    """导出链头（序号、哈希、时间）作为检查点，供审计人员留存。"""
    with reported_errors():
        a = app_context(ctx)
        with a.raw() as raw:
            try:
                cp = audit.checkpoint(raw, now=format_utc(SystemClock().now()), signed_by=signed_by)
            except Conflict as e:  # the chain is broken: as verify, exit 1
                typer.echo(f"错误：{e.message}", err=True)
                raise typer.Exit(1) from None
        text = json.dumps(cp.as_json(), ensure_ascii=False, indent=2)
        if out is None:
            typer.echo(text)
        else:
            try:
                out.write_text(text + "\n", encoding="utf-8")
            except OSError as e:
                raise InvalidInput(f"无法写入 {out}：{e.strerror}") from None
            typer.echo(f"检查点已写入 {out}：序号 {cp.seq}，哈希 {cp.hash}")


@audit_app.command("log")
def audit_log(
    ctx: typer.Context,
    task_ref: Annotated[
        str | None,
        typer.Option(
            "--task", help="只看这个任务（ID 或 2026001-001号；含其期限提醒、逾期与督办）"
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="只列最新的 N 个事件（仍按序号排列）")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="只看这个账号（账号名）的事件")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="只看这类事件，如 result_set")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="自此时刻起（ISO 8601；无时区按北京时间）")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="至此时刻止（含）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """列出审计日志事件（本账号所属单位及其下级单位的任务的事件；最上级单位的账号看全部）。"""

    def go(a: AppContext) -> None:
        if limit is not None and limit < 1:
            raise InvalidInput(f"--limit {limit} 无效：应为正整数（最新的 N 个事件）")
        a.require_schema()
        task = None if task_ref is None else task_id_of(a, task_ref)
        tz = a.settings.calendar.timezone
        events = queries.search_events(
            a.engine,
            task_id=task,
            actor=actor,
            kind=audit.event_kind(kind) if kind is not None else None,
            since=audit.utc_text(since, tz, "since") if since is not None else None,
            until=audit.utc_text(until, tz, "until") if until is not None else None,
            within=a.actor,
            newest=limit,
        )
        if as_json:
            print_json(events)
            return
        for e in events:
            move = f"{e['from_state'] or '—'}→{e['to_state'] or '—'}"
            typer.echo(
                f"{e['seq']:>6} {local_time(a, e['time'])} {e['actor']}({e['role']})"
                f" 任务 {e['task_id'] or e['payload'].get('task') or '—'}"
                f" {e['kind']} {move} {json.dumps(e['payload'], ensure_ascii=False)}"
                + (f" 原因：{e['reason']}" if e["reason"] else "")
            )

    run_in_app(ctx, go)
