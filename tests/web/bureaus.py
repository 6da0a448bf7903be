"""A city with two counties for the API's tests: each county a bureau with its reporting
office, its own directory and a drawn task (on 2024-04-01, confirmation due 04-03), and
accounts at the city and in each county — so that scoping shows. ``bearer`` gives an
account's API token as request headers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import add_account, import_rows
from workflow.core import accounts, units
from workflow.core.clock import FixedClock
from workflow.core.writer import Workflow
from workflow.sampling import credit_code, plans, task_draw

SH = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct-horse-9"
CITY, BAOFENG, LUSHAN = "410400", "410421", "410423"
OFFICE = "劳动保障监察大队"
ROLES = ("admin", "clerk", "supervisor", "auditor")


def at(m: int, d: int, hour: int = 9, y: int = 2024) -> datetime:
    return datetime(y, m, d, hour, tzinfo=SH)


@dataclass
class Bureaus:
    tasks: dict[str, int]  # county code → its task


def bearer(wf: Workflow, username: str) -> dict[str, str]:
    """Headers that act as ``username`` (a new API token, its event at the workflow's time)."""
    text, _ = accounts.create_token(wf.raw, username, "测试", by=None, now=wf.event_time())
    return {"Authorization": f"Bearer {text}"}


def city_with_two_counties(wf: Workflow, clock: FixedClock, tmp_path: Path) -> Bureaus:
    """The tree 410400 → 410421 宝丰县, 410423 鲁山县 (each with its 劳动保障监察大队, which owes
    the reports); a drawn task in each county; accounts ``city-<role>``, ``bf-<role>`` and
    ``ls-<role>`` for the roles in ROLES."""
    clock.set(at(4, 1))
    now = wf.event_time()
    units.edit(wf.raw, "000000", {"code": CITY, "name": "平顶山市人社局", "kind": "市级"},
               actor="管理员", now=now)  # fmt: skip
    for code, name in ((BAOFENG, "宝丰县人社局"), (LUSHAN, "鲁山县人社局")):
        units.add(wf.raw, units.NewUnit(code, name, "county", CITY), actor="管理员", now=now)
        units.add(
            wf.raw,
            units.NewUnit(f"{code}-01", OFFICE, "office", code, f"{name}队长",
                          f"head.{code}@bureau.test", True),
            actor="管理员", now=now,
        )  # fmt: skip
    import_rows(wf, tmp_path, "items", [["JC-1", "劳动合同", "", "", "现场", "一般"]])
    tasks = {}
    for n, county in enumerate((BAOFENG, LUSHAN), start=1):
        targets = [[credit_code.make(county, i), f"{county}企业{i}", "用人单位"] for i in range(2)]
        inspectors = [
            [f"{county}{i:03d}", f"{county}检查员{i}", "劳动保障监察", "", "", "",
             f"{county}{i:03d}@bureau.test"]
            for i in range(3)
        ]  # fmt: skip
        import_rows(wf, tmp_path, "targets", targets, unit=county)
        import_rows(wf, tmp_path, "inspectors", inspectors, unit=county)
        plan = f"202400{n}"
        plans.create_plan(wf, plan, unit=county, actor="录入员")
        t = plans.create_task(
            wf, plan, name=f"{county}抽查", task_no="001号", task_type="undirected", ratio="1",
            item_codes=["JC-1"], inspector_field="劳动保障监察", initiating_office=OFFICE,
            months="2024-04", actor="录入员",
        )  # fmt: skip
        plans.publish(wf, plan, actor="录入员")
        task_draw.draw_task(wf, t, actor="录入员", public_input="")
        tasks[county] = t
    for prefix, unit in (("city", CITY), ("bf", BAOFENG), ("ls", LUSHAN)):
        for role in ROLES:
            add_account(wf, f"{prefix}-{role}", role, unit=unit)
    return Bureaus(tasks)


def event_count(wf: Workflow) -> int:
    with wf.raw.read() as cur:
        cur.execute("SELECT count(*) FROM event")
        return int(cur.fetchone()[0])
