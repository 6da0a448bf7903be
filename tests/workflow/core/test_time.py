"""Time is trustworthy (issue 9): event times are the real clock's on a live database, one bad
time never moves later ones, --now on a live database rehearses, and stated dates of past facts
are stored beside the real event time and never lie in the future."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.conftest import CLERKS, add_account, add_office, drawn_task
from workflow.cli.main import app
from workflow.core import purpose, queries
from workflow.core.clock import FixedClock, format_utc
from workflow.core.config import Settings
from workflow.core.errors import InvalidInput
from workflow.core.replay import replay
from workflow.core.writer import Workflow
from workflow.deadlines import sweep
from workflow.deadlines.overdue import overdue
from workflow.sampling import plans

SH = ZoneInfo("Asia/Shanghai")
OFFICE = "劳动保障监察大队"
runner = CliRunner()


def at(y: int, m: int, d: int, hour: int = 9) -> datetime:
    return datetime(y, m, d, hour, tzinfo=SH)


def sec(dt: datetime) -> str:
    """A stored time to the second (the fixtures' clock ticks a millisecond per read)."""
    return format_utc(dt)[:19]


def counts(wf: Workflow) -> tuple[int, int, int]:
    with wf.raw.read() as cur:
        out = []
        for table in ("event", "deadline_step", "outbox"):
            cur.execute(f"SELECT count(*) FROM {table}")
            out.append(cur.fetchone()[0])
    return out[0], out[1], out[2]


def settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "offices": {OFFICE: {"head": "王队长", "email": "head@bureau.test"}},
            "escalation": {"supervisor_name": "李局长", "supervisor_email": "sup@bureau.test"},
            "mail": {"transport": "maildir", "maildir": str(tmp_path / "mail")},
        }
    )


def ssj(db_url: str, cfg: Path, *args: str, code: int = 0) -> str:
    r = runner.invoke(app, ["--db", db_url, "--config", str(cfg), *args], catch_exceptions=False)
    assert r.exit_code == code, (args, r.output)
    return r.stdout if code == 0 else r.output


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
offices:
  {OFFICE}: {{head: 王队长, email: head@bureau.test}}
escalation: {{supervisor_name: 李局长, supervisor_email: sup@bureau.test}}
mail: {{transport: maildir, maildir: {tmp_path / "mail"}}}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def drawn(wf, clock) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    clock.set(at(2024, 4, 1))
    add_office(wf, OFFICE)
    return drawn_task(wf, 2, email=True, initiating_office=OFFICE, months="2024-04")


@pytest.fixture
def staff(wf: Workflow) -> None:
    """The accounts the commands act as: the administrator runs the sweep and the outbox, the
    supervisor reads what is overdue, the clerks confirm draws and publish results."""
    add_account(wf, "管理员", "admin")
    add_account(wf, "督办", "supervisor")
    add_account(wf, "王队长", "clerk")
    add_account(wf, "张甲", "clerk")


def first_accounts(db_url: str, cfg: Path) -> None:
    """A new database's first accounts, as a bureau makes them: the administrator from the
    server's console (no --as: there is no account yet), then a clerk and an auditor."""
    ssj(db_url, cfg, "user", "add", "管理员", "--role", "admin", "--unit", "000000",
        "--no-password")  # fmt: skip
    for name, role in (("录入员", "录入员"), ("审计员", "审计")):
        ssj(db_url, cfg, "--as", "管理员", "user", "add", name, "--role", role, "--unit",
            "000000", "--no-password")  # fmt: skip


def make_live(wf: Workflow) -> None:
    """The data was made on a test database; from now on the database is a bureau's live one."""
    purpose.write(wf.engine, purpose.LIVE)
    wf.forget_purpose()


# ---------------------------------------------------------------------------------------------
# One bad time never moves later ones


def test_a_future_head_cannot_drag_later_events(wf, clock, drawn) -> None:
    t, codes = drawn
    clock.set(at(2027, 6, 1))  # e.g. a demo's `sweep --now 2027-06-01`
    wf.set_result(t, codes[0], "no_problem", actor="甲")
    clock.set(at(2024, 4, 2))
    wf.set_result(t, codes[1], "no_problem", actor="甲")
    times = [e["time"][:19] for e in queries.list_events(wf.engine, t)][-2:]
    assert times == [sec(at(2027, 6, 1)), sec(at(2024, 4, 2))]


