"""``ssj`` commands for deadlines and mail: calendar, report, sweep, overdue, outbox, and the
long-running scheduler and serve. Registered on the main app by workflow/cli.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from workflow.app import AppContext
from workflow.cli.base import (
    acting,
    announce_rehearsal,
    app,
    local_time,
    parse_date_option,
    print_json,
    run_in_app,
)
from workflow.core import normalize
from workflow.core.clock import parse_time
from workflow.core.errors import InvalidInput
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.calendar_notice import weekday_cn

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
    typer.Option(
        "--now",
        help="按此时刻运行（ISO 8601；无时区按北京时间）。写入的命令在正式库（live）上只演练、"
        "不写入；演示库、测试库按此时刻写入",
    ),
]


@calendar_app.command("add")
def calendar_add(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="起算日期 YYYY-MM-DD（当日不计）")],
    working_days: Annotated[int, typer.Option("--working-days", help="工作日数")],
) -> None:
    """计算“自某日起 N 个工作日内”的截止日期（当日不计，含调休）。"""

    def go(a: AppContext) -> None:
        day = parse_date_option(start, "--from")
        due, years = a.calendar.deadline(day, working_days)
        typer.echo(due.isoformat())
        if years:
            typer.echo(
                f"暂定：{'、'.join(map(str, years))} 年的节假日安排尚未确认，"
                "按周末和法定节假日推算（见 ssj calendar check）。",
                err=True,
            )

    run_in_app(ctx, go)


@calendar_app.command("check")
def calendar_check(ctx: typer.Context, year: int) -> None:
    """查看某年的节假日安排由谁确认（config.yaml、数据库录入的通知、chinesecalendar），
    或为暂定（退出码 1）。"""
    from workflow.deadlines import calendar_years

    def go(a: AppContext) -> None:
        c = calendar_years.coverage(a.calendar, year)
        if not c["provisional"]:
            typer.echo(f"{year} 年已覆盖：{c['source']}。")
            return
        off = [date.fromisoformat(d) for d in c["weekdays_off"]]
        typer.echo(
            f"{year} 年为暂定：chinesecalendar、config.yaml 和数据库均未覆盖；"
            f"暂按周末和法定节假日推算（来源：{c['source']}，含农历节日和补假，不含调休上班日），"
            "该年的期限均标注“暂定”。"
        )
        typer.echo(
            "已知的工作日放假："
            + ("、".join(f"{d.month}月{d.day}日（{weekday_cn(d)}）" for d in off) or "无")
        )
        typer.echo(f"国务院办公厅通知发布后请录入：{calendar_years.NOTICE_COMMAND}")
        raise typer.Exit(1)

    run_in_app(ctx, go)


NOTICE_MAX_BYTES = 256 * 1024


def _read_notice(path: Path) -> str:
    """The notice's text: UTF-8 (with or without BOM), else GB18030 as saved on Windows."""
    try:
        size = path.stat().st_size
        if size > NOTICE_MAX_BYTES:
            raise InvalidInput(
                f"{path}：文件 {size} 字节，超过 {NOTICE_MAX_BYTES} 字节，不像一份节假日安排通知"
            )
        data = path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"无法读取 {path}：{e.strerror}") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{path}：不是 UTF-8 或 GB18030 编码的文本文件")


