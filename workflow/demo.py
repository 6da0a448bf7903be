"""Demo data taken from the seeds' examples, and the walk-through that ``make run`` shows."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date, datetime, time, timedelta
from pathlib import Path

import states
from workflow.core import audit, identity, queries, units
from workflow.core.clock import FixedClock, format_utc
from workflow.core.config import Settings
from workflow.core.errors import TransitionRefused
from workflow.core.logging import get_logger
from workflow.core.replay import replay
from workflow.core.writer import Workflow
from workflow.deadlines.calendar import WorkCalendar, calendar_of
from workflow.sampling import credit_code

ACTOR = "演示数据"
log = get_logger("ssj.demo")

# Three bureaus of the seeds share the demo database: 迁西县 130227 and 元氏县 130132 (Hebei),
# 宝丰县 410421 (Henan). Each task draws from its own county (地区) and matches inspectors of
# its own county through their field list.
COUNTIES = {"130227": "迁西县", "130132": "元氏县", "410421": "宝丰县", "130129": "赞皇县"}
# The unit tree they sit in (DESIGN §8). The seeds' counties are in two provinces, so the demo's
# root is a made-up province over their real cities; 石家庄市 has two counties (赞皇县 holds a
# directory but no plan this year), so that scoping shows.
ROOT = ("990000", "演示省人力资源和社会保障厅")
CITIES = {
    "130200": ("唐山市人力资源和社会保障局", ["130227"]),
    "130100": ("石家庄市人力资源和社会保障局", ["130132", "130129"]),
    "410400": ("平顶山市人力资源和社会保障局", ["410421"]),
}
# Each county's offices: (name, head, mailbox, owes the periodic reports).
OFFICES = (
    ("劳动保障监察大队", "监察大队队长", "jianchadadui", True),
    ("社会保险科", "社会保险科科长", "shebaoke", False),
    ("社会保险中心", "社保中心主任", "shebaozhongxin", True),
    ("就业促进股", "就业促进股股长", "jiuye", False),
)
_WORDS = [
    "众诚",
    "鑫达",
    "恒信",
    "燕山",
    "宏泰",
    "金源",
    "华北",
    "福民",
    "德润",
    "阳光",
    "豫龙",
    "汝瓷",
    "天瑞",
    "宏达",
    "栗乡",
    "长城",
    "兴旺",
    "顺通",
    "博远",
    "广厦",
]
_INDUSTRIES = {
    "建筑业": "建筑工程有限公司",
    "制造业": "机械制造有限公司",
    "批发和零售业": "商贸有限公司",
    "住宿和餐饮业": "餐饮管理有限公司",
    "交通运输业": "物流有限公司",
    "食品加工业": "食品有限公司",
}
_TYPES = {  # type → (how many per county, name suffix)
    "人力资源服务机构": (8, "人力资源服务有限公司"),
    "劳务派遣单位": (5, "劳务派遣有限公司"),
    "职业培训机构": (3, "职业技能培训学校"),
    "个体工商户": (6, "个体经营部"),
    "社会保险经办机构": (1, "社会保险事业服务中心"),
}
_GRADES = "AAABBBBBCCD"
_PEOPLE = [
    "张建国",
    "李秀英",
    "王志强",
    "刘丽娟",
    "陈德华",
    "杨玉兰",
    "赵国庆",
    "黄海燕",
    "周立新",
    "吴春梅",
    "徐志刚",
    "孙晓红",
]
_OFFICES = ("劳动保障监察大队", "社会保险科", "社会保险中心", "就业促进股")


def _units(wf: Workflow, now: str) -> None:
    """The demo's unit tree: the root renamed, cities, counties and their offices."""

    with wf.raw.write() as cur:
        sql = wf.raw.sql
        root = units.root(cur, sql)
        code, name = ROOT
        units.update(cur, sql, root.code, {"code": code, "name": name, "kind": "province"},
                     actor=ACTOR, now=now, reason=None)  # fmt: skip
        for city, (city_name, counties) in CITIES.items():
            units.insert(cur, sql, units.NewUnit(city, city_name, "city", code), actor=ACTOR,
                         now=now, reason=None)  # fmt: skip
            for county in counties:
                bureau = f"{COUNTIES[county]}人力资源和社会保障局"
                units.insert(cur, sql, units.NewUnit(county, bureau, "county", city), actor=ACTOR,
                             now=now, reason=None)  # fmt: skip
                for i, (office, head, box, reports) in enumerate(OFFICES, start=1):
                    new = units.NewUnit(
                        f"{county}-{i:02d}", office, "office", county,
                        f"{COUNTIES[county]}{head}（演示）", f"{box}.{county}@hrss.example.cn",
                        reports,
                    )  # fmt: skip
                    units.insert(cur, sql, new, actor=ACTOR, now=now, reason=None)


