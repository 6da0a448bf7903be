"""The command line keeps to the account's unit subtree as the API does (DESIGN §8): the same
application functions take the account (``within``) — a county's clerk imports into the
county by default and never into another, exports only its own rows, and cannot create or
publish a plan, or a task in a plan, of another county."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import add_account, code, target_row
from tests.workflow.cli.runner import ssj
from workflow.core import units
from workflow.core.writer import Workflow
from workflow.sampling.directories import KINDS, write_table


@pytest.fixture
def counties(wf: Workflow) -> None:
    with wf.raw.write() as cur:
        sql, now = wf.raw.sql, wf.event_time()
        root = units.root(cur, sql)
        units.update(cur, sql, root.code, {"kind": "city"}, actor="测试", now=now, reason=None)
        for new in (
            units.NewUnit("C-A", "甲县人社局", "county", root.code),
            units.NewUnit("C-B", "乙县人社局", "county", root.code),
        ):
            units.insert(cur, sql, new, actor="测试", now=now, reason=None)
    add_account(wf, "clerk-a", "clerk", unit="C-A")
    add_account(wf, "clerk-b", "clerk", unit="C-B")


def test_a_countys_clerk_works_within_the_county(
    db_url: str, wf: Workflow, counties: None, tmp_path: Path
) -> None:
    a, b = ("--as", "clerk-a"), ("--as", "clerk-b")
    sheet = tmp_path / "targets.csv"
    write_table(KINDS["targets"], sheet, [target_row(code(1))])
    assert "新增 1" in ssj(db_url, "import", "targets", str(sheet), *a)
    out = ssj(db_url, "import", "targets", str(sheet), "--unit", "C-B", *a, code=2)
    assert "乙县人社局（C-B） 不在账号 clerk-a 所属单位（C-A）及其下级单位之内" in out
    # B's export holds nothing of A's; A's holds its target.
    for who, expected in ((b, 0), (a, 1)):
        out_file = tmp_path / f"export-{who[1]}.csv"
        assert f"已导出 {expected} 条" in ssj(db_url, "export", "targets", str(out_file), *who)
    out = ssj(db_url, "retire", "targets", code(1), "--reason", "注销", *b, code=2)
    assert "不在账号 clerk-b 所属单位" in out
    # Plans: the county's own, never the other's.
    out = ssj(db_url, "plan", "create", "--no", "2024001", "--unit", "乙县人社局", *a, code=2)
    assert "不在账号 clerk-a 所属单位" in out
    ssj(db_url, "plan", "create", "--no", "2024001", "--unit", "甲县人社局", *a)
    out = ssj(db_url, "task", "create", "--plan", "2024001", "--name", "抽查", *b, code=2)
    assert "抽查计划 2024001 属于 甲县人社局（C-A）" in out
    ssj(db_url, "task", "create", "--plan", "2024001", "--name", "抽查", *a)
    assert "不在账号 clerk-b 所属单位" in ssj(db_url, "plan", "publish", "2024001", *b, code=2)
    assert "已公布" in ssj(db_url, "plan", "publish", "2024001", *a)


def test_a_countys_accounts_see_their_own_units(db_url: str, wf: Workflow, counties: None) -> None:
    listed = ssj(db_url, "unit", "list", "--as", "clerk-a").splitlines()
    assert listed == ["甲县人社局（C-A，县级）"]
    assert "C-B" not in ssj(db_url, "unit", "list", "--json", "--as", "clerk-a")
    add_account(wf, "city-admin", "admin")
    every = ssj(db_url, "unit", "list", "--as", "city-admin")
    assert "C-A" in every and "C-B" in every
