"""Demo data taken from the seeds' examples, and the walk-through that ``make run`` shows."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import states
from workflow import audit, credit_code, queries
from workflow.clock import format_utc
from workflow.engine import Workflow
from workflow.errors import TransitionRefused
from workflow.logging import get_logger
from workflow.replay import replay

ACTOR = "演示数据"
log = get_logger("ssj.demo")

# Three bureaus of the seeds share the demo database: 迁西县 130227 and 元氏县 130132 (Hebei),
# 宝丰县 410421 (Henan). Each task draws from its own county (地区) and matches inspectors of
# its own county through their field list.
COUNTIES = {"130227": "迁西县", "130132": "元氏县", "410421": "宝丰县"}
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


def _directories(folder: Path) -> tuple[Path, Path, Path]:
    """A realistic directory as the bureaus keep it: valid credit codes, Hebei and Henan regions
    and industries, grades A–D, inspectors across offices; written as CSV for the importer."""
    from workflow.directories import KINDS, write_table

    rng = random.Random(2024)
    targets, inspectors = [], []
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
                f"2024-0{rng.randint(1, 3)}-1{rng.randint(0, 9)}" if rng.random() < 0.2 else ""
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
    paths = []
    for kind, rows in (("items", items), ("targets", targets), ("inspectors", inspectors)):
        path = folder / f"{kind}.csv"
        write_table(KINDS[kind], path, rows)
        paths.append(path)
    return paths[0], paths[1], paths[2]


# The plan table in seed 004's annex layout (its first row is the seed's own row; 定向 chosen
# where the seed writes 定向(或者不定向)), with the tasks of seeds 003 and 001 after it.
PLAN_ROWS = [  # under plans.PLAN_TABLE's headers (序号, 单位, … 执法领域)
    [
        "1",
        "迁西县人力资源和社会保障局",
        "2024001",
        "2024年迁西县人力资源和社会保障局内部联合随机抽查001",
        "001号",
        "人社局加强监管,规范执法“双随机”抽查",
        "定向",
        "10%",
        "按照人社局随机抽查事项清单(清单年度全覆盖)",
        "人力资源服务机构 社保经办机构",
        "劳动保障监察大队",
        "社会保险科 社会保险中心",
        "2024年4月",
        "地区=迁西县",
        "",
        "迁西县",
    ],
    [
        "2",
        "迁西县人力资源和社会保障局",
        "2024001",
        "2024年迁西县人力资源和社会保障局内部联合随机抽查001",
        "002号",
        "用人单位劳动用工和社会保险随机抽查",
        "定向",
        "10%",
        "HB-JC-001、HB-SB-001",
        "用人单位 人力资源服务机构",
        "社会保险中心",
        "劳动保障监察大队",
        "2024年4-5月",
        "地区=迁西县",
        "C=20%",
        "迁西县",
    ],
    [
        "3",
        "元氏县人力资源和社会保障局",
        "2022001",
        "",
        "001号",
        "2022年第一次“双随机、一公开”随机抽查",
        "不定向",
        "5%",
        "用人单位遵守劳动合同制度情况",
        "用人单位",
        "劳动保障监察大队",
        "",
        "2022年6-7月",
        "地区=元氏县",
        "",
        "元氏县",
    ],
    [
        "4",
        "元氏县人力资源和社会保障局",
        "2022001",
        "",
        "002号",
        "2022年第二次“双随机、一公开”随机抽查",
        "不定向",
        "5%",
        "用人单位遵守劳动合同制度情况",
        "用人单位",
        "劳动保障监察大队",
        "",
        "2022年10-11月",
        "地区=元氏县",
        "",
        "元氏县",
    ],
    [
        "5",
        "宝丰县人力资源和社会保障局",
        "2024002",
        "",
        "001号",
        "一般事项随机抽查",
        "不定向",
        "5%",
        "用人单位遵守劳动合同制度情况",
        "用人单位",
        "劳动保障监察大队",
        "",
        "2024年5月",
        "地区=宝丰县",
        "",
        "宝丰县",
    ],
    [
        "6",
        "宝丰县人力资源和社会保障局",
        "2024002",
        "",
        "002号",
        "重点事项随机抽查（农民工工资支付）",
        "定向",
        "20%",
        "农民工工资支付情况",
        "用人单位",
        "劳动保障监察大队",
        "",
        "2024年10月",
        "地区=宝丰县；行业=建筑业",
        "",
        "宝丰县",
    ],
]


def load_demo(wf: Workflow) -> int:
    """The directories, the plan table, publication, draws, and tasks left in every state."""
    import tempfile

    from workflow import directories, drawing, plans

    now = format_utc(wf.clock.now())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind, path in zip(
            ("items", "targets", "inspectors"), _directories(folder), strict=True
        ):
            directories.import_file(wf.raw, kind, path, actor=ACTOR, now=now)
        table = folder / "2024年度抽查工作计划.csv"
        directories.write_table(plans.PLAN_TABLE, table, PLAN_ROWS)
        plans.import_plan_table(wf, table, actor=ACTOR, rules=wf.rules, dry_run=False)
    for plan_no in ("2024001", "2022001", "2024002"):
        wf.publish_plan(plan_no, actor=ACTOR)
    ids = {(t["plan_no"], t["task_no"]): t["id"] for t in queries.list_tasks(wf.engine)}

    def draw(plan_no: str, task_no: str, public_input: str) -> tuple[int, list[str]]:
        task_id = ids[(plan_no, task_no)]
        record = drawing.draw_task(wf, task_id, actor=ACTOR, public_input=public_input)
        return task_id, [t["code"] for t in record["targets"]]

    # The inspector sets each problem's rectification date (a month here), so the demo does
    # not depend on next year's holidays being known yet.
    today = wf.clock.now().astimezone(wf.timezone).date()
    rectify_by = today + timedelta(days=30)

    def inspect_all(task_id: int, codes: list[str], results: dict[int, tuple[str, str]]) -> None:
        for i, c in enumerate(codes):
            result, note = results.get(i, ("no_problem", "现场检查未发现问题"))
            due = rectify_by if result in ("problem", "refused") else None
            wf.set_result(task_id, c, result, actor=ACTOR, note=note, rectify_by=due)
        wf.fire(task_id, "inspect", actor=ACTOR)

    # 1. seed 004's task, carried through to closed: every target clean.
    t1, codes = draw("2024001", "001号", "2024-04-01 河北福彩 3D 开奖号码 517")
    _confirm(wf, t1)
    inspect_all(t1, codes, {})
    wf.publish(t1, place="河北人社网“行政执法信息公示专栏”", actor=ACTOR)
    wf.fire(t1, "publicize", actor=ACTOR)
    wf.fire(t1, "close", actor=ACTOR, reason="资料已立卷归档")

    # 2. a joint-period task of another office: targets of task 1 merge; a problem, rectified.
    t2, codes = draw("2024001", "002号", "2024-04-08 河北福彩 3D 开奖号码 093")
    _confirm(wf, t2)
    inspect_all(t2, codes, {0: ("problem", "未按时足额缴纳社会保险费")})
    wf.publish(t2, place="河北人社网“行政执法信息公示专栏”", actor=ACTOR)
    wf.fire(t2, "publicize", actor=ACTOR)
    wf.add_followup(t2, codes[0], "rectified", actor=ACTOR, note="已补缴并提交缴费凭证")
    wf.fire(t2, "rectify", actor=ACTOR)

    # 3. seed 003, round one (Jun–Jul): a refusal and a corrected result, awaiting publication.
    t3, codes = draw("2022001", "001号", "")
    inspect_all(
        t3,
        codes,
        {0: ("refused", "拒绝提供工资支付台账"), 1: ("unreachable", "登记住所无法联系")},
    )
    # A corrected result keeps both values in the log. (The task is inspected: correct before
    # publication.)
    wf.set_result(
        t3, codes[1], "no_problem", actor=ACTOR, reason="复查：企业已迁回登记住所，检查未发现问题"
    )

    # 4. seed 003, round two (Oct–Nov): drawn, one inspector substituted, being inspected.
    t4, codes = draw("2022001", "002号", "")
    record = drawing.load_record(wf, t4)
    first = record["targets"][0]
    if first["substitutes"]:
        drawing.substitute(
            wf, t4, first["code"], first["group"][0], reason="请假（演示递补）", actor=ACTOR
        )
    wf.set_result(
        t4, codes[0], "problem", actor=ACTOR, note="未按规定参加工伤保险", rectify_by=rectify_by
    )

    # 5. seed 001: general items at the 5% floor, published with a problem awaiting follow-up.
    t5, codes = draw("2024002", "001号", "")
    inspect_all(t5, codes, {0: ("problem", "未与2名劳动者签订书面劳动合同")})
    wf.publish(t5, place="宝丰县人民政府网站“双随机、一公开”专栏", actor=ACTOR)
    wf.fire(t5, "publicize", actor=ACTOR)
    # 6. seed 001: major items (重点事项, no ratio ceiling) stay planned, commitment published.
    return len(ids)


def _confirm(wf: Workflow, task_id: int) -> None:
    """Confirm the draw (the demo draws historical plans today; a reason covers lateness).
    Today's year may be newer than the installed calendar: the demo then leaves it unconfirmed
    rather than fail ``make run``; the command itself would say which year is missing."""
    from workflow import drawing
    from workflow.calendar import CalendarNotCovered

    try:
        drawing.confirm(wf, task_id, actor=ACTOR, reason="演示数据：按历史计划补录")
    except CalendarNotCovered as e:
        log.warning("demo_confirm_skipped", task=task_id, reason=str(e))


def walkthrough(wf: Workflow, echo: Callable[[str], None]) -> None:
    """Tasks, one transition, the verified chain, a replay."""
    tasks = queries.list_tasks(wf.engine)
    echo(f"== 抽查任务（{len(tasks)} 个）==")
    for t in tasks:
        label = states._lifecycle.STATE_LABELS[t["state"]]
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
