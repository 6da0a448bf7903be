"""Units (DESIGN §8): the tree, its rules, its events; the migration that brings a
single-bureau database into one unit; and what belonging to a unit changes — a draw stays in
its bureau's subtree, and two bureaus' offices of the same name are two offices."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import text

from tests.conftest import CLERKS, register_offices
from workflow.core import schema, units
from workflow.core.config import DbSettings, Settings
from workflow.core.db import make_engine
from workflow.core.errors import InvalidInput, NotFound
from workflow.core.writer import Workflow
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.calendar import WorkCalendar
from workflow.sampling import plans, task_draw, unit_table
from workflow.sampling.directories import ImportRejected

SH = ZoneInfo("Asia/Shanghai")
NOW = "2024-03-01T01:00:00.000000Z"


def tree(wf: Workflow) -> list[tuple[str, str, str, str]]:
    """(code, name, kind, parent code) of every unit, parents first."""
    found = units.all_units(wf.raw)
    code_of = {u.id: u.code for u in found}
    return [(u.code, u.name, u.kind, code_of.get(u.parent_id or 0, "")) for u in found]


def events(wf: Workflow, kind: str) -> list[tuple[str, str | None, dict[str, object]]]:
    with wf.raw.read() as cur:
        cur.execute(wf.raw.sql("SELECT actor, reason, payload FROM event WHERE kind = ? ORDER BY seq"),
                    (kind,))  # fmt: skip
        return [(a, r, json.loads(p)) for a, r, p in cur.fetchall()]


def city_with_two_counties(wf: Workflow) -> None:
    units.edit(wf.raw, "000000", {"code": "410400", "name": "平顶山市人社局", "kind": "市级"},
               actor="管理员", now=NOW)  # fmt: skip
    for code, name in (("410421", "宝丰县人社局"), ("410423", "鲁山县人社局")):
        units.add(wf.raw, units.NewUnit(code, name, "county", "410400"), actor="管理员", now=NOW)
        units.add(
            wf.raw,
            units.NewUnit(f"{code}-01", "劳动保障监察大队", "office", code,
                          f"{name}队长", f"head.{code}@bureau.test", True),
            actor="管理员", now=NOW,
        )  # fmt: skip


def test_a_new_database_is_one_root_bureau(wf: Workflow) -> None:
    assert tree(wf) == [("000000", "本单位", "county", "")]


def test_the_tree_is_built_level_by_level_and_every_change_is_an_event(wf: Workflow) -> None:
    city_with_two_counties(wf)
    assert tree(wf) == [
        ("410400", "平顶山市人社局", "city", ""),
        ("410421", "宝丰县人社局", "county", "410400"),
        ("410421-01", "劳动保障监察大队", "office", "410421"),
        ("410423", "鲁山县人社局", "county", "410400"),
        ("410423-01", "劳动保障监察大队", "office", "410423"),
    ]
    (changed,) = events(wf, "unit_changed")
    assert changed == (
        "管理员", None,
        {"unit": "410400",
         "before": {"code": "000000", "name": "本单位", "kind": "county"},
         "after": {"code": "410400", "name": "平顶山市人社局", "kind": "city"}},
    )  # fmt: skip
    added = events(wf, "unit_added")
    assert [p["unit"] for _, _, p in added] == ["410421", "410421-01", "410423", "410423-01"]
    assert added[1][2]["after"] == {
        "code": "410421-01", "name": "劳动保障监察大队", "kind": "office", "parent": "410421",
        "head": "宝丰县人社局队长", "email": "head.410421@bureau.test", "reports": True,
    }  # fmt: skip
    # A subtree is one prefix: the city holds both counties, a county only itself.
    with wf.raw.read() as cur:
        city = units.find(cur, wf.raw.sql, "410400")
        county = units.find(cur, wf.raw.sql, "４１０４２１")  # full-width, as typed
        where, params = units.in_subtree("id", county)
        cur.execute(wf.raw.sql(f"SELECT code FROM unit WHERE {where} ORDER BY code"), params)
        assert [r[0] for r in cur.fetchall()] == ["410421", "410421-01"]
        assert city.path == "/1/" and county.path.startswith("/1/")


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (units.NewUnit("410424", "叶县", "city", "410421"), "市级单位不能设在县级单位"),
        (units.NewUnit("410424", "叶县", "county", "410421-01"), "科室下不能再设单位"),
        (units.NewUnit("410424", "叶县", "county", None), "只能有一个最上级单位"),
        (units.NewUnit("410421", "叶县", "county", "410400"), "单位代码 410421 已被 宝丰县人社局"),
        (units.NewUnit("410424", "宝丰县人社局", "county", "410400"), "下已有名为 宝丰县人社局"),
        (units.NewUnit("41 04", "叶县", "county", "410400"), "单位代码 '41 04' 无效"),
        (units.NewUnit("410424", "叶县", "county", "999999"), "单位 '999999' 不存在"),
    ],
)
def test_a_unit_that_does_not_fit_the_tree_is_refused_and_nothing_written(
    wf: Workflow, new: units.NewUnit, message: str
) -> None:
    city_with_two_counties(wf)
    before = wf.head()
    with pytest.raises((InvalidInput, NotFound), match=message):
        units.add(wf.raw, new, actor="管理员", now=NOW)
    assert wf.head() == before and len(tree(wf)) == 5


def test_a_level_change_must_fit_parent_and_children(wf: Workflow) -> None:
    city_with_two_counties(wf)
    with pytest.raises(InvalidInput, match="下级单位 宝丰县人社局（410421） 不能留在县级单位之下"):
        units.edit(wf.raw, "410400", {"kind": "县级"}, actor="管理员", now=NOW)
    with pytest.raises(InvalidInput, match="不能在局与科室之间改变层级"):
        units.edit(wf.raw, "410421-01", {"kind": "县级"}, actor="管理员", now=NOW)
    with pytest.raises(InvalidInput, match="不是科室：定期报告由科室报送"):
        units.edit(wf.raw, "410421", {"reports": True}, actor="管理员", now=NOW)
    assert units.parse_kind("省") == "province" and units.parse_kind("科室") == "office"
    with pytest.raises(InvalidInput, match="单位层级 '乡级' 无效"):
        units.parse_kind("乡级")


def test_the_units_spreadsheet_is_validated_whole_then_added_parents_first(
    wf: Workflow, tmp_path: Path
) -> None:
    city_with_two_counties(wf)
    header = "单位代码,单位名称,层级,上级单位代码,负责人,电子邮箱,报送定期报告\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "410425,郏县人社局,县级,410499,,,\n"
                   "410421,宝丰县人社局,市级,,,,\n"
                   "410426,汝州市人社局,乡级,410400,,,\n"
                   "410400-09,财务科,科室,410400,,,也许\n", encoding="utf-8")  # fmt: skip
    before = wf.head()
    with pytest.raises(ImportRejected) as e:
        unit_table.import_units(wf.raw, bad, actor="管理员", now=NOW)
    assert e.value.problems == [  # each row's own cells first, then its place in the tree
        f"{bad}:4:层级: 单位层级 '乡级' 无效：应为 省级、市级、县级 或 科室（乡级）",
        f"{bad}:5:报送定期报告: 应为 是/否（也许）",
        f"{bad}:2:上级单位代码: 上级单位 410499 既不在系统中，也不在本表中",
        f"{bad}:3:层级: 宝丰县人社局（410421） 已是县级单位，不能改变层级",
    ]
    assert wf.head() == before
    good = tmp_path / "good.csv"
    # The office comes before its bureau, full-width codes, 是 for reports, a changed head.
    good.write_text(header + "４１０４２５-01,劳动保障监察大队,科室,410425,郏县队长,j@x.cn,是\n"
                    "410425,郏县人社局,县,410400,,,\n"
                    "410421-01,劳动保障监察大队,科室,410421,新队长,head.410421@bureau.test,是\n"
                    "410423,鲁山县人社局,县级,410400,,,\n", encoding="utf-8")  # fmt: skip
    s = unit_table.import_units(wf.raw, good, actor="管理员", now=NOW)
    assert (s.rows, s.added, s.changed, s.unchanged) == (
        4,
        ["410425", "410425-01"],
        ["410421-01"],
        1,
    )
    assert ("410425-01", "劳动保障监察大队", "office", "410425") in tree(wf)
    changed = events(wf, "unit_changed")[-1]
    assert changed[1] == "导入 good.csv"
    assert changed[2]["before"] == {"head": "宝丰县人社局队长"}


def test_a_draw_stays_in_its_bureaus_subtree(wf: Workflow, tmp_path: Path) -> None:
    """Two counties' directories in one database: each county's task draws its own."""
    from tests.conftest import import_rows

    city_with_two_counties(wf)
    from workflow.sampling import credit_code

    for county in ("410421", "410423"):
        targets = [[credit_code.make(county, i), f"{county}企业{i}", "用人单位"] for i in range(4)]
        inspectors = [[f"{county}{i:03d}", f"{county}检查员{i}", "劳动保障监察"] for i in range(3)]
        import_rows(wf, tmp_path, "targets", targets, unit=county)
        import_rows(wf, tmp_path, "inspectors", inspectors, unit=county)
    import_rows(wf, tmp_path, "items", [["JC-1", "劳动合同", "", "", "现场", "一般"]])
    plans.create_plan(wf, "2024001", unit="宝丰县人社局", actor="录入员")
    t = plans.create_task(wf, "2024001", name="全县抽查", task_no="001号", task_type="undirected",
                          ratio="1", item_codes=["JC-1"], inspector_field="劳动保障监察",
                          actor="录入员")  # fmt: skip
    plans.publish(wf, "2024001", actor="录入员")
    task_draw.draw_task(wf, t, actor="录入员", public_input="")
    with wf.raw.read() as cur:
        cur.execute(wf.raw.sql("SELECT target_code, inspectors FROM inspection_record"
                               " WHERE task_id = ?"), (t,))  # fmt: skip
        rows = cur.fetchall()
    assert len(rows) == 4  # ratio 1: all of 宝丰县's, none of 鲁山县's
    assert all(code[2:8] == "410421" for code, _ in rows)
    assert all(c.startswith("410421") for _, group in rows for c in json.loads(group))
    # The city's plan: the whole subtree.
    plans.create_plan(wf, "2024002", unit="410400", actor="录入员")
    with wf.raw.read() as cur:
        cur.execute(wf.raw.sql("SELECT p.unit, u.code FROM plan p JOIN unit u ON u.id = p.unit_id"
                               " ORDER BY p.plan_no"))  # fmt: skip
        assert cur.fetchall() == [("宝丰县人社局", "410421"), ("平顶山市人社局", "410400")]
    # A name that is no bureau, in a database with several, is refused with the choices.
    with pytest.raises(InvalidInput, match="单位 '迁西县人社局' 不是本系统中的局"):
        plans.create_plan(wf, "2024003", unit="迁西县人社局", actor="录入员")


def test_a_directory_row_of_another_bureau_is_not_overwritten(wf: Workflow, tmp_path: Path) -> None:
    from tests.conftest import import_rows
    from workflow.sampling import credit_code

    city_with_two_counties(wf)
    code = credit_code.make("410421", 1)
    import_rows(wf, tmp_path, "targets", [[code, "宝丰企业", "用人单位"]], unit="410421")
    before = wf.head()
    with pytest.raises(
        ImportRejected, match=f"{code} 属于 宝丰县人社局，不在 鲁山县人社局（410423）"
    ):
        import_rows(wf, tmp_path, "targets", [[code, "改名", "用人单位"]], unit="410423")
    assert wf.head() == before
    # The city above both may correct it; the row stays 宝丰县's.
    import_rows(wf, tmp_path, "targets", [[code, "宝丰企业（更名）", "用人单位"]], unit="410400")
    with wf.raw.read() as cur:
        cur.execute(wf.raw.sql("SELECT t.name, u.code FROM target t JOIN unit u"
                               " ON u.id = t.unit_id"))  # fmt: skip
        assert cur.fetchall() == [("宝丰企业（更名）", "410421")]
    with pytest.raises(InvalidInput, match="是科室：计划、任务与名录属于局"):
        import_rows(wf, tmp_path, "targets", [[code, "x", "用人单位"]], unit="410421-01")


def test_offices_of_the_same_name_in_two_bureaus_are_two_offices(wf: Workflow) -> None:
    city_with_two_counties(wf)
    with wf.raw.read() as cur:
        offices = units.offices(cur, wf.raw.sql)
        owing = units.reporting_offices(cur, wf.raw.sql)
    heads = {b: o["劳动保障监察大队"].head for b, o in offices.items()}
    assert sorted(heads.values()) == ["宝丰县人社局队长", "鲁山县人社局队长"]
    out = deadline_rules.Collected()
    rules = Settings().deadlines
    deadline_rules.report_deadlines(owing, [2024], datetime(2024, 6, 1).date(), set(), rules,
                                    out, datetime(2024, 6, 30).date(), WorkCalendar())  # fmt: skip
    keys = sorted(d.key for d in out.deadlines)
    assert keys == ["report:monthly:2024-06:410421-01:2024-06-24",
                    "report:monthly:2024-06:410423-01:2024-06-24"]  # fmt: skip
    # Each deadline finds its own bureau's office, and so its own head.
    found = {d.key: deadline_rules.office_of(offices, d) for d in out.deadlines}
    assert {k.split(":")[3]: u.head for k, u in found.items() if u} == {
        "410421-01": "宝丰县人社局队长", "410423-01": "鲁山县人社局队长"
    }  # fmt: skip


def test_settings_offices_register_as_units_for_tests(wf: Workflow) -> None:
    s = Settings.model_validate({"offices": {"甲科": {"head": "甲", "reports": True}}})
    register_offices(wf, s)
    register_offices(wf, Settings.model_validate({"offices": {"甲科": {"head": "乙"}}}))
    assert [(u.name, u.head) for u in units.all_units(wf.raw) if u.is_office] == [("甲科", "乙")]


def test_the_migration_brings_a_single_bureau_database_into_one_unit(db_url: str) -> None:
    """A database of revision 0005 with a plan, a task, directories and a submitted report:
    after the upgrade all of it belongs to the root unit, and config.yaml's offices are the
    root's offices, the report submitted by one of them now that office's."""
    eng = make_engine(DbSettings(), db_url)
    cfg = schema._alembic_config()
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    at = "2024-01-01T00:00:00.000000Z"
    with eng.begin() as c:
        c.execute(
            text(
                "INSERT INTO plan (plan_no, name, year, unit, created_at) VALUES"
                " ('2024001', '2024年某局随机抽查001', 2024, '某局', :at)"
            ),
            {"at": at},
        )
        c.execute(
            text(
                "INSERT INTO task (plan_id, task_no, name, task_type, ratio, items, scope,"
                " initiating_office, joining_offices, months, item_codes, filters, stratum_ratios,"
                " inspector_field, state, version, created_at, updated_at) VALUES (1, '001号', 't',"
                " 'undirected', '0.1', '', '', '监察大队', '[]', '', '[]', '{}', '{}', '', 'planned',"
                " 1, :at, :at)"
            ),
            {"at": at},
        )
        c.execute(
            text(
                "INSERT INTO target (code, name, type, industry, region, size, grade, tags,"
                " violations, complaints, updated_at) VALUES ('91410421MA00000001', '甲',"
                " '用人单位', '', '', '', '', '[]', 0, 0, :at)"
            ),
            {"at": at},
        )
        c.execute(
            text(
                "INSERT INTO inspector (cert, name, fields, specialties, office, recusal, email,"
                " available, updated_at) VALUES ('001', '张三', '[]', '[]', '', '[]', '',"
                " :yes, :at)"
            ),
            {"at": at, "yes": True},
        )
        c.execute(text("INSERT INTO report_submission (kind, period, office, actor, submitted_at,"
                       " event_seq) VALUES ('monthly', '2024-01', '监察大队', '甲', :at, 1),"
                       " ('monthly', '2024-01', '社保中心', '乙', :at, 2)"),
                  {"at": at})  # fmt: skip
    # 社保中心 submitted reports but is not in the config (its offices came from an older
    # version's defaults): it becomes an office too, owing reports, so that the two offices'
    # January reports stay two.
    offices = {"监察大队": {"head": "王队长", "email": "w@x.cn", "reports": True},
               "财务科": {"head": "赵科长", "email": "", "reports": False}}  # fmt: skip
    assert schema.upgrade(eng, offices=offices) == ("0005", schema.head_revision())
    assert schema.units_created("0005", schema.head_revision())
    assert not schema.units_created(schema.head_revision(), schema.head_revision())
    with eng.connect() as c:
        assert c.execute(text("SELECT code, name, kind, head, email, reports FROM unit"
                              " ORDER BY id")).fetchall() == [
            ("000000", "本单位", "county", "", "", False),
            ("000000-01", "监察大队", "office", "王队长", "w@x.cn", True),
            ("000000-02", "财务科", "office", "赵科长", "", False),
            ("000000-03", "社保中心", "office", "", "", True),
        ]  # fmt: skip
        for table in ("plan", "task", "target", "inspector"):
            assert c.execute(text(f"SELECT unit_id FROM {table}")).scalars().all() == [1]
        assert c.execute(
            text("SELECT office, unit_id FROM report_submission ORDER BY unit_id")
        ).fetchall() == [
            ("监察大队", 2),
            ("社保中心", 4),
        ]
        # The sequence goes on after the ids the migration chose (PostgreSQL's serial).
        c.execute(text("INSERT INTO unit (code, name, kind, parent_id, path, head, email, reports,"
                       " created_at, updated_at) VALUES ('x', 'x', 'office', 1, '', '', '', :no,"
                       " :at, :at)"), {"at": at, "no": False})  # fmt: skip
        assert c.execute(text("SELECT id FROM unit WHERE code = 'x'")).scalar() == 5
    w = Workflow(eng, calendar=WorkCalendar(), clerks=CLERKS)
    try:
        assert [u.code for u in units.all_units(w.raw)][:1] == ["000000"]
    finally:
        w.close()
    eng.dispose()


def test_a_county_account_works_in_its_own_county(wf: Workflow, tmp_path: Path) -> None:
    """Without --unit, an account's import goes to its own bureau (an office's account: the
    bureau it is part of); another county's bureau is refused, for directories and plans."""
    from tests.conftest import add_account, import_rows
    from workflow.core import accounts, identity
    from workflow.core.errors import Forbidden
    from workflow.sampling import credit_code

    city_with_two_counties(wf)
    add_account(wf, "bf-clerk", "clerk", unit="410421-01")
    with wf.raw.read() as cur:
        who = accounts.actor(cur, wf.raw.sql, "bf-clerk")
    code = credit_code.make("410421", 7)
    with identity.acting_as(who):
        import_rows(wf, tmp_path, "targets", [[code, "宝丰企业", "用人单位"]])
        before = wf.head()
        with pytest.raises(Forbidden, match="鲁山县人社局（410423） 不在账号 bf-clerk"):
            import_rows(wf, tmp_path, "targets", [[code, "x", "用人单位"]], unit="410423")
        with pytest.raises(
            Forbidden,
            match="鲁山县人社局（410423） 不在账号 bf-clerk 所属单位（410421-01）及其下级单位之内",
        ):
            plans.create_plan(wf, "2024009", unit="鲁山县人社局", actor="录入员")
        assert wf.head() == before
        plans.create_plan(wf, "2024010", unit="宝丰县人社局", actor="录入员")
    plans.create_plan(wf, "2024011", unit="鲁山县人社局", actor="录入员")  # nobody bound
    before = wf.head()
    with identity.acting_as(who):
        with pytest.raises(
            Forbidden, match="2024011 属于 鲁山县人社局（410423），不在账号 bf-clerk"
        ):
            plans.create_task(wf, "2024011", name="越权", task_type="undirected", ratio="1",
                              item_codes=["JC-1"], actor="录入员")  # fmt: skip
        with pytest.raises(
            Forbidden, match="2024011 属于 鲁山县人社局（410423），不在账号 bf-clerk"
        ):
            plans.publish(wf, "2024011", actor="录入员")
    assert wf.head() == before
    with wf.raw.read() as cur:
        cur.execute(wf.raw.sql("SELECT u.code FROM target t JOIN unit u ON u.id = t.unit_id"))
        assert cur.fetchall() == [("410421",)]


