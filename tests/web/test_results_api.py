"""Results over HTTP, on SQLite and PostgreSQL: a whole task's results from an uploaded sheet
as clerks fill it in (and a bad one refused whole, each problem with its row, column and
cell), publication, corrections, rectification dates and follow-ups — as the CLI does them,
If-Match on each, refusals writing nothing, the events naming the account."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook

from tests.conftest import add_account, drawn_task
from tests.web.conftest import bearer, events_after, head_seq, token_of, two_counties
from workflow.core import queries, refs
from workflow.core.writer import Workflow

PROBLEM = "application/problem+json"


def _events(wf: Workflow, since: int) -> list[dict[str, Any]]:
    """The events after ``since``: kind, actor, the role the account acted in, payload."""
    return [
        {"kind": k, "actor": a, "role": p.get("by", {}).get("role"), "payload": p}
        for k, a, p in events_after(wf, since)
    ]


def _inspector(wf: Workflow, username: str, cert: str) -> dict[str, str]:
    """An inspector's account, linked to its directory entry, and its token's header."""
    add_account(wf, username, "inspector", inspector=cert)
    return token_of(wf, username)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["抽查任务", "统一社会信用代码", "检查对象名称", "检查结果", "检查情况说明", "整改期限"]


def _xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(
    api: TestClient, t: int, content: bytes, auth: dict[str, str], *,
    name: str = "4月检查结果.xlsx", data: dict[str, str] | None = None, **headers: str,
) -> Any:  # fmt: skip
    kind = XLSX if name.endswith(".xlsx") else "text/csv"
    return api.post(
        f"/api/v1/tasks/{t}/results/import",
        files={"file": (name, content, kind)},
        data=data or {},
        headers={**auth, **headers},
    )


def _problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


def _records(wf: Workflow, t: int) -> dict[str, dict[str, Any]]:
    return {r["target_code"]: r for r in queries.show_task(wf.engine, t)["records"]}


def _version(wf: Workflow, t: int) -> int:
    return int(queries.show_task(wf.engine, t)["version"])


def test_a_results_sheet_as_clerks_fill_it_in(api: TestClient, wf: Workflow) -> None:
    t, codes = drawn_task(wf, 3)
    names = refs.Names(wf.engine).targets
    clerk = bearer(wf, "results-clerk")
    sheet = _xlsx([
        ["2024001-001号", codes[0].lower(), names[codes[0]], "未发现问题", None, None],
        [None, names[codes[1]], None, "发现问题", "未签订劳动合同 2 人", datetime(2024, 6, 28)],
        ["２０２４００１－００１号", f" {codes[2]} ", None, "no_problem", "现场检查", None],
    ])  # fmt: skip
    version = _version(wf, t)
    since = head_seq(wf)
    # A dry run checks the whole file and writes nothing.
    dry = _upload(api, t, sheet, clerk, data={"dry_run": "true"})
    assert dry.status_code == 200, dry.text
    assert dry.json() == {
        "task": t, "task_label": "2024001-001号", "rows": 3, "recorded": 3, "changed": 0,
        "unchanged": 0, "dry_run": True, "version": version,
    }  # fmt: skip
    assert _events(wf, since) == []
    # A stale If-Match: 412, nothing written.
    stale = _upload(api, t, sheet, clerk, **{"If-Match": f'"{version - 1}"'})
    assert _problem(stale, 412, "precondition_failed")["current_version"] == version
    assert _events(wf, since) == []
    r = _upload(api, t, sheet, clerk, **{"If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    assert r.json()["recorded"] == 3 and r.json()["version"] == version + 3
    assert r.headers["ETag"] == f'"{version + 3}"'
    recs = _records(wf, t)
    assert [recs[c]["result"] for c in codes] == ["no_problem", "problem", "no_problem"]
    assert recs[codes[1]]["rectify_by"] == "2024-06-28"
    assert recs[codes[1]]["result_note"] == "未签订劳动合同 2 人"
    written = _events(wf, since)
    assert [e["kind"] for e in written] == ["result_set"] * 3
    for e in written:
        assert e["actor"] == "results-clerk" and e["role"] == "clerk"
        assert e["payload"]["by"]["request_id"] == r.headers["X-Request-ID"]
    assert written[0]["payload"]["after"] == {"result": "no_problem", "note": None}
    # The same file again changes nothing.
    same = _upload(api, t, sheet, clerk)
    assert same.json()["unchanged"] == 3 and same.json()["version"] == version + 3
    # Changing a recorded result needs a reason (a GBK CSV, as Excel saves it).
    changed = f"统一社会信用代码,检查结果\n{codes[0]},不配合检查\n".encode("gbk")
    refused = _upload(api, t, changed, clerk, name="更正.csv")
    body = _problem(refused, 422, "import_rejected")
    assert body["needs"] == "reason"
    assert body["errors"] == [
        {"field": "检查结果", "file": "更正.csv", "row": 2, "column": "检查结果",
         "value": "不配合检查", "message": "已有结果 no_problem：改动已有结果须说明原因（refused）"},
    ]  # fmt: skip
    ok = _upload(api, t, changed, clerk, name="更正.csv", data={"reason": "复核"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["changed"] == 1 and _records(wf, t)[codes[0]]["result"] == "refused"


def test_a_bad_sheet_is_refused_whole_with_each_row_and_column(
    api: TestClient, wf: Workflow
) -> None:
    t, codes = drawn_task(wf, 3)
    clerk = bearer(wf, "results-clerk2")
    sheet = _xlsx([
        [None, codes[0], None, "未发现问题", None, None],
        [None, "不存在的公司", None, "未发现问题", None, None],
        [None, codes[1], None, "很好", None, None],
        [None, codes[2], None, "发现问题", "未缴社保", "2024-02-30"],
        [None, codes[0], None, "未发现问题", None, None],
    ])  # fmt: skip
    since = head_seq(wf)
    r = _upload(api, t, sheet, clerk, name="结果 有误.xlsx")
    body = _problem(r, 422, "import_rejected")
    by_row = {(e["row"], e["column"]): e for e in body["errors"]}
    assert set(by_row) == {
        (3, "统一社会信用代码"), (4, "检查结果"), (5, "整改期限"), (6, "统一社会信用代码"),
    }  # fmt: skip
    assert by_row[(3, "统一社会信用代码")]["value"] == "不存在的公司"
    assert "没有 '不存在的公司'" in by_row[(3, "统一社会信用代码")]["message"]
    assert by_row[(4, "检查结果")]["value"] == "很好"
    assert by_row[(4, "检查结果")]["message"].startswith("应为 未发现问题（no_problem）")
    assert by_row[(5, "整改期限")]["value"] == "2024-02-30"
    duplicate = by_row[(6, "统一社会信用代码")]
    assert (duplicate["value"], duplicate["message"]) == (codes[0], "与第 2 行重复")
    assert all(e["field"] == e["column"] for e in body["errors"])
    assert {e["file"] for e in body["errors"]} == {"结果 有误.xlsx"}
    # The file as the client named it; nothing of where the server kept it.
    assert body["file"] == "结果 有误.xlsx"
    assert body["detail"].startswith("结果 有误.xlsx 未导入（共 4 个问题，未写入任何数据）")
    assert "ssj-upload" not in r.text and "/tmp" not in r.text
    assert _events(wf, since) == []
    assert all(rec["result"] is None for rec in _records(wf, t).values())
    # A sheet without the columns it needs: the header's row, no column.
    headless = _upload(api, t, _xlsx([[codes[0], "未发现问题"]], ["代码", "结果"]), clerk)
    errors = _problem(headless, 422, "import_rejected")["errors"]
    assert [(e["row"], e["column"], e["value"]) for e in errors] == [(1, None, None)] * 2
    assert errors[0]["message"].startswith("缺少必需的列：统一社会信用代码、检查结果")
    # Not a spreadsheet the importer reads, or no file at all.
    xls = _upload(api, t, b"\xd0\xcf\x11\xe0", clerk, name="结果.xls")
    assert _problem(xls, 422, "invalid_input")["field"] == "file"
    broken = _upload(api, t, b"PK\x03\x04 not really", clerk, name="坏文件.xlsx")
    body = _problem(broken, 422, "invalid_input")
    assert body["field"] == "file" and body["detail"].startswith("坏文件.xlsx：不是有效的 XLSX")
    missing = api.post(f"/api/v1/tasks/{t}/results/import", data={"reason": "x"}, headers=clerk)
    assert _problem(missing, 422, "invalid_request")["errors"][0]["field"] == "file"
    assert _events(wf, since) == []


def test_an_import_is_the_accounts_own(api: TestClient, wf: Workflow) -> None:
    t, codes = drawn_task(wf, 2)
    group = _records(wf, t)[codes[0]]["inspectors"]
    outsider = next(c for c in ("J000", "J001", "J002", "J003") if c not in group)
    member = _inspector(wf, "member", group[0])
    stranger = _inspector(wf, "stranger", outsider)
    county = bearer(wf, "county-clerk", unit=two_counties(wf)[1])
    auditor = bearer(wf, "auditor1", "auditor")
    sheet = _xlsx([[None, codes[0], None, "未发现问题", None, None]])
    since = head_seq(wf)
    refused = _problem(_upload(api, t, sheet, stranger), 422, "import_rejected")
    assert "stranger 不是该检查对象的检查组成员" in refused["errors"][0]["message"]
    _problem(_upload(api, t, sheet, county), 403, "forbidden")
    _problem(_upload(api, t, sheet, auditor), 403, "forbidden")
    _problem(_upload(api, t, sheet, {}), 401, "unauthenticated")
    assert _events(wf, since) == []
    r = _upload(api, t, sheet, member)
    assert r.status_code == 200, r.text
    (event,) = _events(wf, since)
    assert (event["actor"], event["role"]) == ("member", "inspector")


def _inspected(wf: Workflow) -> tuple[int, list[str]]:
    """A task inspected: the first target a problem (rectify by 2024-06-28), the second none."""
    t, codes = drawn_task(wf, 2)
    wf.set_result(t, codes[0], "problem", actor="x", note="未签合同", rectify_by=date(2024, 6, 28))
    wf.set_result(t, codes[1], "no_problem", actor="x")
    wf.fire(t, "inspect", actor="x")
    return t, codes


def test_publish_correct_change_the_date_and_follow_up(api: TestClient, wf: Workflow) -> None:
    t, codes = _inspected(wf)
    clerk = bearer(wf, "pub-clerk")
    since = head_seq(wf)
    v = _version(wf, t)
    place = "https://rsj.example.gov.cn/zfgs/2024/04"
    r = api.post(
        f"/api/v1/tasks/{t}/results/publication",
        json={"place": place, "date": "2024年4月1日"},
        headers={**clerk, "If-Match": f'"{v}"'},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "task": t, "targets": sorted(codes), "published_on": "2024-04-01", "place": place,
        "version": v + 1,
    }  # fmt: skip
    assert r.headers["ETag"] == f'"{v + 1}"'
    # A correction of a published result: reason and category, itself published.
    r = api.post(
        f"/api/v1/tasks/{t}/results/corrections",
        json={"target": codes[1], "result": "发现问题", "reason": "复核发现未缴社保",
              "category": "复核改变", "note": "未缴社保", "rectify_by": "2024-07-31"},
        headers={**clerk, "If-Match": r.headers["ETag"]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    corrected = r.json()
    assert corrected["before"] == {"result": "no_problem", "note": None}
    assert corrected["after"] == {"result": "problem", "note": "未缴社保"}
    assert (corrected["category"], corrected["category_label"]) == ("review", "复核改变")
    assert corrected["place"] == place and corrected["rectify_by"] == "2024-07-31"
    r = api.post(
        f"/api/v1/tasks/{t}/results/rectify-by",
        # A date as offices write it (the CLI and the spreadsheets take it too).
        json={"target": codes[0], "rectify_by": "２０２４年8月30日", "reason": "企业申请延期"},
        headers={**clerk, "If-Match": r.headers["ETag"]},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["before"], r.json()["after"]) == ("2024-06-28", "2024-08-30")
    r = api.post(
        f"/api/v1/tasks/{t}/followups",
        json={"target": codes[0], "outcome": "已整改", "note": "已补签合同", "date": "2024-04-01"},
        headers={**clerk, "If-Match": r.headers["ETag"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["outcome"] == "rectified" and r.json()["outcome_label"] == "已整改"
    assert r.json()["version"] == v + 4
    rec = _records(wf, t)
    assert rec[codes[0]]["rectify_by"] == "2024-08-30"
    assert rec[codes[0]]["followups"][0]["outcome"] == "rectified"
    assert rec[codes[1]]["corrections"][0]["reason"] == "复核发现未缴社保"
    written = _events(wf, since)
    assert [e["kind"] for e in written] == [
        "results_published", "result_corrected", "rectify_by_changed", "followup_added",
    ]  # fmt: skip
    assert all(e["payload"]["by"]["username"] == "pub-clerk" for e in written)


def test_refused_publications_and_corrections_write_nothing(api: TestClient, wf: Workflow) -> None:
    t, codes = _inspected(wf)
    clerk = bearer(wf, "pub-clerk2")
    inspector = _inspector(wf, "insp2", _records(wf, t)[codes[0]]["inspectors"][0])
    since = head_seq(wf)
    url = f"/api/v1/tasks/{t}/results"

    def post(path: str, body: dict[str, Any], auth: dict[str, str] = clerk, **h: str) -> Any:
        return api.post(f"{url}{path}", json=body, headers={**auth, **h})

    place = {"place": "公示栏"}
    assert _problem(post("/publication", {**place, "date": "2099-01-01"}), 422,
                    "invalid_input")["field"] == "date"  # fmt: skip
    assert _problem(post("/publication", {**place, "date": "下周一"}), 422,
                    "invalid_input")["field"] == "date"  # fmt: skip
    far = _problem(post("/publication", {**place, "date": "9999-12-31T23:59:59-14:00"}), 422,
                   "invalid_input")  # fmt: skip
    assert far["field"] == "date" and "超出" in far["detail"]
    assert _problem(post("/publication", {"place": " "}), 422, "invalid_input")["field"] == "place"
    unknown = post("/publication", {**place, "targets": [codes[0], "不存在的公司"]})
    assert _problem(unknown, 404, "not_found")["field"] == "targets[1]"
    _problem(post("/publication", place, **{"If-Match": '"1"'}), 412, "precondition_failed")
    _problem(post("/publication", place, inspector), 403, "forbidden")
    # Not published yet: a correction is refused and says how to change it instead.
    correction = {"target": codes[1], "result": "发现问题", "reason": "复核", "category": "其他"}
    early = _problem(post("/corrections", correction), 422, "invalid_input")
    assert early["next"][0]["action"] == "result.set"
    assert _events(wf, since) == []
    post("/publication", place).raise_for_status()
    since = head_seq(wf)
    nul = post("/corrections", {**correction, "reason": "复核\x00"})
    # PostgreSQL would refuse it: refused before any route, naming the field
    assert _problem(nul, 422, "invalid_request")["errors"][0]["field"] == "reason"
    bidi = post("/corrections", {**correction, "note": "\u202e查核"})
    assert _problem(bidi, 422, "invalid_request")["errors"][0]["field"] == "note"
    bad = _problem(post("/corrections", {**correction, "category": "笔误"}), 422, "invalid_input")
    assert bad["field"] == "category"
    bad = _problem(post("/corrections", {**correction, "result": "良好"}), 422, "invalid_input")
    assert bad["field"] == "result"
    missing = _problem(post("/corrections", {"target": codes[1], "result": "发现问题"}), 422,
                       "invalid_request")  # fmt: skip
    assert {e["field"] for e in missing["errors"]} == {"reason", "category"}
    _problem(post("/corrections", correction, **{"If-Match": '"2"'}), 412, "precondition_failed")
    _problem(post("/corrections", correction, inspector), 403, "forbidden")
    change = {"target": codes[0], "rectify_by": "2024-03-01", "reason": "延期"}
    assert _problem(post("/rectify-by", change), 422, "invalid_input")["field"] == "rectify_by"
    vague = _problem(post("/rectify-by", {**change, "rectify_by": "下周五"}), 422,
                     "invalid_request")["errors"]  # fmt: skip
    assert vague[0]["field"] == "rectify_by" and "应为日期" in vague[0]["message"]
    no_problem = {**change, "target": codes[1], "rectify_by": "2024-09-01"}
    assert "只有 problem 或 refused" in _problem(post("/rectify-by", no_problem), 422,
                                                 "invalid_input")["detail"]  # fmt: skip
    _problem(post("/rectify-by", {**change, "rectify_by": "2024-09-01"}, **{"If-Match": '"2"'}),
             412, "precondition_failed")  # fmt: skip
    followups = f"/api/v1/tasks/{t}/followups"
    followup = {"target": codes[0], "outcome": "已整改"}
    bad = api.post(followups, json={**followup, "outcome": "已处理"}, headers=clerk)
    assert _problem(bad, 422, "invalid_input")["field"] == "outcome"
    bad = api.post(followups, json={**followup, "target": "不存在的公司"}, headers=clerk)
    assert _problem(bad, 404, "not_found")["field"] == "target"
    bad = api.post(followups, json={**followup, "date": "2024-04-02"}, headers=clerk)
    assert _problem(bad, 422, "invalid_input")["field"] == "date"  # after today
    bad = api.post(followups, json=followup, headers={**clerk, "If-Match": '"2"'})
    _problem(bad, 412, "precondition_failed")
    assert _events(wf, since) == []
    # An inspector of the target's group registers its follow-up (followup.add).
    r = api.post(followups, json=followup, headers=inspector)
    assert r.status_code == 201, r.text
    (event,) = _events(wf, since)
    assert (event["actor"], event["role"]) == ("insp2", "inspector")


def test_another_countys_clerk_touches_none_of_it(api: TestClient, wf: Workflow) -> None:
    t, codes = _inspected(wf)
    county = bearer(wf, "county-clerk2", unit=two_counties(wf)[1])
    since = head_seq(wf)
    url = f"/api/v1/tasks/{t}"
    for path, body in (
        ("/results/publication", {"place": "公示栏"}),
        ("/results/corrections", {"target": codes[0], "result": "未发现问题", "reason": "复核",
                                  "category": "其他"}),
        ("/results/rectify-by", {"target": codes[0], "rectify_by": "2024-09-01", "reason": "延期"}),
        ("/followups", {"target": codes[0], "outcome": "已整改"}),
    ):  # fmt: skip
        _problem(api.post(url + path, json=body, headers=county), 403, "forbidden")
    assert _events(wf, since) == []
