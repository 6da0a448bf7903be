"""A county bureau driven through the real ``ssj`` command line, as its people use it.

Every command that touches data acts as an account (``--as USERNAME``, DESIGN §8): the operator
creates the first administrator from the server's console, the administrator creates everyone
else's account, and each later command runs as the person who would type it — the clerks for
directories, plans, draws and publication, each inspector for the results of his own groups,
the supervisor for the periodic reports, the auditor for the log.

The bureau's wall clock is simulated: every command runs with the real clock reading the
moment the scenario has reached (what libfaketime does for a process), so events carry the
time a clerk acted; read-only views and the sweep also get ``--now`` (the moment is the same).
The spreadsheets are written the way clerks fill in the templates (``ssj template``).
"""

from __future__ import annotations

import csv
import json
import mailbox
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import getaddresses
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from workflow.core.clock import SystemClock
from workflow.sampling.credit_code import make as credit_code

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNIT = "迁西县人力资源和社会保障局"
OFFICE = "劳动保障监察大队"
OTHER_OFFICE = "社会保险中心"
UNIT_CODE = "130227"  # 迁西县's administrative code
HEAD = "wang.duizhang@qx-hrss.test"  # 王队长, head of 劳动保障监察大队
SUPERVISOR = "li.juzhang@qx-hrss.test"  # 李局长, the supervisor above
ADMIN = "xinxike@qx-hrss.test"  # the administrators: the calendar warning

# The accounts (``ssj user add``): username, name. The administrator (信息科) is the first,
# created from the server's console; the others are created by the administrator.
ADMIN_USER, ADMIN_NAME = "xinxike", "周明"
CLERK_USER, CLERK_NAME = "zhangmin", "张敏"  # the bureau's clerk all year
CLERK2_USER, CLERK2_NAME = "lina", "李娜"  # the second clerk, transferred out in July
SUPERVISOR_USER, SUPERVISOR_NAME = "lijuzhang", "李局长"  # files the periodic reports
AUDITOR_USER, AUDITOR_NAME = "qianfang", "钱芳"  # reads, verifies and replays the log
PASSWORDS = {
    ADMIN_USER: "Qx-xinxike-2026!",
    CLERK_USER: "Qx-zhangmin-2026",
    CLERK2_USER: "Qx-lina-2026",
    SUPERVISOR_USER: "Qx-lijuzhang-2026",
    AUDITOR_USER: "Qx-qianfang-2026",
}

# The one place the database is created. ``--purpose test`` marks it as a test database, so
# writing commands act at the simulated moment instead of being rehearsals (issue #9, part 1).
INIT = ("init", "--purpose", "test")

# Commands that take ``--now`` (the moment to act or look at); the others read the clock.
NOW_COMMANDS = {("sweep",), ("overdue",), ("outbox", "retry")}


# Every deadline mail's subject starts with one of these (notifications/templates).
DEADLINE_MAIL = ("【提醒】", "【逾期】", "【督办")


def local(text: str) -> datetime:
    """'2026-04-01 10:00' in Beijing time → aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class Mail:
    to: str
    subject: str
    body: str

    def __repr__(self) -> str:
        return f"Mail({self.to!r}, {self.subject!r})"


@dataclass
class Bureau:
    db_url: str
    home: Path
    monkeypatch: pytest.MonkeyPatch
    runner: CliRunner = field(default_factory=CliRunner)
    moment: datetime = field(default_factory=lambda: local("2026-01-05 09:00"))
    seen_mail: set[str] = field(default_factory=set)
    all_mail: list[Mail] = field(default_factory=list)
    other_mail: list[Mail] = field(default_factory=list)
    sweep_steps: dict[str, int] = field(
        default_factory=lambda: {"reminder": 0, "overdue": 0, "escalation": 0}
    )

    def __post_init__(self) -> None:
        bureau = self
        # Who acts is always said on the command line here, never inherited from the shell.
        self.monkeypatch.delenv("SSJ_USER", raising=False)
        # The simulated wall clock: the same moment for every reader of the real clock.
        self.monkeypatch.setattr(SystemClock, "now", lambda _self: bureau.moment)
        self.config = self.home / "config.yaml"
        self.maildir = self.home / "mail"
        self.config.write_text(
            f"""