def _import_directories(wf: Workflow, folder: Path, start: date, now: str) -> None:
    from workflow.sampling import directories

    items, per_county = _directories(folder, start)
    directories.import_file(wf.raw, "items", items, actor=ACTOR, now=now)
    for region, (targets, inspectors) in per_county.items():
        for kind, path in (("targets", targets), ("inspectors", inspectors)):
            directories.import_file(wf.raw, kind, path, actor=ACTOR, now=now, unit=region)


def _directories(folder: Path, start: date) -> tuple[Path, dict[str, tuple[Path, Path]]]:
    """A realistic directory as the bureaus keep it: valid credit codes, Hebei and Henan regions
    and industries, grades A–D, inspectors across offices; written as CSV for the importer.
    Some targets were last inspected in the weeks before ``start`` (the demo's first day).
    Returns the item list and each county's (targets, inspectors) files: each county's
    directory belongs to its bureau."""
    from workflow.sampling.directories import KINDS, write_table

    rng = random.Random(2024)
    targets: list[list[str]] = []
    inspectors: list[list[str]] = []
    for region, county in COUNTIES.items():
        serial = 0

        def add(
            kind: str,
            name: str,
            industry: str,
            size: str,
            region: str = region,
            county: str = county,
        ) -> None:
            nonlocal serial
            code = credit_code.make(region, serial)
            serial += 1
            grade = rng.choice(_GRADES) if kind != "社会保险经办机构" else ""
            complaints = rng.choice([0, 0, 0, 0, 1, 2, 4, 6])
            tags = [t for t in ("欠薪风险", "新业态用工") if rng.random() < 0.15]
            inspected = (
                (start - timedelta(days=rng.randint(1, 60))).isoformat()
                if rng.random() < 0.2
                else ""
            )
            targets.append(
                [
                    code,
                    name,
                    kind,
                    industry,
                    county,
                    size,
                    grade,
                    ";".join(tags),
                    str(rng.choice([0, 0, 1, 2])),
                    str(complaints),
                    inspected,
                ]
            )

        for kind, (n, suffix) in _TYPES.items():
            for i in range(n):
                word = _WORDS[(i * 7 + len(kind)) % len(_WORDS)]
                add(
                    kind,
                    f"{county}{word}{suffix}" if n > 1 else f"{county}{suffix}",
                    "租赁和商务服务业" if kind != "职业培训机构" else "教育",
                    rng.choice(["中型", "小型", "微型"]),
                )
        for i in range(40):
            industry, suffix = list(_INDUSTRIES.items())[i % len(_INDUSTRIES)]
            add(
                "用人单位",
                f"{county}{_WORDS[i % len(_WORDS)]}{suffix}{'' if i < 20 else '二分公司'}",
                industry,
                rng.choice(["大型", "中型", "小型", "小型", "微型"]),
            )
        for i in range(8):
            cert = f"{region}{i + 1:05d}"
            fields = ["劳动保障监察", county] + (["社会保险"] if i % 3 == 1 else [])
            recusal = targets[-1 - i][0] if i == 0 else ""  # a relative works there
            inspectors.append(
                [
                    cert,
                    _PEOPLE[(i + len(inspectors)) % len(_PEOPLE)],
                    ";".join(fields),
                    "工资支付;劳动合同" if i % 2 else "社会保险稽核",
                    _OFFICES[i % len(_OFFICES)],
                    recusal,
                    f"j{cert}@hrss.example.cn",
                    "否" if i == 7 else "是",
                ]
            )
    items = [
        [
            "HB-JC-001",
            "用人单位遵守劳动合同制度情况",
            "《劳动合同法》第七十四条",
            "书面劳动合同订立、履行情况",
            "现场",
            "一般",
        ],
        [
            "HB-JC-002",
            "农民工工资支付情况",
            "《保障农民工工资支付条例》第五十四条",
            "工资专用账户、实名制管理、按月足额支付",
            "现场",
            "重点",
        ],
        [
            "HB-JC-003",
            "人力资源服务机构经营情况",
            "《人力资源市场暂行条例》第三十四条",
            "许可证、招聘信息真实合法、收费公示",
            "现场",
            "一般",
        ],
        [
            "HB-JC-004",
            "劳务派遣单位经营情况",
            "《劳动合同法》第五十七条、第九十二条",
            "许可证、派遣协议、同工同酬",
            "书面",
            "一般",
        ],
        [
            "HB-SB-001",
            "社会保险参保缴费情况",
            "《社会保险法》第八十六条",
            "参保人数、缴费基数与工资台账比对",
            "非现场",
            "重点",
        ],
        [
            "HB-SB-002",
            "社会保险经办机构内部控制情况",
            "《社会保险经办条例》第五十五条",
            "待遇核定、基金支付、内控制度",
            "书面",
            "一般",
        ],
    ]
    write_table(KINDS["items"], folder / "items.csv", items)
    per_county: dict[str, tuple[Path, Path]] = {}
    for region, county in COUNTIES.items():
        pair = (folder / f"targets-{region}.csv", folder / f"inspectors-{region}.csv")
        write_table(KINDS["targets"], pair[0], [r for r in targets if r[4] == county])
        write_table(KINDS["inspectors"], pair[1], [r for r in inspectors if r[0][:6] == region])
        per_county[region] = pair
    return folder / "items.csv", per_county


