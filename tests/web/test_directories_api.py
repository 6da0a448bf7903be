"""一单两库 over HTTP (web/_directories.py), on SQLite and PostgreSQL: spreadsheets uploaded as
clerks fill them (full-width codes, Chinese dates, 是/否) import whole; a bad file is refused
with every row's problem as data and nothing written; lists page, search and keep to the
account's subtree; exports and templates download as XLSX; retiring and restoring; every
write's events name the account and the request."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from tests.conftest import code, import_rows, inspector_row, target_row
from tests.web.conftest import bearer, events_after, head_seq, two_counties
from web import create_app
from workflow.app import AppContext
from workflow.core import units as units_
from workflow.core.clock import FixedClock
from workflow.core.writer import Workflow
from workflow.sampling.directories import KINDS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
API = "/api/v1/directories"


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    ctx.clock = FixedClock(datetime(2024, 4, 1, 2, 0, tzinfo=UTC))  # today: 2024-04-01 in Beijing
    with TestClient(create_app(ctx)) as c:
        yield c


@pytest.fixture
def units(wf: Workflow) -> tuple[str, str, str]:
    return two_counties(wf)


def wide(text: str) -> str:
    """What a clerk's input method types: full-width letters and digits."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def xlsx(rows: list[list[Any]], kind: str = "targets", headers: list[str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers or [c.header for c in KINDS[kind].cols])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(name: str, data: bytes) -> dict[str, Any]:
    return {"file": (name, data, XLSX)}


def count(wf: Workflow, table: str) -> int:
    with wf.raw.read() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cur.fetchone()[0])