escalation: {{supervisor_name: 李局长, supervisor_email: {SUPERVISOR}}}
mail: {{transport: maildir, maildir: {self.maildir}}}
calendar: {{admin_name: 信息科, admin_emails: [{ADMIN}]}}
""",
            encoding="utf-8",
        )

    # -- the clock and the command line ---------------------------------------------------

    def at(self, when: str) -> Bureau:
        """Move the clock to ``when`` (Beijing time). Time only moves forward."""
        moment = local(when)
        assert moment >= self.moment, f"the scenario's clock went back: {when}"
        self.moment = moment
        return self

    @property
    def now_text(self) -> str:
        return self.moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")

    def _invoke(
        self,
        args: tuple[str, ...],
        by: str | None,
        *,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
    ) -> tuple[list[str], Result]:
        """``ssj ARGS [--now …] [--as BY]``: ``by`` is the account the person signs in as
        (None: a command that needs none, or one that must be refused for lacking it, or one
        whose account comes from ``SSJ_USER`` in ``env``)."""
        argv = list(args)
        if tuple(args[:1]) in NOW_COMMANDS or tuple(args[:2]) in NOW_COMMANDS:
            argv += ["--now", self.now_text]
        if by is not None:
            argv += ["--as", by]
        r = self.runner.invoke(
            __import__("workflow.cli.main", fromlist=["app"]).app,
            ["--db", self.db_url, "--config", str(self.config), *argv],
            input=stdin,
            env=env,
            catch_exceptions=False,
        )
        return argv, r

    def ssj(
        self,
        *args: str,
        by: str | None = None,
        code: int = 0,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
    ) -> str:
        argv, r = self._invoke(args, by, stdin=stdin, env=env)
        out = r.output
        assert r.exit_code == code, f"ssj {' '.join(argv)} → exit {r.exit_code}:\n{out}"
        return out

    def json(self, *args: str, by: str | None = None) -> Any:
        argv, r = self._invoke((*args, "--json"), by)
        assert r.exit_code == 0, f"ssj {' '.join(argv)} → exit {r.exit_code}:\n{r.output}"
        return json.loads(r.stdout)

    def init(self) -> str:
        return self.ssj(*INIT)

    # -- reading what the bureau sees -------------------------------------------------------

    def states(self) -> dict[str, str]:
        """Task number (e.g. '2026001-001号') → state, as the clerk sees the list."""
        tasks = self.json("task", "list", by=CLERK_USER)
        return {f"{t['plan_no']}-{t['task_no']}": t["state"] for t in tasks}

    def task(self, task_id: int) -> dict[str, Any]:
        return self.json("task", "show", str(task_id), by=CLERK_USER)  # type: ignore[no-any-return]

    def log(self) -> list[dict[str, Any]]:
        """The audit log, as the auditor reads it."""
        return self.json("audit", "log", by=AUDITOR_USER)  # type: ignore[no-any-return]

    def new_mail(self) -> list[Mail]:
        """Messages delivered to the Maildir since the last look."""
        if not self.maildir.exists():
            return []
        box = mailbox.Maildir(self.maildir, create=False)
        out: list[Mail] = []
        for key in sorted(box.iterkeys()):
            if key in self.seen_mail:
                continue
            self.seen_mail.add(key)
            msg = message_from_bytes(box.get_bytes(key), policy=policy.default)
            body = msg.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            for _, addr in getaddresses([str(msg["To"])]):
                out.append(Mail(addr, str(msg["Subject"]), text))
        self.all_mail.extend(out)
        return out

    def sweep(self, when: str) -> tuple[dict[str, Any], list[Mail]]:
        """``ssj sweep --now WHEN --json``, run by the administrator (in production the
        scheduler runs it as the system account): the result and the deadline mail it delivered.

        Other mail (e.g. the administrators' daily warning that next year's calendar is not
        confirmed yet, issue #9 part 2) is kept apart in ``other_mail``."""
        self.at(when)
        result = self.json("sweep", by=ADMIN_USER)
        assert result["problems"] == [], result["problems"]
        for k, v in result["steps"].items():
            self.sweep_steps[k] += v
        mail = self.new_mail()
        self.other_mail.extend(m for m in mail if not m.subject.startswith(DEADLINE_MAIL))
        return result, [m for m in mail if m.subject.startswith(DEADLINE_MAIL)]

    def overdue(self, when: str) -> list[dict[str, Any]]:
        """What is late, as the supervisor looks it up."""
        self.at(when)
        return self.json("overdue", by=SUPERVISOR_USER)  # type: ignore[no-any-return]


def expect_mail(got: list[Mail], *expected: tuple[str, str, str]) -> None:
    """Exactly these mails, in any order: (recipient, subject start, text in the subject)."""
    left = list(got)
    for to, start, part in expected:
        match = [
            m for m in left if m.to == to and m.subject.startswith(start) and part in m.subject
        ]
        assert match, f"no mail to {to} {start}…{part}… among {left}"
        left.remove(match[0])
    assert not left, f"unexpected mail: {left}"


# ---------------------------------------------------------------------------------------------
# The bureau's spreadsheets, as clerks fill in the templates


def target_code(i: int) -> str:
    return credit_code("130227", i)


def to_fullwidth(text: str) -> str:
    """What an IME in full-width mode types for ASCII letters and digits."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@dataclass(frozen=True)
class Target:
    code: str
    name: str
    type: str


def targets(n_employers: int = 50) -> list[Target]:
    """50 employers (用人单位), 6 labour-dispatch firms, 4 HR agencies: 60 in all."""
    out = [
        Target(target_code(i), f"迁西县{i:02d}号机械制造有限公司", "用人单位")
        for i in range(1, n_employers + 1)
    ]
    out += [
        Target(target_code(100 + i), f"唐山{i}号劳务派遣有限公司", "劳务派遣单位")
        for i in range(1, 7)
    ]
    out += [
        Target(target_code(200 + i), f"迁西县{i}号人力资源服务有限公司", "人力资源服务机构")
        for i in range(1, 5)
    ]
    return out


def write_targets_csv_gbk(path: Path, rows: list[Target]) -> None:
    """The target directory as Excel saves "CSV" on a Chinese Windows: GBK, with what clerks
    type — grades as 'b' and 'B级', sizes as 小型企业, dates as 2025/3/5 and 2025年6月18日, tags
    split on 、, a credit code typed in full width with spaces around it."""
    grades = ["B", "b", "B级", ""]
    sizes = ["小型企业", "中型", "微型企业", "小型"]
    dates = ["2025/3/5", "2025年6月18日", "2025.9.1", "", "2024-11-20"]
    with path.open("w", encoding="gbk", newline="") as f:
        w = csv.writer(f)
        w.writerow(["统一社会信用代码", "名称", "类型", "行业", "地区", "规模", "信用风险等级",
                    "标签", "违法记录次数", "投诉举报次数", "最近检查日期"])  # fmt: skip
        for i, t in enumerate(rows):
            code = f" {to_fullwidth(t.code)} " if i == 3 else t.code
            w.writerow([code, t.name, t.type, "制造业" if t.type == "用人单位" else "租赁和商务服务业",
                        "迁西县", sizes[i % 4], grades[i % 4], "农民工集中、重点行业" if i % 5 == 0 else "",
                        "0", str(i % 2), dates[i % 5]])  # fmt: skip


INSPECTORS = [
    ("13022700001", "刘强"), ("13022700002", "陈静"), ("13022700003", "杨帆"),
    ("13022700004", "赵磊"), ("13022700005", "黄丽"), ("13022700006", "周杰"),
    ("13022700007", "吴昊"), ("13022700008", "徐婷"), ("13022700009", "孙鹏"),
    ("13022700010", "马骏"), ("13022700011", "朱琳"), ("13022700012", "胡斌"),
]  # fmt: skip


def inspector_email(cert: str) -> str:
    return f"jc{cert[-2:]}@qx-hrss.test"


def inspector_user(cert: str) -> str:
    """The account of the inspector with certificate ``cert`` (linked to the directory)."""
    return f"jc{cert[-2:]}"


def write_inspectors_csv_utf8(path: Path) -> None:
    """The inspector directory as "CSV UTF-8" from Excel (with BOM); fields split on 、."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["执法证号", "姓名", "执法领域", "专长", "处室", "回避对象", "电子邮箱", "是否可用"]
        )
        for i, (cert, name) in enumerate(INSPECTORS):
            fields = "劳动保障监察、社会保险" if i % 3 == 0 else "劳动保障监察"
            office = OFFICE if i < 8 else OTHER_OFFICE
            w.writerow([cert, name, fields, "工资支付，劳动合同" if i % 2 else "", office, "",
                        inspector_email(cert), "是"])  # fmt: skip