# The plan table in seed 004's annex layout (its first row is the seed's own row; 定向 chosen
# where the seed writes 定向(或者不定向)), with the tasks of seeds 003 and 001 after it; the
# seeds' years become the current one (plan numbers YYYY001 …), months the ones the demo needs.
def plan_rows(year: int, done: str, now: str, later: str) -> list[list[str]]:
    """The rows under plans.PLAN_TABLE's headers (序号, 单位, … 执法领域). ``done``: the months
    of the tasks already carried out; ``now``: the tasks under way; ``later``: the one still
    planned (each as the table writes them, e.g. 2026年3-4月)."""
    qx, ys, bf = f"{year}001", f"{year}003", f"{year}002"
    joint = f"{year}年迁西县人力资源和社会保障局内部联合随机抽查001"
    general = "用人单位遵守劳动合同制度情况"
    return [
        ["1", "迁西县人力资源和社会保障局", qx, joint, "001号", "人社局加强监管,规范执法“双随机”抽查",
         "定向", "10%", "按照人社局随机抽查事项清单(清单年度全覆盖)", "人力资源服务机构 社保经办机构",
         "劳动保障监察大队", "社会保险科 社会保险中心", done, "地区=迁西县", "", "迁西县"],
        ["2", "迁西县人力资源和社会保障局", qx, joint, "002号", "用人单位劳动用工和社会保险随机抽查",
         "定向", "10%", "HB-JC-001、HB-SB-001", "用人单位 人力资源服务机构", "社会保险中心",
         "劳动保障监察大队", done, "地区=迁西县", "C=20%", "迁西县"],
        ["3", "元氏县人力资源和社会保障局", ys, "", "001号", f"{year}年第一次“双随机、一公开”随机抽查",
         "不定向", "5%", general, "用人单位", "劳动保障监察大队", "", done, "地区=元氏县", "",
         "元氏县"],
        ["4", "元氏县人力资源和社会保障局", ys, "", "002号", f"{year}年第二次“双随机、一公开”随机抽查",
         "不定向", "5%", general, "用人单位", "劳动保障监察大队", "", now, "地区=元氏县", "",
         "元氏县"],
        ["5", "宝丰县人力资源和社会保障局", bf, "", "001号", "一般事项随机抽查", "不定向", "5%",
         general, "用人单位", "劳动保障监察大队", "", done, "地区=宝丰县", "", "宝丰县"],
        ["6", "宝丰县人力资源和社会保障局", bf, "", "002号", "重点事项随机抽查（农民工工资支付）",
         "定向", "20%", "农民工工资支付情况", "用人单位", "劳动保障监察大队", "", later,
         "地区=宝丰县；行业=建筑业", "", "宝丰县"],
    ]  # fmt: skip


