"""Benchmark of the deadline sweep and of mail delivery (issue #4).

1. The sweep: 100,000 open tasks (each with 2 inspection records and groups of 2), of which
   10,000 fall due as of the sweep's moment — 5,000 drawn and not confirmed, 2 working days
   late (overdue notice + the office head's escalation), and 5,000 inspected with publication
   due tomorrow (the 1-day reminder to the office head, since issue #9). One sweep
   decides, logs and enqueues everything (goal: under 2 s). Baseline, same database, same run:
   the read the sweep cannot avoid, every open task with its plan. A second sweep at the same
   moment (nothing new to do) shows the cost of idempotence.
2. Delivery: N messages rendered (Jinja2, text + HTML) and sent over SMTP to a local aiosmtpd
   on loopback, one session, each marked sent in its own commit (goal: >= 200 messages/s).
   Baseline: the same number of prebuilt messages sent with bare smtplib over one session.

Usage: python bench/sweep.py [--tasks 100000] [--due 10000] [--messages 2000] [--db URL]
                            [--mail-db URL]
(default: a SQLite file in a temporary directory, WAL, synchronous=FULL as shipped).
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import notifications  # noqa: E402
from notifications import outbox, render  # noqa: E402
from workflow.core import (  # noqa: E402
    purpose,
    schema,
)
from workflow.core.clock import FixedClock  # noqa: E402
from workflow.core.config import DbSettings, LogSettings, Settings  # noqa: E402
from workflow.core.db import RawConnection, make_engine  # noqa: E402
from workflow.core.logging import configure_logging  # noqa: E402
from workflow.core.writer import Workflow  # noqa: E402
from workflow.deadlines import sweep  # noqa: E402
from workflow.deadlines.calendar import WorkCalendar  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 6, 3, 9, 0, tzinfo=SH)  # Monday
OFFICES = [f"第{i}监察中队" for i in range(20)]
T0 = "2024-03-01T00:00:00.000000Z"


def settings(port: int = 25) -> Settings:
    return Settings.model_validate(
        {
            "offices": {o: {"head": f"{o}队长", "email": f"head{i}@bureau.test", "reports": False}
                        for i, o in enumerate(OFFICES)},
            "escalation": {"supervisor_name": "局领导", "supervisor_email": "sup@bureau.test"},
            "mail": {"transport": "smtp"},
            "smtp": {"host": "127.0.0.1", "port": port},
        }
    )  # fmt: skip


def populate(raw: RawConnection, tasks: int, due: int) -> None:
    """Rows written directly (the sweep only reads them): the real paths take hours at this
    size and are measured by bench/transitions.py and bench/draw.py."""
    sql = raw.sql
    cur = raw.dbapi.cursor()
    if not raw.postgres:
        cur.execute("BEGIN")
    cur.execute(
        sql("INSERT INTO plan (plan_no, name, year, unit, unit_id, created_at, published_at)"
            " VALUES (?, ?, ?, ?, 1, ?, ?)"),
        ("2024001", "2024年某局随机抽查2024001", 2024, "某局", T0, T0),
    )  # fmt: skip
    certs = [f"J{i:05d}" for i in range(500)]
    cur.executemany(
        sql("INSERT INTO inspector (cert, name, fields, specialties, office, recusal, email,"
            " available, updated_at, unit_id) VALUES (?, ?, '[]', '[]', ?, '[]', ?, ?, ?, 1)"),
        [(c, f"人员{c}", OFFICES[i % 20], f"{c.lower()}@bureau.test", True, T0)
         for i, c in enumerate(certs)],
    )  # fmt: skip
    task_rows, record_rows = [], []
    half = due // 2
    for i in range(1, tasks + 1):
        if i <= half:  # drawn 05-28, not confirmed: due 05-30, 2 working days late on 06-03
            state, confirmed, drawn, result_at = "drawn", None, "2024-05-28T02:00:00.000000Z", None
        elif i <= due:  # inspected 05-08: publication due 06-04 (20 working days)
            state, confirmed, drawn, result_at = "inspected", T0, T0, "2024-05-08T02:00:00.000000Z"
        else:  # drawn and confirmed; inspections end 2024-09-30; nothing due
            state, confirmed, drawn, result_at = "drawn", T0, T0, None
        task_rows.append(
            (1, f"{i:03d}号", f"任务{i}", "undirected", "0.05", OFFICES[i % 20], "2024-09",
             confirmed, drawn, state, 3, T0, T0)
        )  # fmt: skip
        for k in range(2):
            group = json.dumps([certs[(2 * i + k) % 500], certs[(2 * i + k + 7) % 500]])
            record_rows.append(
                (i, f"91130000{i:08d}{k}X"[:18], f"对象{i}-{k}", group, 2,
                 "no_problem" if result_at else None, result_at)
            )  # fmt: skip
    cur.executemany(
        sql("INSERT INTO task (plan_id, task_no, name, task_type, ratio, initiating_office,"
            " months, confirmed_at, drawn_at, state, version, created_at, updated_at,"
            " items, scope, joining_offices, item_codes, filters, stratum_ratios,"
            " inspector_field, unit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " '', '', '[]', '[]', '{}', '{}', '', 1)"),
        task_rows,
    )  # fmt: skip
    cur.executemany(
        sql("INSERT INTO inspection_record (task_id, target_code, target_name, inspectors,"
            " group_size, result, result_at, followup_count, replaced)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 0, '[]')"),
        record_rows,
    )  # fmt: skip
    raw.dbapi.commit()
    cur.close()


def baseline_scan(raw: RawConnection) -> float:
    t = time.perf_counter()
    with raw.read() as cur:
        cur.execute(
            "SELECT t.id, t.state, t.months, t.initiating_office, t.confirmed_at, t.drawn_at,"
            " p.year FROM task t JOIN plan p ON p.id = t.plan_id WHERE t.state <> 'closed'"
        )
        n = len(cur.fetchall())
    assert n > 0
    return time.perf_counter() - t


def bench_sweep(url: str, tasks: int, due: int) -> None:
    engine = make_engine(DbSettings(), url)
    # The offices become the root unit's (as ssj init does with a config's offices).
    schema.upgrade(engine, offices={k: v.model_dump() for k, v in settings().offices.items()})
    purpose.write(engine, purpose.TEST)  # its fixed clock writes (a live database refuses)
    raw = RawConnection(engine)
    t = time.perf_counter()
    populate(raw, tasks, due)
    print(
        f"populated {tasks:,} open tasks ({due:,} falling due) in {time.perf_counter() - t:.1f} s"
    )
    base = min(baseline_scan(raw) for _ in range(3))
    wf = Workflow(engine, clock=FixedClock(NOW), calendar=WorkCalendar())
    s = settings()
    t = time.perf_counter()
    r = sweep.decide_and_enqueue(wf, s, NOW)
    first = time.perf_counter() - t
    steps = sum(r.steps.values())
    t = time.perf_counter()
    again = sweep.decide_and_enqueue(wf, s, NOW)
    second = time.perf_counter() - t
    assert sum(again.steps.values()) == 0
    print(f"baseline (read every open task with its plan): {base:.3f} s")
    print(
        f"sweep (decide + log + enqueue): {first:.3f} s — {steps:,} steps {r.steps},"
        f" {r.messages:,} messages; {first / base:.1f}x baseline; goal < 2 s:"
        f" {'met' if first < 2 else 'MISSED'}"
    )
    print(f"second sweep, nothing new: {second:.3f} s ({second / base:.1f}x baseline)")
    wf.close()
    raw.close()
    engine.dispose()


def _ctx(i: int) -> dict[str, object]:
    return {
        "kind": "reminder", "step": "remind_1", "step_label": "责任人",
        "subject_line": f"计划 2024001 任务 {i:03d}号《任务{i}》", "task": f"计划 2024001 任务 {i:03d}号",
        "what": "公示检查结果", "detail": "", "office": "第1监察中队", "responsible": "人员J00001",
        "due": "2024-06-04", "due_weekday": "星期二",
        "basis": "2024-05-06 检查结束后 20 个工作日内公示（来源文件 001、003、004）",
        "todo": "用 ssj result publish 登记公示", "working_days_left": 1,
        "late_working_days": None, "as_of": "2024-06-03 09:00", "event_seq": i,
    }  # fmt: skip


def _start_server(count_file: Path) -> tuple[subprocess.Popen[bytes], int]:
    """aiosmtpd in its own process (a server sharing our GIL would halve both figures),
    counting what it accepts (bench/counting_sink.py)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "counting_sink.Counter", str(count_file)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)},
    )  # fmt: skip
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("aiosmtpd did not start")


