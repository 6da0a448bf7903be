"""Demo data taken from the seeds' examples, and the walk-through that ``make run`` shows."""

from __future__ import annotations

from collections.abc import Callable

import states
from workflow import audit, credit_code, queries
from workflow.engine import Workflow
from workflow.errors import TransitionRefused
from workflow.replay import replay

ACTOR = "演示数据"

# Hebei county division codes: 迁西县 130227, 元氏县 130132; Henan 宝丰县 410421.
_TARGETS = {
    "130227": [
        "迁西县众诚人力资源服务有限公司",
        "迁西县社会保险事业服务中心",
        "迁西县鑫达劳务派遣有限公司",
        "唐山市栗乡职业技能培训学校",
        "迁西县恒信建筑工程有限公司",
        "迁西县燕山板栗食品有限公司",
    ],
    "130132": [
        "元氏县宏泰机械制造有限公司",
        "元氏县金源纺织有限公司",
        "石家庄市华北劳务服务有限公司",
        "元氏县福民物流有限公司",
        "元氏县德润建材有限公司",
        "元氏县阳光餐饮管理有限公司",
    ],
    "410421": [
        "宝丰县豫龙人力资源有限公司",
        "宝丰县汝瓷文化发展有限公司",
        "宝丰县天瑞水泥有限公司",
        "平顶山市宏达劳务派遣有限公司",
    ],
}


def _inspectors(region: str, n: int) -> list[list[str]]:
    """Enforcement certificate numbers (region + serial), grouped in pairs."""
    return [[f"{region}{2 * i + 1:05d}", f"{region}{2 * i + 2:05d}"] for i in range(n)]


def load_demo(wf: Workflow) -> int:
    """Plans and tasks of seeds 004, 003 and 001, left in every lifecycle state."""
    wf.create_plan(
        "2024001",
        unit="迁西县人力资源和社会保障局",
        actor=ACTOR,
        name="2024年迁西县人力资源和社会保障局内部联合随机抽查001",
    )
    wf.create_plan("2022001", unit="元氏县人力资源和社会保障局", actor=ACTOR)
    wf.create_plan("2024002", unit="宝丰县人力资源和社会保障局", actor=ACTOR)

    def task(plan: str, name: str, region: str, **kw: object) -> int:
        return wf.create_task(plan, name=name, actor=ACTOR, **kw)  # type: ignore[arg-type]

    def draw(task_id: int, region: str, start: int, count: int) -> list[str]:
        codes = []
        groups = _inspectors(region, count)
        for i in range(count):
            code = credit_code.make(region, start + i)
            name = _TARGETS[region][(start + i) % len(_TARGETS[region])]
            wf.add_record(task_id, code, target_name=name, inspectors=groups[i], actor=ACTOR)
            codes.append(code)
        wf.fire(task_id, "draw", actor=ACTOR, reason="演示：检查组已匹配")
        return codes

    qianxi = dict(
        task_type="directed",
        ratio="10%",
        items="按照人社局随机抽查事项清单(清单年度全覆盖)",
        scope="人力资源服务机构 社保经办机构",
        initiating_office="劳动保障监察大队",
        joining_offices=["社会保险科", "社会保险中心"],
        months="2024-04",
    )
    # 1. seed 004's task, carried through to closed: every target clean.
    t1 = task("2024001", "人社局加强监管,规范执法“双随机”抽查", "130227", task_no="001号", **qianxi)
    codes = draw(t1, "130227", 0, 2)
    for c in codes:
        wf.set_result(t1, c, "no_problem", actor="13022700001", note="自查与现场检查均未发现问题")
    wf.fire(t1, "inspect", actor="13022700001")
    wf.publish(t1, place="河北人社网“行政执法信息公示专栏”", actor=ACTOR)
    wf.fire(t1, "publicize", actor=ACTOR)
    wf.fire(t1, "close", actor=ACTOR, reason="资料已立卷归档")

    # 2. A second Qianxi task with a problem, rectified.
    t2 = task(
        "2024001", "人力资源服务机构专项随机抽查", "130227", **{**qianxi, "months": "2024-09"}
    )
    codes = draw(t2, "130227", 2, 3)
    wf.set_result(t2, codes[0], "problem", actor="13022700001", note="发布的招聘信息含性别歧视内容")
    wf.set_result(t2, codes[1], "no_problem", actor="13022700003")
    wf.set_result(t2, codes[2], "not_operating", actor="13022700005")
    wf.fire(t2, "inspect", actor="13022700001")
    wf.publish(t2, place="河北人社网“行政执法信息公示专栏”", actor=ACTOR)
    wf.fire(t2, "publicize", actor=ACTOR)
    wf.add_followup(
        t2, codes[0], "rectified", actor="13022700001", note="已删除违规招聘信息并书面承诺"
    )
    wf.fire(t2, "rectify", actor=ACTOR)

    # 3. seed 003, round one (Jun–Jul): results in, one refusal awaiting publication.
    yuanshi = dict(
        task_type="undirected",
        ratio="5%",
        items="用人单位遵守劳动保障法律、法规情况",
        scope="辖区内用人单位",
        initiating_office="劳动保障监察大队",
    )
    t3 = task(
        "2022001",
        "2022年第一次“双随机、一公开”随机抽查",
        "130132",
        months="2022-06..2022-07",
        **yuanshi,
    )
    codes = draw(t3, "130132", 0, 3)
    wf.set_result(t3, codes[0], "no_problem", actor="13013200001")
    wf.set_result(t3, codes[1], "refused", actor="13013200003", note="拒绝提供工资支付台账")
    wf.set_result(t3, codes[2], "unreachable", actor="13013200005")
    # a corrected result: before and after are both in the log
    wf.set_result(
        t3,
        codes[2],
        "no_problem",
        actor="13013200005",
        reason="复查：企业已迁回登记住所，检查未发现问题",
    )
    wf.fire(t3, "inspect", actor="13013200001")

    # 4. seed 003, round two (Oct–Nov): drawn, being inspected.
    t4 = task(
        "2022001",
        "2022年第二次“双随机、一公开”随机抽查",
        "130132",
        months="2022-10..2022-11",
        **yuanshi,
    )
    codes = draw(t4, "130132", 3, 3)
    wf.set_result(t4, codes[0], "problem", actor="13013200001", note="未按规定参加工伤保险")

    # 5. seed 001: general items at the 5% floor, published with a problem awaiting follow-up.
    baofeng = dict(
        items="一般事项：用人单位遵守劳动合同制度情况",
        scope="辖区内用人单位",
        initiating_office="劳动保障监察大队",
        months="2024-05",
    )
    t5 = task("2024002", "一般事项随机抽查", "410421", ratio="5%", **baofeng)
    codes = draw(t5, "410421", 0, 2)
    wf.set_result(
        t5, codes[0], "problem", actor="41042100001", note="未与2名劳动者签订书面劳动合同"
    )
    wf.set_result(t5, codes[1], "no_problem", actor="41042100003")
    wf.fire(t5, "inspect", actor="41042100001")
    wf.publish(t5, place="宝丰县人民政府网站“双随机、一公开”专栏", actor=ACTOR)
    wf.fire(t5, "publicize", actor=ACTOR)

    # 6. seed 001: major items (重点事项, no ratio ceiling), planned, not yet drawn.
    task(
        "2024002",
        "重点事项随机抽查（农民工工资支付）",
        "410421",
        ratio="20%",
        **{**baofeng, "items": "重点事项：农民工工资支付情况", "months": "2024-10"},
    )
    return len(queries.list_tasks(wf.engine))


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