def _inspector(wf: Workflow, task_id: int, code: str) -> str:
    """Results are recorded by an inspector of the target's group: its first, by name."""
    with wf.raw.read() as cur:
        cur.execute(
            wf.raw.sql(
                "SELECT inspectors FROM inspection_record WHERE task_id = ? AND target_code = ?"
            ),
            (task_id, code),
        )
        cert = json.loads(cur.fetchone()[0])[0]
        cur.execute(wf.raw.sql("SELECT name FROM inspector WHERE cert = ?"), (cert,))
        row = cur.fetchone()
    name: str = row[0] if row else cert
    return name


def _months(year: int, first: int, last: int) -> str:
    return f"{year}年{first}月" if first == last else f"{year}年{first}-{last}月"


class _Days:
    """Working days counted back and forth from the demo's today, on the bureau's calendar
    (the only calendar the demo consults)."""

    def __init__(self, cal: WorkCalendar, today: date) -> None:
        self.cal, self.today = cal, today

    def __call__(self, n: int) -> date:
        """``n`` working days after today (before it when negative); 0: today."""
        if n >= 0:
            return self.cal.add_working_days(self.today, n)
        day, left = self.today, -n
        while left:
            day -= timedelta(days=1)
            if self.cal.is_working_day(day):
                left -= 1
        return day