def test_on_a_live_database_events_carry_the_real_time(wf, clock, drawn) -> None:
    t, codes = drawn
    clock.set(at(2027, 6, 1))
    wf.set_result(t, codes[0], "no_problem", actor="甲")  # a head far ahead (old data)
    make_live(wf)
    real = FixedClock(at(2024, 4, 2, 10))  # stands in for the real clock
    live = Workflow(wf.engine, calendar=wf.calendar, clock=real, real_clock=real, clerks=CLERKS)
    try:
        live.set_result(t, codes[1], "no_problem", actor="甲")
    finally:
        live.close()
    assert queries.list_events(wf.engine, t)[-1]["time"] == format_utc(at(2024, 4, 2, 10))


class TickingClock:
    """The real clock as a live database sees it: a little later at every reading."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def now(self) -> datetime:
        self.t += timedelta(milliseconds=3)
        return self.t


def test_a_live_sweep_delivers_the_mail_it_has_just_enqueued(wf, clock, drawn, tmp_path) -> None:
    make_live(wf)
    real = TickingClock(at(2024, 4, 8))  # the confirmation is overdue by then
    live = Workflow(wf.engine, calendar=wf.calendar, clock=real, real_clock=real, clerks=CLERKS)  # type: ignore[arg-type]
    try:
        r = sweep.run(live, settings(tmp_path))
    finally:
        live.close()
    assert r.messages >= 1 and r.delivery is not None
    assert r.delivery["messages"] == r.messages and r.delivery["failed"] == 0
    with wf.raw.read() as cur:
        cur.execute("SELECT status, count(*) FROM outbox GROUP BY status")
        assert dict(cur.fetchall()) == {"sent": r.messages}


def test_a_fixed_clock_cannot_write_to_a_live_database(wf, clock, drawn, tmp_path) -> None:
    t, codes = drawn
    make_live(wf)
    before = counts(wf)
    with pytest.raises(
        InvalidInput, match=r"正式库（live）只按真实时间写入.*指定时刻在正式库上只演练"
    ) as refused:
        wf.set_result(t, codes[0], "no_problem", actor="甲")
    assert [s.as_json() for s in refused.value.steps] == [
        {"action": "init", "label": "初始化数据库", "purpose": "demo|test"}
    ]
    with pytest.raises(InvalidInput, match="正式库"):
        plans.create_plan(wf, "2024009", unit="迁西县人力资源和社会保障局", actor="甲")
    with pytest.raises(InvalidInput, match="正式库"):
        sweep.run(wf, settings(tmp_path), at(2024, 4, 10))
    # The real clock, asked to sweep as of another day, is refused too.
    real = Workflow(wf.engine, calendar=wf.calendar, clerks=CLERKS)
    try:
        with pytest.raises(InvalidInput, match="正式库"):
            sweep.run(real, settings(tmp_path), datetime(2099, 6, 1, tzinfo=UTC))
    finally:
        real.close()
    assert counts(wf) == before


# ---------------------------------------------------------------------------------------------
# --now on a live database is a rehearsal


def test_sweep_now_on_a_live_database_writes_nothing_and_says_so(
    wf, clock, drawn, staff, db_url, cfg
) -> None:
    t, _ = drawn
    make_live(wf)
    before = counts(wf)
    out = ssj(db_url, cfg, "sweep", "--now", "2024-04-10T09:00", "--as", "管理员")
    assert "演练：这是正式库，--now 只演练，不写入任何数据" in out
    assert "演练巡检（截至 2024-04-10，未写入）" in out and "逾期通知 2" in out
    # The office head is responsible and next on the ladder: one mail each, not two.
    assert "将入队邮件 2 封" in out
    assert (
        f"任务 001号《测试任务》：2024-04-03 到期，task:{t}:confirm:2024-04-03|overdue"
        " → 不再重复通知（已另行通知）" in out
    )
    as_admin = ["--db", db_url, "--config", str(cfg), "--as", "管理员"]
    data = json.loads(
        runner.invoke(app, [*as_admin, "sweep", "--now", "2024-04-10", "--json"]).stdout
    )
    assert data["dry_run"] is True and data["steps"]["overdue"] == 2 and data["messages"] == 2
    assert counts(wf) == before
    assert not (cfg.parent / "mail").exists()
    # The next real action is logged at the real time, not at the rehearsal's.
    ssj(db_url, cfg, "draw", "confirm", str(t), "--as", "王队长", "--reason", "补确认")
    last = queries.list_events(wf.engine, t)[-1]
    assert (last["kind"], last["actor"], last["role"]) == ("draw_confirmed", "王队长", "clerk")
    assert last["time"] > format_utc(at(2024, 4, 10)) and counts(wf)[1:] == before[1:]


def test_sweep_now_on_a_test_database_writes_as_before(
    wf, clock, drawn, staff, db_url, cfg
) -> None:
    out = ssj(db_url, cfg, "sweep", "--now", "2024-04-10T09:00", "--no-deliver", "--as", "管理员")
    assert "演练" not in out and "逾期通知 2" in out
    with wf.raw.read() as cur:
        cur.execute("SELECT at FROM deadline_step")
        assert {r[0][:19] for r in cur.fetchall()} == {sec(at(2024, 4, 10))}


def test_outbox_retry_now_on_a_live_database_writes_nothing(
    wf, clock, drawn, staff, db_url, cfg
) -> None:
    ssj(db_url, cfg, "sweep", "--now", "2024-04-10T09:00", "--no-deliver", "--as", "管理员")
    with wf.raw.read() as cur:
        cur.execute("SELECT id, next_attempt_at FROM outbox ORDER BY id")
        first, due = cur.fetchone()
    make_live(wf)
    out = ssj(db_url, cfg, "outbox", "retry", str(first), "--now", "2024-05-01T09:00",
              "--as", "管理员")  # fmt: skip
    assert "演练" in out and "将被放回发送队列；未写入" in out
    with wf.raw.read() as cur:
        cur.execute(wf.raw.sql("SELECT next_attempt_at FROM outbox WHERE id = ?"), (first,))
        assert cur.fetchone()[0] == due


def test_overdue_now_reads_a_live_database_as_before(wf, clock, drawn, staff, db_url, cfg) -> None:
    make_live(wf)
    out = ssj(db_url, cfg, "overdue", "--now", "2024-04-10T09:00", "--as", "督办")
    assert "演练" not in out and "2024-04-03" in out


# ---------------------------------------------------------------------------------------------
# A catch-up in the past never reports notices dated after it


def test_a_catch_up_sweep_in_the_past_dates_its_notices_then(wf, clock, drawn, tmp_path) -> None:
    t, codes = drawn
    clock.set(at(2027, 6, 1))
    wf.set_result(t, codes[0], "problem", actor="甲", rectify_by=at(2027, 6, 2).date())
    s = settings(tmp_path)
    r = sweep.run(wf, s, at(2024, 4, 8), deliver=False)
    assert r.steps["overdue"] == 2  # the draw's confirmation and the Q1 progress report
    with wf.raw.read() as cur:
        cur.execute("SELECT at FROM deadline_step")
        assert {x[0][:19] for x in cur.fetchall()} == {sec(at(2024, 4, 8))}
        cur.execute("SELECT at FROM event WHERE kind LIKE 'deadline_%'")
        assert {x[0][:19] for x in cur.fetchall()} == {sec(at(2024, 4, 8))}


def test_overdue_as_of_a_past_moment_ignores_later_notices(wf, clock, drawn, tmp_path) -> None:
    s = settings(tmp_path)
    sweep.run(wf, s, at(2024, 4, 5), deliver=False)
    sweep.run(wf, s, at(2024, 4, 12), deliver=False)  # office head and supervisor steps
    rows, _ = overdue(wf, s, at(2024, 4, 8))
    confirm = next(r for r in rows if r["rule"] == "confirm")
    assert confirm["last_notice_at"][:19] == sec(at(2024, 4, 5))
    assert confirm["escalation_level"] == 1
    later, _ = overdue(wf, s, at(2024, 4, 12, 10))
    assert next(r for r in later if r["rule"] == "confirm")["escalation_level"] == 3


def test_replay_as_of_t_is_the_prefix_up_to_the_last_event_stamped_by_then(
    wf, clock, drawn
) -> None:
    t, codes = drawn
    clock.set(at(2027, 6, 1))  # a demo's clock far ahead for one event
    wf.set_result(t, codes[0], "no_problem", actor="甲")
    clock.set(at(2024, 4, 3))
    wf.set_result(t, codes[1], "no_problem", actor="甲")
    wf.fire(t, "inspect", actor="甲")
    assert replay(wf.raw, t, format_utc(at(2024, 4, 2))).tasks == {t: "drawn"}
    then = replay(wf.raw, t, format_utc(at(2024, 4, 3, 10)))
    assert then.tasks == {t: "inspected"} and then.ok, then.mismatches


# ---------------------------------------------------------------------------------------------
# Stated dates of past facts


def published(wf: Workflow, t: int) -> set[tuple[str, str | None]]:
    with wf.raw.read() as cur:
        cur.execute(
            wf.raw.sql(
                "SELECT published_at, published_on FROM inspection_record WHERE task_id = ?"
            ),
            (t,),
        )
        return {tuple(r) for r in cur.fetchall()}  # type: ignore[misc]


def test_publication_date_is_stated_beside_the_real_event_time(wf, clock, drawn) -> None:
    t, codes = drawn
    for c in codes:
        wf.set_result(t, c, "no_problem", actor="甲")
    wf.fire(t, "inspect", actor="甲")
    clock.set(at(2024, 4, 20, 10))
    with pytest.raises(InvalidInput, match="公示日期 2024-04-21 晚于今天 2024-04-20"):
        wf.publish(t, place="网站", actor="甲", published_on=at(2024, 4, 21).date())
    assert published(wf, t) == {(None, None)}
    wf.publish(t, place="网站", actor="甲", published_on=at(2024, 4, 15).date())
    assert {(a[:19], on) for a, on in published(wf, t)} == {
        (sec(at(2024, 4, 20, 10)), "2024-04-15")
    }
    p = queries.list_events(wf.engine, t)[-1]["payload"]
    assert (p["published_at"][:19], p["published_on"]) == (sec(at(2024, 4, 20, 10)), "2024-04-15")


def test_publication_defaults_to_the_local_date(wf, clock, drawn) -> None:
    t, codes = drawn
    for c in codes:
        wf.set_result(t, c, "no_problem", actor="甲")
    wf.fire(t, "inspect", actor="甲")
    clock.set(datetime(2024, 4, 19, 17, tzinfo=UTC))  # 04-20 01:00 in Asia/Shanghai
    wf.publish(t, place="网站", actor="甲")
    assert {r[1] for r in published(wf, t)} == {"2024-04-20"}


def test_a_followup_date_in_the_future_is_refused(wf, clock, drawn) -> None:
    t, codes = drawn
    wf.set_result(t, codes[0], "problem", actor="甲")
    wf.set_result(t, codes[1], "no_problem", actor="甲")
    wf.fire(t, "inspect", actor="甲")
    with pytest.raises(InvalidInput, match="处置日期 2024-04-02 晚于今天 2024-04-01"):
        wf.add_followup(t, codes[0], "rectified", actor="甲", on=at(2024, 4, 2).date())
    wf.add_followup(t, codes[0], "rectified", actor="甲", on=at(2024, 3, 30).date())
    assert queries.list_events(wf.engine, t)[-1]["payload"]["date"] == "2024-03-30"


def test_stated_dates_through_the_cli(wf, clock, drawn, staff, db_url, cfg) -> None:
    t, codes = drawn
    wf.set_result(t, codes[0], "problem", actor="甲")
    wf.set_result(t, codes[1], "no_problem", actor="甲")
    wf.fire(t, "inspect", actor="甲")
    # The CLI runs on the real clock (a test database): a date far ahead is in the future.
    out = ssj(db_url, cfg, "result", "publish", str(t), "--place", "网站", "--as", "张甲",
              "--date", "2099-01-01", code=2)  # fmt: skip
    assert "公示日期 2099-01-01 晚于今天" in out
    assert "公示日期 '2024-13-01' 无效" in ssj(
        db_url, cfg, "result", "publish", str(t), "--place", "网站", "--as", "张甲",
        "--at", "2024-13-01", code=2,
    )  # fmt: skip
    ssj(db_url, cfg, "result", "publish", str(t), "--place", "网站", "--as", "张甲",
        "--at", "2024-04-15T23:30:00+00:00")  # fmt: skip
    assert {r[1] for r in published(wf, t)} == {"2024-04-16"}  # the local date
    show = ssj(db_url, cfg, "task", "show", str(t), "--as", "张甲")
    assert "已公示 2024-04-16" in show
    out = ssj(db_url, cfg, "followup", "add", str(t), codes[0], "--outcome", "rectified",
              "--as", "张甲", "--date", "2099-01-01", code=2)  # fmt: skip
    assert "处置日期 2099-01-01 晚于今天" in out


# ---------------------------------------------------------------------------------------------
# The database's purpose


def test_init_records_the_purpose_live_by_default(db_url, cfg) -> None:
    assert "数据库用途：正式库（live）（已记录）" in ssj(db_url, cfg, "init")
    assert "数据库用途：正式库（live）。" in ssj(db_url, cfg, "init")
    assert "演示库（demo）（已记录）" in ssj(db_url, cfg, "init", "--purpose", "demo")
    assert "数据库用途 'prod' 无效" in ssj(db_url, cfg, "init", "--purpose", "prod", code=2)


def test_init_does_not_change_the_purpose_of_a_database_with_events(db_url, cfg, tmp_path) -> None:
    ssj(db_url, cfg, "init")
    targets = tmp_path / "t.csv"
    from workflow.sampling.credit_code import make

    targets.write_text(
        f"统一社会信用代码,名称,类型,信用风险等级\n{make('130227', 1)},甲公司,用人单位,A\n",
        encoding="utf-8",
    )
    first_accounts(db_url, cfg)
    ssj(db_url, cfg, "import", "targets", str(targets), "--as", "录入员")
    out = ssj(db_url, cfg, "init", "--purpose", "test", code=2)
    assert "数据库已是正式库（live），且已有审计日志：不能改为测试库（test）" in out


def test_demo_on_an_empty_database_marks_it_demo(db_url, cfg) -> None:
    ssj(db_url, cfg, "init")
    assert "演示库（demo）（已记录）" in ssj(db_url, cfg, "demo")
    from workflow.core.db import make_engine

    eng = make_engine(Settings().db, db_url)
    try:
        assert purpose.read(eng) == "demo"
        with eng.connect() as c:
            assert c.execute(text("SELECT count(*) FROM event")).scalar_one() > 0
    finally:
        eng.dispose()


def test_demo_is_not_loaded_into_a_live_database_with_data(db_url, cfg, tmp_path) -> None:
    from workflow.sampling.credit_code import make

    ssj(db_url, cfg, "init")
    targets = tmp_path / "t.csv"
    targets.write_text(
        f"统一社会信用代码,名称,类型,信用风险等级\n{make('130227', 1)},甲公司,用人单位,A\n",
        encoding="utf-8",
    )
    first_accounts(db_url, cfg)
    ssj(db_url, cfg, "import", "targets", str(targets), "--as", "录入员")
    log = json.loads(ssj(db_url, cfg, "audit", "log", "--json", "--as", "审计员"))
    assert [e["kind"] for e in log] == ["account_added"] * 3 + ["target_upserted"]
    out = ssj(db_url, cfg, "demo", code=2)
    assert "是正式库（live）且已有数据：演示数据只能加载到空库、演示库或测试库" in out
    assert json.loads(ssj(db_url, cfg, "audit", "log", "--json", "--as", "审计员")) == log


def test_test_databases_are_marked_test(engine) -> None:
    assert purpose.read(engine) == "test"