def test_import_targets_as_clerks_type_them(
    client: TestClient, wf: Workflow, units: tuple[str, str, str]
) -> None:
    _, county_a, county_b = units
    auth = bearer(wf, "clerk-a", "clerk", county_a)
    other = bearer(wf, "clerk-b", "clerk", county_b)
    c1, c2 = code(1), code(2)
    data = xlsx(
        [
            [wide(c1), "迁西县某某制衣有限公司", "用人单位", "制造业", "迁西县", "小型企业", "Ｃ级",
             "重点、新设", 0, 1, "2024年3月5日", "迁西县兴城镇", "张三", "0315-5612345"],
            [c2.lower(), "某某劳务派遣公司", "劳务派遣公司", "", "迁西县", "", "",
             "", "", "", "2023/12/1", "", "", ""],
        ]
    )  # fmt: skip
    before = head_seq(wf)
    r = client.post(f"{API}/targets/import", files=upload("检查对象.xlsx", data), headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body | {"first_seq": None, "last_seq": None} == {
        "kind": "targets", "file": "检查对象.xlsx", "rows": 2, "added": 2, "changed": 0,
        "unchanged": 0, "dry_run": False, "first_seq": None, "last_seq": None, "warnings": [],
    }  # fmt: skip
    assert body["last_seq"] - body["first_seq"] == 1
    # Canonical values, owned by the account's county.
    listed = client.get(f"{API}/targets", headers=auth).json()["items"]
    by_code = {t["code"]: t for t in listed}
    assert by_code[c1]["grade"] == "C" and by_code[c1]["last_inspected"] == "2024-03-05"
    assert by_code[c1]["size"] == "小型" and by_code[c1]["tags"] == ["重点", "新设"]
    assert by_code[c2]["last_inspected"] == "2023-12-01"
    assert {t["unit"] for t in listed} == {county_a}
    # The other county does not see them.
    assert client.get(f"{API}/targets", headers=other).json()["items"] == []
    # Every event names the account and the request.
    events = events_after(wf, before)
    assert [k for k, _, _ in events] == ["target_upserted", "target_upserted"]
    for _, actor, payload in events:
        assert actor == "clerk-a"
        assert payload["by"]["username"] == "clerk-a" and payload["by"]["unit"] == county_a
        assert payload["by"]["request_id"] == r.headers["X-Request-ID"]
    # The same file again changes nothing; a dry run writes nothing.
    again = client.post(f"{API}/targets/import", files=upload("检查对象.xlsx", data), headers=auth)
    assert again.json()["unchanged"] == 2 and again.json()["first_seq"] is None
    changed = xlsx([[c2, "某某劳务派遣有限公司", "劳务派遣单位"]])
    dry = client.post(
        f"{API}/targets/import", files=upload("改名.xlsx", changed), data={"dry_run": "true"},
        headers=auth,
    )  # fmt: skip
    assert dry.status_code == 200 and dry.json()["changed"] == 1 and dry.json()["dry_run"]
    assert head_seq(wf) == before + 2


def test_bad_file_lists_every_row_problem_and_writes_nothing(
    client: TestClient, wf: Workflow, units: tuple[str, str, str]
) -> None:
    auth = bearer(wf, "clerk-a", "clerk", units[1])
    good = code(1)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    data = xlsx(
        [
            [good, "合格的公司", "用人单位"],
            [bad_check, "校验位错的公司", "用人单位"],
            [code(3), "", "用人单位"],
            [code(4), "类型错的公司", "学校"],
            [code(5), "未来检查的公司", "用人单位", "", "", "", "", "", "", "", "2024年5月1日"],
            [good, "重复的公司", "用人单位"],
        ]
    )
    before, targets = head_seq(wf), count(wf, "target")
    r = client.post(f"{API}/targets/import", files=upload("坏名录.xlsx", data), headers=auth)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "import_rejected" and body["file"] == "坏名录.xlsx"
    assert "ssj-upload" not in r.text and "/tmp" not in r.text  # no server path
    found = {(e["row"], e["column"]): e for e in body["errors"]}
    assert set(found) == {
        (3, "统一社会信用代码"), (4, "名称"), (5, "类型"), (6, "最近检查日期"),
        (7, "统一社会信用代码"),
    }  # fmt: skip
    for e in body["errors"]:
        assert e["file"] == "坏名录.xlsx" and e["field"] == e["column"] and e["message"]
    assert found[(3, "统一社会信用代码")]["value"] == bad_check
    assert "校验位错误" in found[(3, "统一社会信用代码")]["message"]
    assert found[(4, "名称")]["message"] == "不能为空"
    assert found[(5, "类型")]["value"] == "学校"
    assert found[(6, "最近检查日期")]["value"] == "2024年5月1日"
    assert "不能晚于今天（2024-04-01）" in found[(6, "最近检查日期")]["message"]
    assert found[(7, "统一社会信用代码")]["message"] == "与第 2 行重复"
    assert "坏名录.xlsx 未导入（共 5 个问题" in body["detail"]
    assert head_seq(wf) == before and count(wf, "target") == targets


def test_files_that_are_not_spreadsheets_are_refused_naming_the_file(
    client: TestClient, wf: Workflow, units: tuple[str, str, str]
) -> None:
    auth = bearer(wf, "clerk-a", "clerk", units[1])
    before = head_seq(wf)
    r = client.post(f"{API}/targets/import", files=upload("名录.txt", b"x"), headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = client.post(f"{API}/targets/import", files=upload("坏.xlsx", b"not a zip"), headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"
    assert r.json()["detail"].startswith("坏.xlsx：不是有效的 XLSX 文件")
    missing = xlsx([["X1", "某事项"]], headers=["事项编码", "事项名称"])
    r = client.post(f"{API}/items/import", files=upload("事项.xlsx", missing), headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "import_rejected"
    assert r.json()["errors"][0]["row"] == 1 and "缺少必需的列" in r.json()["errors"][0]["message"]
    assert r.json()["next"][0]["action"] == "directory.template"
    r = client.post(f"{API}/targets/import", headers=auth)  # no file at all
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = client.post(f"{API}/people/import", files=upload("x.xlsx", missing), headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    assert head_seq(wf) == before


def test_import_unit_defaults_to_the_account_and_must_lie_in_its_subtree(
    client: TestClient, wf: Workflow, units: tuple[str, str, str]
) -> None:
    city, county_a, county_b = units
    a = bearer(wf, "clerk-a", "clerk", county_a)
    city_clerk = bearer(wf, "clerk-city", "clerk", city)
    data = xlsx([inspector_row("J100")], "inspectors")
    before = head_seq(wf)
    r = client.post(
        f"{API}/inspectors/import", files=upload("人员.xlsx", data), data={"unit": county_b},
        headers=a,
    )  # fmt: skip
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert r.json()["field"] == "unit" and r.json()["value"] == county_b
    r = client.post(
        f"{API}/inspectors/import", files=upload("人员.xlsx", data), data={"unit": "T-NONE"},
        headers=city_clerk,
    )  # fmt: skip
    assert r.status_code == 404 and r.json()["field"] == "unit"
    assert head_seq(wf) == before and count(wf, "inspector") == 0
    # The city's clerk places them in a county of its subtree; that county's clerk sees them.
    r = client.post(
        f"{API}/inspectors/import", files=upload("人员.xlsx", data), data={"unit": wide(county_b)},
        headers=city_clerk,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    b = bearer(wf, "clerk-b", "clerk", county_b)
    shown = client.get(f"{API}/inspectors", headers=b).json()["items"]
    assert [(i["cert"], i["unit"], i["available"]) for i in shown] == [("J100", county_b, True)]
    assert client.get(f"{API}/inspectors", headers=a).json()["items"] == []
    # An office's account works for its bureau: what it imports joins the county.
    with wf.raw.write() as cur:
        units_.insert(
            cur, wf.raw.sql, units_.NewUnit("T-A-01", "劳动保障监察大队", "office", county_a),
            actor="测试", now=wf.event_time(), reason=None,
        )  # fmt: skip
    office = bearer(wf, "clerk-office", "clerk", "T-A-01")
    data = xlsx([inspector_row("J200")], "inspectors")
    r = client.post(f"{API}/inspectors/import", files=upload("人员.xlsx", data), headers=office)
    assert r.status_code == 200, r.text
    shown = client.get(f"{API}/inspectors", headers=a).json()["items"]
    assert [(i["cert"], i["unit"]) for i in shown] == [("J200", county_a)]
    # County A cannot overwrite county B's inspector by importing the same certificate.
    renamed = xlsx([["J100", "改名", "劳动保障监察"]], "inspectors")
    r = client.post(f"{API}/inspectors/import", files=upload("人员.xlsx", renamed), headers=a)
    assert r.status_code == 422 and r.json()["errors"][0]["value"] == "J100"
    assert "不能由本单位导入修改" in r.json()["errors"][0]["message"]


def test_lists_page_search_and_filter(
    client: TestClient, wf: Workflow, units: tuple[str, str, str], tmp_path: Any
) -> None:
    _, county_a, county_b = units
    codes = [code(10 + i) for i in range(5)]
    import_rows(wf, tmp_path, "targets", [target_row(c) for c in codes], unit=county_a)
    import_rows(wf, tmp_path, "targets", [target_row(code(99))], unit=county_b)
    import_rows(
        wf, tmp_path, "items",
        [["HR_01", "劳动合同检查", "", "", "现场检查", "重点"],
         ["HR-02", "工资支付检查", "", "", "书面检查", "一般"]],
    )  # fmt: skip
    auth = bearer(wf, "super-a", "supervisor", county_a)
    seen, after = [], None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"after": after} if after else {})
        page = client.get(f"{API}/targets", params=params, headers=auth).json()
        seen += [t["code"] for t in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert sorted(seen) == sorted(codes) and len(seen) == 5  # not county B's
    name = target_row(codes[2])[1]
    hit = client.get(f"{API}/targets", params={"q": wide(name[-4:])}, headers=auth).json()
    assert [t["code"] for t in hit["items"]] == [codes[2]]
    hit = client.get(f"{API}/targets", params={"q": codes[3][-6:].lower()}, headers=auth).json()
    assert [t["code"] for t in hit["items"]] == [codes[3]]
    # The item list is everyone's; _ is a character, not a wildcard.
    items = client.get(f"{API}/items", params={"q": "HR_"}, headers=auth).json()["items"]
    assert [i["code"] for i in items] == ["HR_01"]
    assert items[0]["method"] == "现场" and items[0]["retired_at"] is None
    bad = client.get(f"{API}/targets", params={"limit": 0}, headers=auth)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "limit"
    assert client.get(f"{API}/targets", params={"retired": "true"}, headers=auth).json() == {
        "items": [], "next_after": None,
    }  # fmt: skip


def test_export_and_templates_download_as_xlsx(
    client: TestClient, wf: Workflow, units: tuple[str, str, str], tmp_path: Any
) -> None:
    _, county_a, county_b = units
    mine, theirs = code(1), code(2)
    import_rows(wf, tmp_path, "targets", [target_row(mine)], unit=county_a)
    import_rows(wf, tmp_path, "targets", [target_row(theirs)], unit=county_b)
    auth = bearer(wf, "auditor-a", "auditor", county_a)
    r = client.get(f"{API}/targets/export", headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"] == (
        f"attachment; filename*=utf-8''{quote('检查对象名录库.xlsx')}"
    )
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == [c.header for c in KINDS["targets"].cols]
    assert [row[0] for row in rows[1:]] == [mine]  # the account's subtree only
    csv = client.get(f"{API}/targets/export", params={"format": "csv"}, headers=auth)
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert mine in csv.content.decode("utf-8-sig") and theirs not in csv.text
    clerk = bearer(wf, "clerk-a", "clerk", county_a)
    for kind in KINDS:
        t = client.get(f"{API}/{kind}/template", headers=clerk)
        assert t.status_code == 200 and t.headers["content-type"] == XLSX
        wb = load_workbook(io.BytesIO(t.content))
        assert [c.value for c in wb.worksheets[0][1]] == [c.header for c in KINDS[kind].cols]
        assert wb.sheetnames[-1] == "填写说明"
    plan = client.get("/api/v1/plans/template", headers=clerk)
    assert plan.status_code == 200 and plan.headers["content-type"] == XLSX
    assert load_workbook(io.BytesIO(plan.content)).worksheets[0]["C1"].value == "抽查计划编号"
    assert client.get(f"{API}/people/template", headers=clerk).status_code == 422


def test_retire_and_restore(
    client: TestClient, wf: Workflow, units: tuple[str, str, str], tmp_path: Any
) -> None:
    _, county_a, county_b = units
    mine, theirs = code(1), code(2)
    import_rows(wf, tmp_path, "targets", [target_row(mine)], unit=county_a)
    import_rows(wf, tmp_path, "targets", [target_row(theirs)], unit=county_b)
    auth = bearer(wf, "clerk-a", "clerk", county_a)
    before = head_seq(wf)
    body = {"codes": [wide(mine)], "reason": "已注销"}
    r = client.post(f"{API}/targets/retire", json=body, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() | {"first_seq": 0, "last_seq": 0} == {
        "kind": "targets", "changed": [mine], "unchanged": [], "first_seq": 0, "last_seq": 0,
    }  # fmt: skip
    (kind, actor, payload), = events_after(wf, before)  # fmt: skip
    assert (kind, actor, payload["by"]["username"]) == ("target_retired", "clerk-a", "clerk-a")
    retired = client.get(f"{API}/targets", params={"retired": True}, headers=auth).json()
    assert [t["code"] for t in retired["items"]] == [mine] and retired["items"][0]["retired_at"]
    again = client.post(f"{API}/targets/retire", json=body, headers=auth).json()
    assert again["changed"] == [] and again["unchanged"] == [mine]
    back = client.post(f"{API}/targets/restore", json=body, headers=auth)
    assert back.status_code == 200 and back.json()["changed"] == [mine]
    assert events_after(wf, before)[-1][0] == "target_restored"
    # Refusals write nothing.
    before = head_seq(wf)
    other = client.post(
        f"{API}/targets/retire", json={"codes": [mine, theirs], "reason": "x"}, headers=auth
    )
    assert other.status_code == 403 and other.json()["field"] == "code"
    assert theirs in other.json()["detail"]
    unknown = client.post(
        f"{API}/targets/retire", json={"codes": [code(77)], "reason": "x"}, headers=auth
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "code"
    blank = client.post(
        f"{API}/targets/retire", json={"codes": [mine], "reason": " "}, headers=auth
    )
    assert blank.status_code == 422 and blank.json()["field"] == "reason"
    empty = client.post(f"{API}/targets/retire", json={"codes": [], "reason": "x"}, headers=auth)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "codes"
    people = client.post(f"{API}/inspectors/retire", json=body, headers=auth)
    assert people.status_code == 422 and people.json()["errors"][0]["field"] == "kind"
    assert head_seq(wf) == before
    active = client.get(f"{API}/targets", params={"retired": False}, headers=auth).json()
    assert [t["code"] for t in active["items"]] == [mine]


def test_roles_that_may_not_write_directories_are_refused(
    client: TestClient, wf: Workflow, units: tuple[str, str, str]
) -> None:
    data = xlsx([[code(1), "某公司", "用人单位"]])
    for role in ("supervisor", "auditor", "admin"):
        auth = bearer(wf, f"r-{role}", role, units[1])
        r = client.post(f"{API}/targets/import", files=upload("a.xlsx", data), headers=auth)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", role
    assert count(wf, "target") == 0
    anonymous = client.post(f"{API}/targets/import", files=upload("a.xlsx", data))
    assert anonymous.status_code == 401


def test_a_file_with_very_many_problems_lists_the_first_thousand(
    client: TestClient, wf: Workflow, units: tuple[str, str, str]
) -> None:
    auth = bearer(wf, "clerk-a", "clerk", units[1])
    lines = "\n".join(f"{code(i)},,用人单位" for i in range(1001))
    data = f"统一社会信用代码,名称,类型\n{lines}\n".encode()
    r = client.post(
        f"{API}/targets/import", files={"file": ("many.csv", data, "text/csv")}, headers=auth
    )
    assert r.status_code == 422
    body = r.json()
    assert len(body["errors"]) == 1000 and body["errors_total"] == 1001
    assert body["errors"][-1] == {
        "field": "名称", "file": "many.csv", "row": 1001, "column": "名称", "value": None,
        "message": "不能为空",
    }  # fmt: skip
    assert "problems" not in body and "另有 801 个问题未列出" in body["detail"]
    assert count(wf, "target") == 0


def test_control_characters_are_refused_naming_the_field(
    client: TestClient, wf: Workflow, units: tuple[str, str, str]
) -> None:
    auth = bearer(wf, "clerk-a", "clerk", units[1])
    before = head_seq(wf)
    r = client.get(f"{API}/targets", params={"q": "对象\x00"}, headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "q"
    assert "U+0000" in r.json()["errors"][0]["message"]
    r = client.post(
        f"{API}/targets/retire", json={"codes": [code(1)], "reason": "注销\u202e"}, headers=auth
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = client.post(
        f"{API}/inspectors/import", files=upload("人员.xlsx", xlsx([], "inspectors")),
        data={"unit": "T-A\x00"}, headers=auth,
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit"
    assert head_seq(wf) == before