def load_demo(wf: Workflow, settings: Settings | None = None) -> int:
    """A bureau's current year so far, dated back from today (the workflow's clock), so the
    deadlines look as they would in use: a few due in the coming days, a few 1–5 working days
    late, none months late. Tasks in every state: closed, rectified, publicized with a problem
    awaiting its follow-up, inspected awaiting publication, drawn (a substitution, a result),
    planned. With ``settings``, the offices' periodic reports due before the last week are
    submitted on time. Each step is logged at its own moment, in order, ending now."""
    import tempfile

    from workflow.sampling import directories, plans, task_draw

    real = wf.clock
    end = real.now()
    tz = wf.timezone
    today = end.astimezone(tz).date()
    year = today.year
    day = _Days(calendar_of(wf), today)

    def at(d: date, hour: int) -> str:
        """Move the workflow's clock to ``hour`` o'clock of ``d`` (never past the real now)."""
        when = min(datetime.combine(d, time(hour), tz), end)
        wf.clock = FixedClock(when)
        return format_utc(when)

    start = day(-32)
    first = start.month if start.year == year else 1
    done = _months(year, first, today.month)
    now_months = _months(year, today.month, min(today.month + 1, 12))
    later = _months(year, min(today.month + 1, 12), min(today.month + 1, 12))
    _mark_demo(wf)
    stack = ExitStack()
    try:
        now = at(start, 9)
        # Every event names an account: the demo's year is the province's demo clerk's work
        # (a clerk may record any result of the subtree); demo_accounts adds the other roles.
        clerk = _demo_clerk(wf, now)
        stack.enter_context(identity.acting_as(clerk))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            _units(wf, now)
            _import_directories(wf, folder, start, now)
            table = folder / f"{year}年度抽查工作计划.csv"
            directories.write_table(
                plans.PLAN_TABLE, table, plan_rows(year, done, now_months, later)
            )
            plans.import_plan_table(wf, table, actor=ACTOR, rules=wf.rules, dry_run=False)
        qx, ys, bf = f"{year}001", f"{year}003", f"{year}002"
        for plan_no in (qx, ys, bf):
            plans.publish(wf, plan_no, actor=ACTOR)
        ids = {(t["plan_no"], t["task_no"]): t["id"] for t in queries.list_tasks(wf.engine)}

        # What the bureau did, in order of the day it did it (working days before today).
        # Each step's result, if any, is not used.
        script: list[tuple[date, int, Callable[[], object]]] = []
        codes: dict[int, list[str]] = {}

        def draw(task: int, lottery: str = "") -> None:
            public = f"{wf.clock.now().astimezone(tz).date()} {lottery}" if lottery else ""
            record = task_draw.draw_task(wf, task, actor=ACTOR, public_input=public)
            codes[task] = [t["code"] for t in record["targets"]]

        def inspect_all(task: int, results: dict[int, tuple[str, str]], rectify: date) -> None:
            for i, c in enumerate(codes[task]):
                result, note = results.get(i, ("no_problem", "现场检查未发现问题"))
                due = rectify if result in ("problem", "refused") else None
                wf.set_result(
                    task, c, result, actor=_inspector(wf, task, c), note=note, rectify_by=due
                )
            wf.fire(task, "inspect", actor=ACTOR)

        def publish(task: int, place: str) -> None:
            wf.publish(task, place=place, actor=ACTOR)
            wf.fire(task, "publicize", actor=ACTOR)

        hebei, henan = "河北人社网“行政执法信息公示专栏”", "宝丰县人民政府网站“双随机、一公开”专栏"
        t1, t2 = ids[(qx, "001号")], ids[(qx, "002号")]
        t3, t4, t5 = ids[(ys, "001号")], ids[(ys, "002号")], ids[(bf, "001号")]

        # 3. seed 003, round one: a refusal and a corrected result; inspected 23 working days
        #    ago, so its publication (20 working days) is 3 working days late; the refusal's
        #    rectification is due in two days.
        script.append((day(-30), 9, lambda: draw(t3)))

        def t3_results() -> None:
            inspect_all(
                t3,
                {0: ("refused", "拒绝提供工资支付台账"), 1: ("unreachable", "登记住所无法联系")},
                today + timedelta(days=2),
            )

        def t3_correction() -> None:  # kept with both values in the log (before publication)
            wf.set_result(
                t3, codes[t3][1], "no_problem", actor=_inspector(wf, t3, codes[t3][1]),
                reason="复查：企业已迁回登记住所，检查未发现问题",
            )  # fmt: skip

        # 1. seed 004's task, carried through to closed: every target clean.
        script.append((day(-28), 9, lambda: draw(t1, "河北福彩 3D 开奖号码 517")))
        script.append((day(-28), 15, lambda: _confirm(wf, t1)))
        # 2. a joint-period task of another office: targets of task 1 merge; a problem,
        #    rectified on time.
        script.append((day(-26), 9, lambda: draw(t2, "河北福彩 3D 开奖号码 093")))
        script.append((day(-26), 15, lambda: _confirm(wf, t2)))
        script.append((day(-23), 10, t3_results))
        script.append((day(-23), 16, t3_correction))
        script.append((day(-20), 10, lambda: inspect_all(t1, {}, day(-5))))
        # 5. seed 001: general items at the 5% floor; a problem whose rectification date
        #    passed 3 working days ago with no follow-up yet.
        script.append((day(-20), 11, lambda: draw(t5)))
        script.append(
            (day(-19), 10, lambda: inspect_all(t2, {0: ("problem", "未按时足额缴纳社会保险费")}, day(-9)))
        )  # fmt: skip
        script.append(
            (day(-15), 10, lambda: inspect_all(t5, {0: ("problem", "未与2名劳动者签订书面劳动合同")}, day(-3)))
        )  # fmt: skip
        script.append((day(-14), 10, lambda: publish(t5, henan)))
        script.append((day(-12), 10, lambda: publish(t1, hebei)))
        script.append((day(-11), 10, lambda: publish(t2, hebei)))
        script.append(
            (day(-10), 10, lambda: wf.fire(t1, "close", actor=ACTOR, reason="资料已立卷归档"))
        )

        def t2_rectified() -> None:
            wf.add_followup(t2, codes[t2][0], "rectified", actor=ACTOR, note="已补缴并提交缴费凭证")
            wf.fire(t2, "rectify", actor=ACTOR)

        script.append((day(-9), 15, t2_rectified))

        # 4. seed 003, round two: drawn yesterday (its confirmation is due tomorrow), one
        #    inspector substituted, a first result in today, to be rectified within 3 days
        #    (calendar days: the demo asks the calendar about no day after today's year).
        def t4_drawn() -> None:
            draw(t4)
            record = task_draw.load_record(wf, t4)
            first = record["targets"][0]
            if first["substitutes"]:
                task_draw.substitute(
                    wf, t4, first["code"], first["group"][0], reason="请假（演示递补）", actor=ACTOR
                )

        script.append((day(-1), 10, t4_drawn))
        script.append(
            (today, 9, lambda: wf.set_result(
                t4, codes[t4][0], "problem", actor=_inspector(wf, t4, codes[t4][0]),
                note="未按规定参加工伤保险",
                rectify_by=today + timedelta(days=3),
            ))
        )  # fmt: skip
        # 6. seed 001: major items (重点事项, no ratio ceiling) stay planned, commitment published.
        if settings is not None:
            script.extend(_reports_on_time(wf, settings, start, day(-5)))
        for d, hour, step in sorted(script, key=lambda x: (x[0], x[1])):
            at(d, hour)
            step()
    finally:
        stack.close()
        wf.clock = real
    return len(ids)