def bench_delivery(url: str, n: int, tmp: Path) -> None:
    count_file = tmp / "received"
    proc, port = _start_server(count_file)
    try:
        # Baseline: bare smtplib, prebuilt messages, one session.
        prebuilt = [
            render.build("ssj <ssj@b.test>", f"j{i}@bureau.test", f"人员{i}", "deadline",
                         {"recipient_name": f"人员{i}", **_ctx(i)}, [f"k{i}"], NOW)
            for i in range(n)
        ]  # fmt: skip
        t = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for m in prebuilt:
                smtp.send_message(m)
        base = time.perf_counter() - t

        engine = make_engine(DbSettings(), url)
        schema.upgrade(engine)
        raw = RawConnection(engine)
        cur = raw.dbapi.cursor()
        if not raw.postgres:
            cur.execute("BEGIN")
        notifications.enqueue(
            cur, raw,
            [notifications.Message(f"bench|{i}", f"j{i}@bureau.test", f"人员{i}", "deadline", _ctx(i))
             for i in range(n)],
            "2024-06-03T00:00:00.000000Z",
        )  # fmt: skip
        raw.dbapi.commit()
        cur.close()
        transport = notifications.SmtpTransport(notifications.SmtpConfig("127.0.0.1", port))
        policy = notifications.DeliveryPolicy("ssj <ssj@b.test>")
        t = time.perf_counter()
        result = notifications.deliver(raw, transport, policy, NOW)
        took = time.perf_counter() - t
        assert result.mails == n, result
        assert outbox.counts(raw)["sent"] == n
        raw.close()
        engine.dispose()
    finally:
        proc.terminate()
        proc.wait()
    received = int(count_file.read_text())
    assert received == 2 * n, received  # baseline's and ours, each once
    print(f"baseline (bare smtplib, prebuilt): {n / base:,.0f} messages/s")
    print(
        f"delivery (outbox claim, render, send, mark sent): {n / took:,.0f} messages/s"
        f" ({took / base:.1f}x baseline time); goal >= 200/s: {'met' if n / took >= 200 else 'MISSED'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--due", type=int, default=10_000)
    ap.add_argument("--messages", type=int, default=2_000)
    ap.add_argument("--db", default=None, help="a database URL (PostgreSQL: an empty schema)")
    ap.add_argument("--mail-db", default=None, help="another empty database for the delivery part")
    args = ap.parse_args()
    configure_logging(LogSettings(level="WARNING", format="console"))
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'sweep.db'}"
        mail_url = args.mail_db or f"sqlite:///{Path(tmp) / 'mail.db'}"
        print(f"database: {url.split('?')[0]}")
        bench_sweep(url, args.tasks, args.due)
        bench_delivery(mail_url, args.messages, Path(tmp))


if __name__ == "__main__":
    main()