ITEMS = [
    # (code as typed, name, method as typed, category as typed)
    ("QX-LD-001", "用人单位遵守劳动合同制度情况的检查", "现场检查", "重点事项"),
    ("QX-LD-002", "用人单位遵守工资支付规定情况的检查", "现场检查、书面检查", "重点事项"),
    ("ｑｘ-ld-007", "用人单位遵守禁止使用童工规定情况的检查", "现场检查", "一般事项"),
    ("QX-SB-001", "用人单位参加社会保险情况的检查", "书面检查", "一般"),
]


def write_items_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "抽查事项清单"
    ws.append(["事项编码", "事项名称", "法律依据", "检查内容", "检查方式", "事项类别"])
    for code, name, method, category in ITEMS:
        ws.append(
            [code, name, "《劳动保障监察条例》", name.removesuffix("的检查"), method, category]
        )
    wb.save(path)


PLAN_HEADERS = ["序号", "单位", "抽查计划编号", "抽查计划名称", "抽查任务编号", "抽查任务名称",
                "抽查类型", "抽查比例", "抽查事项", "抽查对象范围", "发起处室", "联合处室",
                "抽查时间", "定向条件", "分层比例", "执法领域"]  # fmt: skip


def write_plan_xlsx(path: Path, plan_no: str, tasks: list[tuple[str, str, str, str]]) -> None:
    """The annual plan in seed 004's annex layout: (task no, name, items, months) per task."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "年度抽查工作计划"
    ws.append(PLAN_HEADERS)
    year = plan_no[:4]
    for i, (no, name, items, months) in enumerate(tasks, 1):
        ws.append([i, UNIT, plan_no, f"{year}年{UNIT}随机抽查{plan_no[-3:]}", no, name, "不定向",
                   "10%", items, "用人单位", OFFICE, "", months, "", "", "劳动保障监察"])  # fmt: skip
    wb.save(path)