DEMO_CLERK = "clerk"


def _demo_clerk(wf: Workflow, now: str) -> identity.Actor:
    from workflow.core import accounts

    with wf.raw.read() as cur:
        root = units.root(cur, wf.raw.sql)
    new = accounts.NewAccount(DEMO_CLERK, "演示录入员", "clerk", root.code, None)
    accounts.add(wf.raw, new, by=None, now=now)
    with wf.raw.read() as cur:
        return accounts.actor(cur, wf.raw.sql, DEMO_CLERK)


def demo_accounts(wf: Workflow) -> list[tuple[str, str, str, str]]:
    """One account per role, each with a new random password (printed once by ``ssj demo``):
    the administrator, clerk and auditor over the whole demo province, the supervisor over
    唐山市 (so that scoping shows: the other cities' work is not theirs), the inspector linked
    to a member of a group that still has results to enter. Returns (username, password, role,
    unit) rows."""
    import secrets

    from workflow.core import accounts

    now = format_utc(wf.clock.now())
    sql = wf.raw.sql
    with wf.raw.read() as cur:
        cur.execute(
            sql(
                "SELECT r.inspectors FROM inspection_record r JOIN task t ON t.id = r.task_id"
                " WHERE t.state = 'drawn' AND r.result IS NULL ORDER BY t.id, r.id"
            )
        )
        rows = cur.fetchall()
        cert = json.loads(rows[0][0])[0] if rows else None
        inspector_unit = None
        if cert:
            cur.execute(
                sql(
                    "SELECT u.code FROM inspector i JOIN unit u ON u.id = i.unit_id WHERE cert = ?"
                ),
                (cert,),
            )
            inspector_unit = cur.fetchone()[0]
    plan = [
        ("admin", "演示管理员", "admin", ROOT[0], None),
        (DEMO_CLERK, "演示录入员", "clerk", ROOT[0], None),
        ("supervisor", "演示督办", "supervisor", next(iter(CITIES)), None),
        ("auditor", "演示审计", "auditor", ROOT[0], None),
    ]
    if cert and inspector_unit:
        plan.insert(2, ("inspector", "演示执法人员", "inspector", inspector_unit, cert))
    out = []
    for username, name, role, unit, linked in plan:
        password = f"demo-{secrets.token_hex(4)}"
        with wf.raw.read() as cur:
            cur.execute(sql("SELECT 1 FROM account WHERE username = ?"), (username,))
            exists = cur.fetchone() is not None
        if exists:
            accounts.set_password(wf.raw, username, password, by=None, now=now)
        else:
            new = accounts.NewAccount(username, name, role, unit, password, "", linked)
            accounts.add(wf.raw, new, by=None, now=now)
        out.append((username, password, role, unit))
    return out


