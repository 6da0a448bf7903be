"""Units and accounts over HTTP, on SQLite and PostgreSQL: units added, edited and imported
from an uploaded sheet (validated whole, every row's problem listed, nothing written), and
accounts shown, disabled, enabled and given a new password — all within the administrator's
subtree (another county's units and accounts do not exist for it), events naming the account,
and no password in any log line or event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.bureaus import (
    BAOFENG,
    CITY,
    LUSHAN,
    OFFICE,
    Bureaus,
    at,
    bearer,
    city_with_two_counties,
    event_count,
)
from web import create_app
from workflow.app import AppContext
from workflow.core import units
from workflow.core.clock import FixedClock
from workflow.core.writer import Workflow

HEADER = "单位代码,单位名称,层级,上级单位代码,负责人,电子邮箱,报送定期报告\n"


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    ctx.clock = FixedClock(at(4, 8, 10))
    with TestClient(create_app(ctx)) as c:
        yield c


@pytest.fixture
def bureaus(wf: Workflow, clock: FixedClock, tmp_path: Path) -> Bureaus:
    return city_with_two_counties(wf, clock, tmp_path)


def _problem(r: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    if field is not None:
        assert body.get("field") == field or field in {e["field"] for e in body.get("errors", [])}
    return body


def _last_event(wf: Workflow) -> tuple[str, dict[str, Any], str | None]:
    with wf.raw.read() as cur:
        cur.execute("SELECT kind, payload, reason FROM event ORDER BY seq DESC LIMIT 1")
        kind, payload, reason = cur.fetchone()
    return kind, json.loads(payload), reason


def _tree(wf: Workflow) -> list[tuple[str, str, str, str]]:
    with wf.raw.read() as cur:
        return [(u.code, u.name, u.kind, u.head) for u in units.load(cur, wf.raw.sql)]


# --- units added and edited ----------------------------------------------------------------


def test_units_added_under_the_subtree_name_the_account(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    city = bearer(wf, "city-admin")
    r = client.post("/api/v1/units", json={"code": "410422", "name": "叶县人社局", "kind": "县级",
                                           "parent": CITY}, headers=city)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json() | {} == {"code": "410422", "name": "叶县人社局", "kind": "county",
                             "kind_label": "县级", "parent": CITY, "head": "", "email": "",
                             "reports": False}  # fmt: skip
    kind, payload, _ = _last_event(wf)
    assert kind == "unit_added" and payload["by"]["username"] == "city-admin"
    county = bearer(wf, "bf-admin")
    office = client.post(
        "/api/v1/units",
        json={"code": f"{BAOFENG}-02", "name": "社会保险科", "kind": "科室", "parent": BAOFENG,
              "head": "赵科长", "email": "zhao@bureau.test", "reports": True},
        headers=county,
    )  # fmt: skip
    assert office.status_code == 201, office.text
    assert office.json()["reports"] is True and office.json()["parent"] == BAOFENG
    listed = client.get("/api/v1/units", headers=county).json()["items"]
    assert {u["code"] for u in listed} == {BAOFENG, f"{BAOFENG}-01", f"{BAOFENG}-02"}
    # Paged like every list: two, then the rest, then the end.
    first = client.get("/api/v1/units", params={"limit": 2}, headers=county).json()
    rest = client.get(
        "/api/v1/units", params={"limit": 2, "after": first["next_after"]}, headers=county
    ).json()
    assert [u["code"] for u in first["items"] + rest["items"]] == [u["code"] for u in listed]
    assert first["next_after"] == 2 and rest["next_after"] is None


def test_a_unit_that_cannot_be_added_names_the_field_and_writes_nothing(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    county, clerk = bearer(wf, "bf-admin"), bearer(wf, "bf-clerk")
    before, tree = event_count(wf), _tree(wf)

    def add(**body: Any) -> Any:
        sent = {"code": f"{BAOFENG}-02", "name": "社会保险科", "kind": "科室", "parent": BAOFENG}
        return client.post("/api/v1/units", json=sent | body, headers=county)

    body = _problem(add(parent=LUSHAN), 404, "not_found", "parent")  # another county's
    assert LUSHAN not in body["detail"].split("现有")[1]  # nor listed among the choices
    _problem(add(kind="乡级"), 422, "invalid_input", "kind")
    _problem(add(code=f"{BAOFENG}-01"), 422, "invalid_input", "code")  # taken
    _problem(add(code="有空格 的代码"), 422, "invalid_input", "code")
    _problem(add(name=OFFICE, code=f"{BAOFENG}-03"), 422, "invalid_input", "name")  # a sibling's
    _problem(add(name="  "), 422, "invalid_input", "name")
    _problem(add(parent=f"{BAOFENG}-01"), 422, "invalid_input", "parent")  # under an office
    _problem(add(kind="市级"), 422, "invalid_input", "parent")  # a city under a county
    _problem(client.post("/api/v1/units", json={"code": "x"}, headers=county), 422,
             "invalid_request", "name")  # fmt: skip
    _problem(client.post("/api/v1/units", json={}, headers=clerk), 403, "forbidden")
    assert event_count(wf) == before and _tree(wf) == tree


def test_units_edited_within_the_subtree_only(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    county = bearer(wf, "bf-admin")
    r = client.patch(f"/api/v1/units/{BAOFENG}-01", json={"head": "新队长", "email": "new@b.test"},
                     headers=county)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["head"] == "新队长" and r.json()["parent"] == BAOFENG
    kind, payload, _ = _last_event(wf)
    assert kind == "unit_changed" and payload["by"]["username"] == "bf-admin"
    assert payload["before"] == {"head": "宝丰县人社局队长", "email": f"head.{BAOFENG}@bureau.test"}
    before, tree = event_count(wf), _tree(wf)
    _problem(client.patch(f"/api/v1/units/{LUSHAN}", json={"name": "改名"}, headers=county), 404,
             "not_found", "code")  # fmt: skip
    _problem(client.patch(f"/api/v1/units/{BAOFENG}", json={"kind": "科室"}, headers=county), 422,
             "invalid_input", "kind")  # fmt: skip
    _problem(client.patch(f"/api/v1/units/{BAOFENG}", json={"reports": True}, headers=county),
             422, "invalid_input", "reports")  # fmt: skip
    _problem(client.patch(f"/api/v1/units/{BAOFENG}", json={"code": LUSHAN}, headers=county), 422,
             "invalid_input", "code")  # fmt: skip
    _problem(client.patch("/api/v1/units/NOPE", json={}, headers=county), 404, "not_found", "code")
    assert event_count(wf) == before and _tree(wf) == tree
    same = client.patch(f"/api/v1/units/{BAOFENG}", json={}, headers=county)
    assert same.status_code == 200 and event_count(wf) == before  # nothing to change


# --- units imported from a sheet -----------------------------------------------------------


def _upload(client: TestClient, auth: dict[str, str], text: str, name: str = "单位表.csv",
            dry_run: bool | None = None) -> Any:  # fmt: skip
    data = {} if dry_run is None else {"dry_run": "true" if dry_run else "false"}
    return client.post(
        "/api/v1/units/import",
        files={"file": (name, text.encode("utf-8"), "text/csv")},
        data=data,
        headers=auth,
    )


def test_a_sheet_adds_and_changes_units_and_a_dry_run_writes_nothing(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth = bearer(wf, "city-admin")
    sheet = (
        HEADER
        + "410425-01,劳动保障监察大队,科室,410425,郏县队长,jia@bureau.test,是\n"  # parent below
        + f"410425,郏县人社局,县级,{CITY},,,\n"
        + f"{BAOFENG}-01,{OFFICE},科室,{BAOFENG},宝丰新队长,head.{BAOFENG}@bureau.test,是\n"
    )
    before = event_count(wf)
    dry = _upload(client, auth, sheet, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json() == {"file": "单位表.csv", "rows": 3, "added": ["410425", "410425-01"],
                          "changed": [f"{BAOFENG}-01"], "unchanged": 0, "dry_run": True}  # fmt: skip
    assert event_count(wf) == before
    done = _upload(client, auth, sheet)
    assert done.status_code == 200, done.text
    assert done.json()["dry_run"] is False and event_count(wf) == before + 3
    kind, payload, reason = _last_event(wf)
    assert kind == "unit_changed" and payload["by"]["username"] == "city-admin"
    assert reason == "导入 单位表.csv"
    assert ("410425-01", OFFICE, "office", "郏县队长") in _tree(wf)


def test_a_sheet_with_bad_rows_is_refused_whole_listing_each_row(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    county = bearer(wf, "bf-admin")
    sheet = (
        HEADER
        + f"{BAOFENG}-02,社会保险科,科室,{BAOFENG},,,\n"  # good: but the file is refused whole
        + f"{BAOFENG}-03,财务科,乡级,{BAOFENG},,,\n"  # row 3: a level that is none
        + f"{LUSHAN}-02,社会保险科,科室,{LUSHAN},,,\n"  # row 4: another county is no parent
        + f"{LUSHAN}-01,{OFFICE},科室,{LUSHAN},改名,,是\n"  # row 5: another county's unit
        + f"{BAOFENG}-04,稽核科,科室,{BAOFENG},,,也许\n"  # row 6: 是/否
    )
    before, tree = event_count(wf), _tree(wf)
    r = _upload(client, county, sheet, name="../../etc/units.csv")
    body = _problem(r, 422, "import_rejected")
    assert "ssj-upload" not in r.text and "/tmp" not in r.text  # the server's directory: never
    assert body["file"] == "units.csv" and body["detail"].startswith("units.csv 未导入")
    rows = {(p["row"], p["column"], p["field"]) for p in body["errors"]}
    assert rows == {(3, "层级", "层级"), (4, "上级单位代码", "上级单位代码"),
                    (5, "单位代码", "单位代码"), (6, "报送定期报告", "报送定期报告")}  # fmt: skip
    assert all(p["message"] and p["file"] == "units.csv" for p in body["errors"])
    assert len(body["errors"]) == 4
    assert event_count(wf) == before and _tree(wf) == tree


def test_an_upload_that_is_no_sheet_is_refused(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth, clerk = bearer(wf, "city-admin"), bearer(wf, "city-clerk")
    before = event_count(wf)
    _problem(_upload(client, auth, "a,b\n1,2\n", name="units.txt"), 422, "invalid_input", "file")
    missing = _problem(_upload(client, auth, "单位代码\n"), 422, "import_rejected")
    assert missing["errors"][0]["row"] == 1 and "缺少必需的列" in missing["errors"][0]["message"]
    empty = _problem(_upload(client, auth, HEADER), 422, "import_rejected")
    assert empty["errors"][0]["row"] is None and "没有数据行" in empty["errors"][0]["message"]
    _problem(client.post("/api/v1/units/import", data={"dry_run": "true"}, headers=auth), 422,
             "invalid_request", "file")  # fmt: skip
    _problem(_upload(client, clerk, HEADER), 403, "forbidden")
    assert event_count(wf) == before


# --- accounts ------------------------------------------------------------------------------


def test_an_account_shown_within_the_subtree_only(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    county, city = bearer(wf, "bf-admin"), bearer(wf, "city-admin")
    r = client.get("/api/v1/users/bf-clerk", headers=county)
    assert r.status_code == 200, r.text
    assert r.json()["unit"] == BAOFENG and r.json()["role"] == "clerk"
    assert r.json()["disabled"] is False
    _problem(client.get("/api/v1/users/ls-clerk", headers=county), 404, "not_found", "username")
    assert client.get("/api/v1/users/ls-clerk", headers=city).status_code == 200
    _problem(client.get("/api/v1/users/system", headers=city), 404, "not_found")
    _problem(client.get("/api/v1/users/bf-admin", headers=bearer(wf, "bf-supervisor")), 403,
             "forbidden")  # fmt: skip


def test_an_account_disabled_and_enabled_again(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    admin, clerk = bearer(wf, "bf-admin"), bearer(wf, "bf-clerk")
    assert client.get("/api/v1/tasks", headers=clerk).status_code == 200
    r = client.post("/api/v1/users/bf-clerk/disable", json={"reason": "调离"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["disabled"] is True
    kind, payload, reason = _last_event(wf)
    assert kind == "account_changed" and reason == "调离"
    assert payload["by"]["username"] == "bf-admin" and payload["after"] == {"disabled": True}
    assert client.get("/api/v1/tasks", headers=clerk).status_code == 401  # its token stops
    back = client.post("/api/v1/users/bf-clerk/enable", headers=admin)
    assert back.status_code == 200 and back.json()["disabled"] is False
    # Enabled again it may sign in; the token revoked while it was disabled stays revoked.
    assert client.get("/api/v1/tasks", headers=clerk).status_code == 401
    fresh = bearer(wf, "bf-clerk")
    assert client.get("/api/v1/tasks", headers=fresh).status_code == 200
    before = event_count(wf)
    _problem(client.post("/api/v1/users/bf-admin/disable", headers=admin), 422, "invalid_input",
             "username")  # not oneself  # fmt: skip
    _problem(client.post("/api/v1/users/ls-clerk/disable", headers=admin), 404, "not_found",
             "username")  # fmt: skip
    _problem(client.post("/api/v1/users/bf-clerk/disable", json={"reason": "x" * 2001},
                         headers=admin), 422, "invalid_request", "reason")  # fmt: skip
    _problem(client.post("/api/v1/users/bf-admin/disable", headers=fresh), 403, "forbidden")
    assert event_count(wf) == before
    assert (
        client.get("/api/v1/users/ls-clerk", headers=bearer(wf, "city-admin")).json()["disabled"]
        is False
    )


def test_a_password_reset_never_reaches_a_log_or_an_event(
    client: TestClient,
    wf: Workflow,
    bureaus: Bureaus,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    admin = bearer(wf, "bf-admin")
    secret = "brand-new-horse-42"
    capsys.readouterr()
    r = client.post("/api/v1/users/bf-clerk/reset-password", json={"new_password": secret},
                    headers=admin)  # fmt: skip
    assert r.status_code == 204, r.text
    kind, payload, _ = _last_event(wf)
    assert kind == "account_changed" and payload["after"] == {"password": "reset"}
    assert payload["by"]["username"] == "bf-admin"
    login = client.post("/api/v1/session", json={"username": "bf-clerk", "password": secret})
    assert login.status_code == 200, login.text
    client.cookies.clear()
    before = event_count(wf)
    short = client.post("/api/v1/users/bf-clerk/reset-password",
                        json={"new_password": "short-1"}, headers=admin)  # fmt: skip
    body = _problem(short, 422, "invalid_input", "password")
    assert "short-1" not in json.dumps(body, ensure_ascii=False)
    same = client.post("/api/v1/users/bf-clerk/reset-password",
                       json={"new_password": "bf-clerk"}, headers=admin)  # fmt: skip
    _problem(same, 422, "invalid_input", "password")
    _problem(client.post("/api/v1/users/ls-clerk/reset-password",
                         json={"new_password": secret + "x"}, headers=admin), 404, "not_found")  # fmt: skip
    _problem(client.post("/api/v1/users/bf-clerk/reset-password", json={}, headers=admin), 422,
             "invalid_request", "new_password")  # fmt: skip
    assert event_count(wf) == before
    logged = capsys.readouterr().err
    assert "request" in logged and secret not in logged and "short-1" not in logged
    with wf.raw.read() as cur:
        cur.execute("SELECT payload FROM event")
        assert not any(secret in p for (p,) in cur.fetchall())