@calendar_app.command("notice")
def calendar_notice(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="通知全文（纯文本，UTF-8 或 GBK）")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只识别并显示，不录入")] = False,
) -> None:
    """录入国务院办公厅《关于YYYY年部分节假日安排的通知》：识别放假和调休上班日期，
    记入数据库（所有进程共用）和审计日志。"""
    from workflow.deadlines import calendar_notice as cn
    from workflow.deadlines import calendar_years

    def go(a: AppContext) -> None:
        text = _read_notice(file)
        try:
            taken = calendar_years.take_notice(a.wf, text, acting(a), dry_run=dry_run)
        except cn.NoticeError as e:
            raise InvalidInput(f"{file}：{e}") from None
        notice = taken.notice
        typer.echo(f"{notice.title}：")
        for p in notice.periods:
            span = (p.end - p.start).days + 1
            off = [d for d in p.days if d.weekday() < 5]
            typer.echo(
                f"  放假 {p.name}：{_day(p.start)} 至 {_day(p.end)}，共 {span} 天"
                f"（其中工作日 {len(off)} 天）"
            )
        for m in notice.makeup:
            typer.echo(f"  上班 {m.name}：{_day(m.day)}")
        typer.echo(
            f"共放假 {sum((p.end - p.start).days + 1 for p in notice.periods)} 天，"
            f"其中工作日 {len(notice.holidays)} 天；调休上班 {len(notice.workdays)} 天。"
        )
        r = taken.recorded
        if r is None:
            if taken.covered_by is not None:
                diff = taken.differences
                typer.echo(
                    f"{notice.year} 年现由 {taken.covered_by} 覆盖："
                    + ("与本通知一致。" if not diff else "与本通知不符：" + "；".join(diff[:10]))
                )
            typer.echo("（--dry-run：未录入）")
            return
        if r.already:
            typer.echo(f"{notice.year} 年{r.note}，无需重复录入。")
            return
        note = f"（{r.note}）" if r.note else ""
        typer.echo(
            f"已录入 {notice.year} 年节假日安排{note}；审计日志第 {r.event_seq} 号事件。"
            f"各进程在下次巡检时按此重新计算期限。"
        )

    run_in_app(ctx, go)


def _day(d: date) -> str:
    return f"{d.isoformat()}（{weekday_cn(d)}）"


@report_app.command("submit")
def report_submit(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="monthly（月报表）/ progress（落实情况报告）/ review（“一单两库”动态调整）",
        ),
    ],
    period: Annotated[str, typer.Option("--period", help="如 2024-03、2024-Q2、2024")],
    office: Annotated[str, typer.Option("--office", help="报送科室")],
) -> None:
    """登记已报送的定期报告（履行该项报送义务，记入审计日志）。"""
    from workflow.deadlines import reports

    def go(a: AppContext) -> None:
        code = normalize.option(kind, reports.KIND, "--kind")
        r = reports.submit(
            a.wf, a.settings, kind=code, period=period, office=office, actor=acting(a),
            within=a.actor,
        )  # fmt: skip
        late = "，逾期报送" if r["late"] else ""
        name = deadline_rules.REPORT_KINDS[r["kind"]]
        typer.echo(
            f"已登记：{r['office']} {r['period']} {name}（截止 {r['due']}，含当日{late}）；"
            f"审计日志第 {r['event_seq']} 号事件。"
        )

    run_in_app(ctx, go)


