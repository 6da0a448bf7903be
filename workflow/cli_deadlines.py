"""``ssj`` commands for deadlines and mail: calendar, report, sweep, overdue, outbox, and the
long-running scheduler and serve. Registered on the main app by workflow/cli.py."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from workflow.cli import _App, _parse_date, _print_json, _run, app
from workflow.clock import parse_time
from workflow.errors import InvalidInput, NotFound

calendar_app = typer.Typer(
    help="工作日历：按国家法定工作日（含调休）计算期限。", no_args_is_help=True
)
report_app = typer.Typer(help="定期报告：月报表、落实情况、“一单两库”调整。", no_args_is_help=True)
outbox_app = typer.Typer(help="待发邮件：查看、重发。", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
app.add_typer(report_app, name="report")
app.add_typer(outbox_app, name="outbox")

NowOption = Annotated[
    str | None,
    typer.Option("--now", help="按此时刻运行（ISO 8601；无时区按北京时间），用于补跑或演练"),
]


@calendar_app.command("add")
def calendar_add(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="起算日期 YYYY-MM-DD（当日不计）")],
    working_days: Annotated[int, typer.Option("--working-days", help="工作日数")],
) -> None:
    """计算“自某日起 N 个工作日内”的截止日期（当日不计，含调休）。"""

    def go(a: _App) -> None:
        day = _parse_date(start, "--from")
        if working_days < 0:
            raise InvalidInput(f"--working-days {working_days} 无效：应为非负整数")
        due = a.calendar.add_working_days(day, working_days)
        typer.echo(due.isoformat())

    _run(ctx, go)


@calendar_app.command("check")
def calendar_check(ctx: typer.Context, year: int) -> None:
    """查看某年是否有节假日安排（chinesecalendar 或 config.yaml）。"""

    def go(a: _App) -> None:
        source = a.calendar.coverage(year)
        if source is None:
            from workflow.calendar import CalendarNotCovered

            raise CalendarNotCovered(year)
        typer.echo(f"{year} 年已覆盖：{source}。")

    _run(ctx, go)


@report_app.command("submit")
def report_submit(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option("--kind", help="monthly / progress / review")],
    period: Annotated[str, typer.Option("--period", help="如 2024-03、2024-Q2、2024")],
    office: Annotated[str, typer.Option("--office", help="报送科室")],
    actor: Annotated[str, typer.Option("--actor", help="报送人")],
) -> None:
    """登记已报送的定期报告（履行该项报送义务，记入审计日志）。"""
    from workflow import reports

    def go(a: _App) -> None:
        r = reports.submit(a.wf, a.settings, kind=kind, period=period, office=office, actor=actor)
        late = "（逾期报送）" if r["late"] else ""
        typer.echo(
            f"已登记：{office} {period} {kind} 报告，应于 {r['due']} 前报送{late}；"
            f"审计日志第 {r['event_seq']} 号事件。"
        )

    _run(ctx, go)


@app.command("sweep")
def sweep_cmd(
    ctx: typer.Context,
    now: NowOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    no_deliver: Annotated[bool, typer.Option("--no-deliver", help="只决定和入队，不发送")] = False,
) -> None:
    """巡检一次：到期提醒、逾期通知、逐级督办（每步一次，记入审计日志），然后发送邮件。"""
    from workflow import sweep

    def go(a: _App) -> None:
        a.at(now)
        r = sweep.run(a.wf, a.settings, a.clock.now(), deliver=not no_deliver)
        if as_json:
            _print_json(r.as_json())
        else:
            s = r.steps
            typer.echo(
                f"巡检（截至 {r.today}）：未办结期限 {r.open_deadlines} 项，临近到期 {r.due_soon}，"
                f"已逾期 {r.overdue}；新提醒 {s['reminder']}，逾期通知 {s['overdue']}，"
                f"督办 {s['escalation']}；入队邮件 {r.messages} 封。"
            )
            if r.delivery is not None:
                d = r.delivery
                typer.echo(
                    f"发送：{d['mails']} 封（{d['messages']} 条），待重试 {d['failed']}，"
                    f"转入死信 {d['dead']}。" + (f" 发送中断：{d['error']}" if d["error"] else "")
                )
            for key in r.without_recipient:
                typer.echo(
                    f"警告：{key} 无人可通知（请在 config.yaml 配置科室负责人或上级督办人邮箱）"
                )
        for p in r.problems:
            typer.echo(f"错误：{p}", err=True)
        if r.problems:
            raise typer.Exit(2)

    _run(ctx, go)


@app.command("overdue")
def overdue_cmd(
    ctx: typer.Context,
    office: Annotated[str | None, typer.Option("--office", help="只看某科室")] = None,
    now: NowOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """逾期清单：每项逾期任务与报告的责任人、截止日期、逾期工作日、督办级别、最近通知。"""
    from workflow.overdue import overdue

    def go(a: _App) -> None:
        a.at(now)
        rows, problems = overdue(a.wf, a.settings, a.clock.now(), office)
        tz = ZoneInfo(a.settings.calendar.timezone)
        if as_json:
            _print_json(rows)
        elif not rows:
            typer.echo("没有逾期事项。")
        else:
            typer.echo(f"逾期事项 {len(rows)} 项（逾期天数按工作日计）：")
            for r in rows:
                level = (
                    f"督办 {r['escalation_level']} 级（{r['escalation_step']}）"
                    if r["escalation_level"]
                    else "尚未通知"
                )
                last = ""
                if r["last_notice_at"]:
                    when = parse_time(r["last_notice_at"]).astimezone(tz).strftime("%Y-%m-%d %H:%M")
                    last = f"，最近通知 {when}（{r['last_notice_step']}）"
                typer.echo(
                    f"- {r['subject']}：{r['what']}"
                    + (f"（{r['detail']}）" if r["detail"] and r["task_id"] else "")
                    + f"；科室 {r['office'] or '—'}，责任人 {r['responsible'] or '—'}；"
                    f"截止 {r['due']}，逾期 {r['working_days_late']} 个工作日；{level}{last}"
                )
        for p in problems:
            typer.echo(f"错误：{p}", err=True)
        if problems:
            raise typer.Exit(2)

    _run(ctx, go)


@outbox_app.command("list")
def outbox_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="pending / sending / sent / dead")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出待发、已发或发送失败（死信）的邮件。"""
    from notifications import outbox

    def go(a: _App) -> None:
        if status is not None and status not in outbox.STATUSES:
            raise InvalidInput(f"--status {status!r} 无效：应为 " + " / ".join(outbox.STATUSES))
        with a.raw() as raw:
            rows = outbox.listing(raw, status)
            counts = outbox.counts(raw)
        if as_json:
            _print_json(rows)
            return
        typer.echo(
            "邮件：待发 {pending}，发送中 {sending}，已发 {sent}，死信 {dead}。".format(**counts)
        )
        for r in rows:
            err = f" 错误：{r['last_error']}" if r["last_error"] else ""
            typer.echo(
                f"{r['id']:>6} [{r['status']}] 尝试 {r['attempts']} 次 → {r['recipient']}"
                f" {r['key']}{err}"
            )

    _run(ctx, go)