def _reports_on_time(
    wf: Workflow, settings: Settings, since: date, until: date
) -> list[tuple[date, int, Callable[[], None]]]:
    """The periodic reports due from ``since`` up to ``until``, each submitted on its day."""
    from workflow.deadlines import reports
    from workflow.deadlines import rules as deadline_rules

    out: list[tuple[date, int, Callable[[], None]]] = []
    from workflow.core import units

    offices = [u.code for u in units.all_units(wf.raw) if u.is_office and u.reports]
    for year in range(since.year, until.year + 1):
        for kind, period, due, _ in deadline_rules.report_periods(year, settings.deadlines):
            if not since <= due <= until:
                continue
            for office in offices:

                def submit(kind: str = kind, period: str = period, office: str = office) -> None:
                    reports.submit(
                        wf, settings, kind=kind, period=period, office=office, actor=ACTOR
                    )

                out.append((due, 14, submit))
    return out


def _mark_demo(wf: Workflow) -> None:
    """A database the demo loads into is a demo database: its writes may be dated by the
    injectable clock (``--now``). Never a database that already holds events."""
    with wf.raw.write() as cur:
        cur.execute("SELECT count(*) FROM event")
        if cur.fetchone()[0]:
            return
        cur.execute(wf.raw.sql("DELETE FROM database_info WHERE key = 'purpose'"))
        cur.execute(wf.raw.sql("INSERT INTO database_info (key, value) VALUES ('purpose', 'demo')"))


def _confirm(wf: Workflow, task_id: int) -> None:
    """Confirm the draw on the day of the draw (seed 003: within 2 working days)."""
    from workflow.sampling import task_draw

    task_draw.confirm(wf, task_id, actor=ACTOR, tz=str(wf.timezone))


def walkthrough(wf: Workflow, echo: Callable[[str], None]) -> None:
    """Tasks, one transition, the verified chain, a replay."""
    tasks = queries.list_tasks(wf.engine)
    echo(f"== 抽查任务（{len(tasks)} 个）==")
    for t in tasks:
        label = states.STATE_LABELS[t["state"]]
        echo(
            f"  任务 {t['id']:>3}  {t['plan_no']} {t['task_no']}  {t['state']:<10}({label})  {t['name']}"
        )

    echo("== 一次状态转换 ==")
    moved = False
    refusals: list[str] = []
    for t in tasks:
        for trigger in states.allowed_triggers(t["state"]):
            if trigger == "draw":  # drawn only by `ssj draw`, never fired directly
                refusals.append(f"  任务 {t['id']} draw：请用 ssj draw {t['id']} 抽取")
                continue
            try:
                src, dest, seq = wf.fire(t["id"], trigger, actor="演示流程", reason="make run 演示")
            except TransitionRefused as e:
                refusals.append(f"  任务 {t['id']} {trigger}：{e.reason}")
                continue
            echo(f"  任务 {t['id']}：{src} → {dest}（{trigger}，审计事件 {seq}）")
            moved = True
            break
        if moved:
            break
    if not moved:
        echo("  当前没有满足条件的转换。")
    if refusals:
        echo("  被规则拒绝的转换（示例）：")
        for line in refusals[:3]:
            echo(line)

    echo("== 哈希链校验 ==")
    v = audit.verify_db(wf.raw)
    echo(
        f"  {'完整' if v.ok else '损坏'}：{v.events} 个事件，链头 #{v.head_seq} {v.head_hash[:16]}…"
    )
    if not v.ok:
        echo(f"  第一个异常事件 {v.first_bad_seq}：{v.reason}")

    echo("== 日志重放 ==")
    r = replay(wf.raw)
    echo(
        f"  重放 {r.events} 个事件，得到 {len(r.tasks)} 个任务的状态；"
        + ("与数据表一致。" if r.ok else f"{len(r.mismatches)} 处不一致：")
    )
    for m in r.mismatches:
        echo(f"    {m['message']}")