@report_app.command("list")
def report_list(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", help="年度，如 2024")],
    office: Annotated[str | None, typer.Option("--office", help="只看某科室")] = None,
    now: NowOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """各报送科室某年度应报送的定期报告：截止日期、是否已报送（何时、由谁）、是否逾期。"""
    from workflow.deadlines import reports

    def go(a: AppContext) -> None:
        a.at(now)
        rows = reports.obligations(a.wf, a.settings, year=year, office=office, within=a.actor)
        if as_json:
            print_json(rows)
            return
        if not rows:
            typer.echo(f"{year} 年没有须报送定期报告的科室。")
        for r in rows:
            if r["submitted"]:
                state = f"已报送（{r['submitted_by']}，{local_time(a, r['submitted_at'])}"
                state += "，逾期报送）" if r["late"] else "）"
            else:
                state = "逾期未报" if r["overdue"] else "未报送"
            typer.echo(
                f"- {r['office']}（{r['unit']}） {r['period']} {r['kind_label']}："
                f"截止 {r['due']}{'（暂定）' if r['provisional'] else ''}，{state}"
            )

    run_in_app(ctx, go)


def _calendar_warning_sent(r: Any) -> str:
    """What became of today's warning to the administrators (sent once a day)."""
    if not r.calendar_warning_sent:
        return ""
    if r.calendar_warning_mails:
        return f"今日提醒邮件已为管理员入队 {r.calendar_warning_mails} 封。"
    return "未配置管理员邮箱（config.yaml 的 calendar.admin_emails），今日提醒未发邮件。"


@app.command("sweep")
def sweep_cmd(
    ctx: typer.Context,
    now: NowOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
    no_deliver: Annotated[bool, typer.Option("--no-deliver", help="只决定和入队，不发送")] = False,
) -> None:
    """巡检一次：到期提醒、逾期通知、逐级督办（每步一次，记入审计日志），然后发送邮件。"""
    from workflow.deadlines import sweep

    def go(a: AppContext) -> None:
        dry = announce_rehearsal(a, now, to_stderr=as_json)
        r = sweep.run(
            a.wf, a.settings, a.clock.now(), deliver=not no_deliver, dry_run=dry, by=a.actor
        )
        if as_json:
            print_json(r.as_json())
        elif dry:
            s = r.steps
            typer.echo(
                f"演练巡检（截至 {r.today}，未写入）：未办结期限 {r.open_deadlines} 项，"
                f"临近到期 {r.due_soon}，已逾期 {r.overdue}；将发提醒 {s['reminder']}，"
                f"逾期通知 {s['overdue']}，督办 {s['escalation']}；将入队邮件 {r.messages} 封。"
            )
            for p in r.planned:
                to = "、".join(p["to"]) or (
                    "不再重复通知（已另行通知）" if p["not_again"] else "无人可通知"
                )
                typer.echo(f"- {p['label']}：{p['due']} 到期，{p['step']} → {to}")
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
            if r.provisional:
                typer.echo(f"其中 {r.provisional} 项期限所在年份的节假日安排尚未确认，为暂定。")
            if r.calendar_warning:
                typer.echo(f"注意：{r.calendar_warning}。{_calendar_warning_sent(r)}")
            for key in r.without_recipient:
                typer.echo(
                    f"警告：{key} 无人可通知（请在 config.yaml 配置科室负责人或上级督办人邮箱）"
                )
        for problem in r.problems:
            typer.echo(f"错误：{problem}", err=True)

    run_in_app(ctx, go)


@app.command("overdue")
def overdue_cmd(
    ctx: typer.Context,
    office: Annotated[str | None, typer.Option("--office", help="只看某科室")] = None,
    now: NowOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """逾期清单：每项逾期任务与报告的责任人、截止日期、逾期工作日、督办级别、最近通知。"""
    from workflow.deadlines.overdue import overdue, step_label

    def go(a: AppContext) -> None:
        a.at(now)
        rows, problems = overdue(a.wf, a.settings, a.clock.now(), office, within=a.actor)
        tz = ZoneInfo(a.settings.calendar.timezone)
        if as_json:
            print_json(rows)
        elif not rows:
            typer.echo("没有逾期事项。")
        else:
            typer.echo(f"逾期事项 {len(rows)} 项（逾期天数按工作日计）：")
            for r in rows:
                level = (
                    f"督办进度：第 {r['escalation_level']} 级"
                    f" {step_label(r['escalation_step'], a.settings)}"
                    if r["escalation_level"]
                    else "尚未发出逾期通知"
                )
                last = ""
                if r["last_notice_at"]:
                    when = parse_time(r["last_notice_at"]).astimezone(tz).strftime("%Y-%m-%d %H:%M")
                    last = f"，最近通知 {when}（{step_label(r['last_notice_step'], a.settings)}）"
                typer.echo(
                    f"- {r['subject']}：{r['what']}"
                    + (f"（{r['detail']}）" if r["detail"] and r["task_id"] else "")
                    + f"；科室 {r['office'] or '—'}，责任人 {r['responsible'] or '—'}；"
                    f"截止 {r['due']}{'（暂定）' if r['due_provisional'] else ''}，"
                    f"逾期 {r['working_days_late']} 个工作日"
                    f"{'（暂定）' if r['provisional'] and not r['due_provisional'] else ''}；{level}{last}"
                )
            if any(r["provisional"] for r in rows):
                typer.echo(
                    "注：标“暂定”的日期或工作日数所在年份的节假日安排尚未确认，按周末和法定节假日推算；"
                    "国务院办公厅通知录入（ssj calendar notice）后重新计算。"
                )
        for p in problems:
            typer.echo(f"错误：{p}", err=True)
        if problems:
            raise typer.Exit(2)

    run_in_app(ctx, go)


@outbox_app.command("list")
def outbox_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="pending / sending / sent / dead")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """列出待发、已发或发送失败（死信）的邮件。"""
    from workflow.deadlines import mail

    def go(a: AppContext) -> None:
        with a.raw() as raw:
            rows, counts = mail.queue(raw, status=status, by=a.actor)
        if as_json:
            print_json(rows)
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

    run_in_app(ctx, go)


@outbox_app.command("retry")
def outbox_retry(ctx: typer.Context, outbox_id: int, now: NowOption = None) -> None:
    """把一封死信（或等待重试的邮件）立即放回发送队列。"""
    from workflow.core.clock import format_utc
    from workflow.deadlines import mail

    def go(a: AppContext) -> None:
        dry = announce_rehearsal(a, now)
        with a.raw() as raw:
            before = mail.retry(raw, outbox_id, format_utc(a.clock.now()), by=a.actor, dry_run=dry)
        if dry:
            typer.echo(f"演练：邮件 {outbox_id}（状态 {before}）将被放回发送队列；未写入。")
            return
        typer.echo(f"邮件 {outbox_id} 已放回发送队列（原状态 {before}），下次巡检时发送。")

    run_in_app(ctx, go)


@app.command("scheduler")
def scheduler_cmd(
    ctx: typer.Context,
    exit_after: Annotated[
        float | None, typer.Option("--exit-after", help="运行若干秒后退出（演练、测试用）")
    ] = None,
) -> None:
    """只运行定时任务（巡检、每日汇总），直到收到 SIGTERM / Ctrl-C。"""
    from workflow.deadlines import scheduler

    run_in_app(ctx, lambda a: scheduler.serve(a, exit_after=exit_after, echo=typer.echo))


@app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option("--host", help="监听地址（默认取配置 web.host：127.0.0.1，只供本机访问）"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", help="监听端口（默认取配置 web.port：8000；0 为任选一个空闲端口）"),
    ] = None,
    no_scheduler: Annotated[
        bool,
        typer.Option("--no-scheduler", help="不运行定时任务，只提供网页与接口（另加的网页进程用）"),
    ] = False,
    exit_after: Annotated[
        float | None, typer.Option("--exit-after", help="运行若干秒后退出（演练、测试用）")
    ] = None,
) -> None:
    """运行服务：在 http://HOST:PORT 提供网页与接口（/api/v1/），并运行定时任务（巡检与邮件发送），
    直到收到 SIGTERM / Ctrl-C。"""
    import web

    def go(a: AppContext) -> None:
        listen_host, listen_port = _listen_options(a, host, port)
        web.serve(
            a,
            host=listen_host,
            port=listen_port,
            scheduler=not no_scheduler,
            exit_after=exit_after,
            echo=typer.echo,
        )

    run_in_app(ctx, go)


def _listen_options(a: AppContext, host: str | None, port: int | None) -> tuple[str, int]:
    """--host and --port, checked as the settings' web.host and web.port are (port 0 too)."""
    from pydantic import ValidationError

    from workflow.core.config import WebSettings

    web_settings = a.settings.web
    if host is not None:
        try:
            WebSettings(host=host)
        except ValidationError as e:
            why = e.errors()[0]["msg"].removeprefix("Value error, ")
            raise InvalidInput(f"--host {why}", field="host", value=host) from None
    if port is not None and not 0 <= port <= 65535:
        raise InvalidInput(
            f"--port {port} 无效：应为 0 到 65535 之间的端口号", field="port", value=port
        )
    return (
        web_settings.host if host is None else host,
        web_settings.port if port is None else port,
    )