@outbox_app.command("retry")
def outbox_retry(ctx: typer.Context, outbox_id: int, now: NowOption = None) -> None:
    """把一封死信（或等待重试的邮件）立即放回发送队列。"""
    from notifications import outbox
    from workflow.clock import format_utc

    def go(a: _App) -> None:
        a.at(now)
        with a.raw() as raw:
            try:
                before = outbox.retry(raw, outbox_id, format_utc(a.clock.now()))
            except LookupError:
                raise NotFound(f"邮件 {outbox_id} 不存在") from None
        if before == "sent":
            raise InvalidInput(f"邮件 {outbox_id} 已发送，无需重发")
        if before == "sending":
            raise InvalidInput(f"邮件 {outbox_id} 正在发送中，请稍后再看")
        typer.echo(f"邮件 {outbox_id} 已放回发送队列（原状态 {before}），下次巡检时发送。")

    _run(ctx, go)


@app.command("scheduler")
def scheduler_cmd(
    ctx: typer.Context,
    exit_after: Annotated[
        float | None, typer.Option("--exit-after", help="运行若干秒后退出（演练、测试用）")
    ] = None,
) -> None:
    """只运行定时任务（巡检、每日汇总），直到收到 SIGTERM / Ctrl-C。"""
    from workflow import scheduler

    _run(ctx, lambda a: scheduler.serve(a, exit_after=exit_after, echo=typer.echo))


@app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    exit_after: Annotated[
        float | None, typer.Option("--exit-after", help="运行若干秒后退出（演练、测试用）")
    ] = None,
) -> None:
    """运行服务：定时巡检与邮件发送（网页界面将在后续版本加入），直到收到 SIGTERM / Ctrl-C。"""
    # Today the service is the scheduler; the web issue adds its pages here.
    scheduler_cmd(ctx, exit_after)