def test_plan_numbers_are_each_bureaus_own(wf: Workflow, tmp_path: Path) -> None:
    """Seed 004: 2024001 is the bureau's first plan of 2024 — two counties may both have it.
    A county's account names its own; the city above both names one by its bureau's code."""
    from tests.conftest import add_account, import_rows
    from workflow.core import accounts, identity, queries, refs

    city_with_two_counties(wf)
    import_rows(wf, tmp_path, "items", [["JC-1", "劳动合同", "", "", "现场", "一般"]])
    made = {}
    for county, name in (("410421", "宝丰县人社局"), ("410423", "鲁山县人社局")):
        plans.create_plan(wf, "2024001", unit=name, actor="录入员")
        made[county] = plans.create_task(wf, f"{county}:2024001", name=f"{name}抽查",
                                         task_type="undirected", ratio="1",
                                         item_codes=["JC-1"], actor="录入员")  # fmt: skip
    with pytest.raises(InvalidInput, match="宝丰县人社局（410421） 的抽查计划编号 2024001 已存在"):
        plans.create_plan(wf, "2024001", unit="宝丰县人社局", actor="录入员")
    add_account(wf, "ls-clerk", "clerk", unit="410423")
    add_account(wf, "city", "supervisor", unit="410400")
    with wf.raw.read() as cur:
        county = accounts.actor(cur, wf.raw.sql, "ls-clerk")
        city = accounts.actor(cur, wf.raw.sql, "city")
    assert refs.task_id(wf.engine, "2024001-001号", county) == made["410423"]
    assert refs.task_id(wf.engine, "410421:2024001-001号", city) == made["410421"]
    assert refs.task_id(wf.engine, "４１０４２３：２０２４００１－００１号", city) == made["410423"]
    with pytest.raises(
        InvalidInput, match="2024001 在多个单位中都有：410421:2024001（宝丰县人社局）"
    ):
        refs.task_id(wf.engine, "2024001-001号", city)
    assert queries.show_plan(wf.engine, "2024001", within=county)["unit"] == "鲁山县人社局"
    shown = [t["id"] for t in queries.list_tasks(wf.engine, plan_no="410421:2024001", within=city)]
    assert shown == [made["410421"]]
    with identity.acting_as(county):
        plans.publish(wf, "2024001", actor="录入员")  # its own: 鲁山县's
    with wf.raw.read() as cur:
        cur.execute(wf.raw.sql("SELECT u.code, p.published_at IS NOT NULL FROM plan p"
                               " JOIN unit u ON u.id = p.unit_id ORDER BY u.code"))  # fmt: skip
        assert cur.fetchall() == [("410421", False), ("410423", True)]
