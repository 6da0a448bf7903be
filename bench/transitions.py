"""Benchmark of the engine's write path, and of verify and replay on a large log (issue #2).

Both sides on SQLite in WAL mode with synchronous=NORMAL, so that it measures the engine's
overhead rather than the disk:

1. audited transitions per second through the one write path (lock, load, version check, guard
   facts, update, hash-chained append, commit; one transaction each);
2. raw inserts per second of equivalent event rows with plain ``sqlite3``, one transaction per
   row — the baseline, measured in the same run — and the ratio of 1 to 2;
3. the time to verify the chain and to replay (and compare with the tables) a log of
   1,000,000 events.

Usage: python bench/transitions.py [--tasks 5000] [--rounds 3] [--events 1000000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

# This file's name would shadow the ``transitions`` package: put the project root in place of
# the script's own directory on the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workflow.core import (  # noqa: E402
    audit,
    schema,
)
from workflow.core.config import DbSettings, DrawSettings, LogSettings  # noqa: E402
from workflow.core.db import RawConnection, make_engine  # noqa: E402
from workflow.core.logging import configure_logging  # noqa: E402
from workflow.core.replay import replay  # noqa: E402
from workflow.core.writer import Workflow  # noqa: E402
from workflow.deadlines.calendar import WorkCalendar  # noqa: E402
from workflow.sampling import plans  # noqa: E402
from workflow.sampling.credit_code import make  # noqa: E402
from workflow.sampling.task_draw import draw_task  # noqa: E402

SETTINGS = DbSettings(sqlite_synchronous="NORMAL")


def load_bench_directory(wf: Workflow, directory: Path) -> None:
    from workflow.sampling.directories import KINDS, import_file, write_table

    rows = {
        "targets": [[make("130227", i), f"对象{i}", "用人单位"] for i in range(20)],
        "inspectors": [[f"J{i}", f"人员{i}", "劳动保障监察"] for i in range(4)],
    }
    for kind, data in rows.items():
        path = directory / f"{kind}.csv"
        width = len(KINDS[kind].cols)
        write_table(KINDS[kind], path, [r + [""] * (width - len(r)) for r in data])
        import_file(wf.raw, kind, path, actor="bench", now="2024-01-01T00:00:00.000000Z")


def bench_write_path(directory: Path, tasks: int) -> tuple[int, float, int, float]:
    """Returns (transitions, seconds in fire, all writes, seconds in all writes)."""
    engine = make_engine(SETTINGS, f"sqlite:///{directory / 'engine.db'}")
    schema.upgrade(engine)
    # The same 20 targets are drawn again and again: the same-year and joint-visit rules
    # would soon leave none, so they are off here (bench/draw.py measures them).
    wf = Workflow(
        engine,
        calendar=WorkCalendar(),
        rules=DrawSettings(skip_clean_this_year=False, merge_joint_visits=False),
        clerks=("bench",),
    )
    fired = writes = 0
    in_fire = total = 0.0
    clock = time.perf_counter
    # A directory of 20 targets and 4 inspectors: each task draws 1 (5%) through the real draw.
    load_bench_directory(wf, directory)
    for i in range(tasks):
        plan_no = f"{2000 + i // 900}001"  # task numbers run 001号–999号 per plan (seed 004)
        if i % 900 == 0:
            plans.create_plan(wf, plan_no, unit="迁西县人力资源和社会保障局", actor="bench")
        t0 = clock()
        t = plans.create_task(wf, plan_no, name="基准任务", actor="bench")
        plans.publish(wf, plan_no, actor="bench")
        (c,) = [x["code"] for x in draw_task(wf, t, actor="bench")["targets"]]
        total += clock() - t0
        writes += 3
        for step in ("result", "inspect", "publish", "publicize", "close"):
            t0 = clock()
            if step == "result":
                wf.set_result(t, c, "no_problem", actor="bench")
            elif step == "publish":
                wf.publish(t, place="网站", actor="bench")
            else:
                wf.fire(t, step, actor="bench", reason="基准")
                in_fire += clock() - t0
                fired += 1
            total += clock() - t0
            writes += 1
    assert audit.verify_db(wf.raw).ok and replay(wf.raw).ok
    wf.close()
    engine.dispose()
    return fired, in_fire, writes, total


def bench_raw_inserts(directory: Path, rows: int, autocheckpoint: int | None = None) -> float:
    """Plain sqlite3, one INSERT and one COMMIT per row, into an equivalent event table."""
    name = "raw.db" if autocheckpoint is None else f"raw-ck{autocheckpoint}.db"
    conn = sqlite3.connect(directory / name, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    if autocheckpoint is not None:
        conn.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
    conn.execute(
        "CREATE TABLE event (seq INTEGER PRIMARY KEY, at VARCHAR(27) NOT NULL,"
        " actor VARCHAR(100) NOT NULL, role VARCHAR(32) NOT NULL, task_id INTEGER,"
        " kind VARCHAR(32) NOT NULL, from_state VARCHAR(16), to_state VARCHAR(16), reason TEXT,"
        " payload TEXT NOT NULL, prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL)"
    )
    conn.execute("CREATE INDEX ix_event_task_seq ON event (task_id, seq)")
    payload = '{"data":{},"trigger":"inspect"}'
    at = "2024-04-01T08:00:00.000000Z"
    h = "ab" * 32
    sql = "INSERT INTO event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    t0 = time.perf_counter()
    for seq in range(1, rows + 1):
        conn.execute("BEGIN")
        conn.execute(
            sql,
            (
                seq,
                at,
                "bench",
                "clerk",
                seq // 6,
                "transition",
                "drawn",
                "inspected",
                "基准",
                payload,
                h,
                h,
            ),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def build_large_log(directory: Path, events: int) -> Path:
    """A valid chain of ``events`` events (5 per task) with matching tables, written in bulk."""
    path = directory / "large.db"
    engine = make_engine(SETTINGS, f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO plan (id, plan_no, name, year, unit, unit_id, created_at)"
        " VALUES (1, '2024001', '2024年基准随机抽查001', 2024, '基准单位', 1, ?)",
        ("2024-01-01T00:00:00.000000Z",),
    )
    prev = audit.GENESIS
    seq = 0
    base = 1_704_067_200  # 2024-01-01 UTC
    ev_rows: list[tuple] = []
    task_rows: list[tuple] = []
    rec_rows: list[tuple] = []

    def emit(task_id, kind, frm, to, payload) -> None:
        nonlocal prev, seq
        seq += 1
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + seq)) + ".000000Z"
        pj = audit.canonical_json(payload)
        digest = audit.chain_hash(
            prev, audit.event_bytes(seq, at, "bench", "clerk", task_id, kind, frm, to, None, pj)
        )
        ev_rows.append((seq, at, "bench", "clerk", task_id, kind, frm, to, None, pj, prev, digest))
        prev = digest

    for t in range(1, events // 5 + 1):
        c = make("130227", t)
        emit(
            t,
            "task_created",
            None,
            "planned",
            {"plan_no": "2024001", "task_no": f"{t:03d}号", "name": "基准"},
        )
        emit(t, "draw_committed", "planned", "planned", {"commitment": "ab" * 32})
        emit(
            t,
            "transition",
            "planned",
            "drawn",
            {"trigger": "draw", "data": {"targets": [[c, ["J1", "J2"]]]}},
        )
        emit(
            t,
            "result_set",
            "drawn",
            "drawn",
            {
                "target_code": c,
                "before": {"result": None, "note": None},
                "after": {"result": "no_problem", "note": None},
            },
        )
        emit(t, "transition", "drawn", "inspected", {"trigger": "inspect", "data": {}})
        at = ev_rows[-1][1]
        task_rows.append(
            (
                t,
                1,
                f"{t:03d}号",
                "基准",
                "undirected",
                "0.05",
                "",
                "",
                "",
                "[]",
                "",
                "inspected",
                5,
                at,
                at,
            )
        )
        rec_rows.append((t, t, c, "对象", '["J1","J2"]', 2, "no_problem", None, at, None, None, 0))
        if len(ev_rows) >= 100_000:
            conn.executemany("INSERT INTO event VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", ev_rows)
            ev_rows.clear()
    conn.executemany("INSERT INTO event VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", ev_rows)
    conn.executemany(
        "INSERT INTO task (id, plan_id, task_no, name, task_type, ratio, items, scope,"
        " initiating_office, joining_offices, months, state, version, created_at, updated_at,"
        " unit_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)",  # the root unit
        task_rows,
    )
    conn.executemany(
        "INSERT INTO inspection_record (id, task_id, target_code, target_name, inspectors,"
        " group_size, result, result_note, result_at, published_at, published_place,"
        " followup_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        rec_rows,
    )
    conn.execute("COMMIT")
    conn.close()
    return path


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--tasks",
        type=int,
        default=5000,
        help="tasks driven through the write path (3 fired transitions each, after the draw)",
    )
    ap.add_argument(
        "--events", type=int, default=1_000_000, help="size of the log to verify and replay"
    )
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of both sides")
    ap.add_argument(
        "--dir", type=Path, default=None, help="where to put the databases (default: a temp dir)"
    )
    args = ap.parse_args()
    configure_logging(LogSettings(level="WARNING"))
    directory = args.dir or Path(tempfile.mkdtemp(prefix="ssj-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    print(
        f"# bench/transitions.py  (SQLite WAL, synchronous=NORMAL; {os.cpu_count()} cores; dir {directory})"
    )

    # Alternate rounds of both sides so that drift on the machine hits both; report medians.
    ck = SETTINGS.sqlite_wal_autocheckpoint
    ours_r, raw_r, raw_ck_r, writes_r = [], [], [], []
    for r in range(args.rounds):
        sub = directory / f"round{r}"
        sub.mkdir(exist_ok=True)
        fired, in_fire, writes, total = bench_write_path(sub, args.tasks)
        ours_r.append(fired / in_fire)
        writes_r.append(writes / total)
        raw_r.append(fired / bench_raw_inserts(sub, fired))
        raw_ck_r.append(fired / bench_raw_inserts(sub, fired, ck))
        print(
            f"round {r + 1}: write path {ours_r[-1]:,.0f}/s, raw {raw_r[-1]:,.0f}/s,"
            f" ratio {ours_r[-1] / raw_r[-1]:.3f}"
        )
    ours, raw, raw_ck = median(ours_r), median(raw_r), median(raw_ck_r)
    print(f"write path: {fired} audited transitions per round, median {ours:,.0f} transitions/s")
    print(
        f"            all audited writes (incl. create, record, result, publish): median {median(writes_r):,.0f} writes/s"
    )
    print(
        f"baseline:   {fired} raw sqlite3 inserts, one transaction each: median {raw:,.0f} rows/s"
    )
    print(
        f"ratio:      {ours / raw:.3f} of the raw rate (goal >= 0.3; Django+django-fsm-2+django-fsm-log ~0.04)"
    )
    print(
        f"            (raw with the engine's wal_autocheckpoint={ck} too: {raw_ck:,.0f} rows/s,"
        f" ratio {ours / raw_ck:.3f})"
    )

    t0 = time.perf_counter()
    path = build_large_log(directory, args.events)
    print(
        f"large log:  {args.events:,} events built in {time.perf_counter() - t0:.1f} s (bulk, not timed below)"
    )
    engine = make_engine(SETTINGS, f"sqlite:///{path}")
    raw_conn = RawConnection(engine)
    t0 = time.perf_counter()
    v = audit.verify_db(raw_conn)
    verify_s = time.perf_counter() - t0
    assert v.ok and v.events == args.events, v
    t0 = time.perf_counter()
    r = replay(raw_conn)
    replay_s = time.perf_counter() - t0
    assert r.ok and len(r.tasks) == args.events // 5, r.mismatches[:3]
    print(
        f"verify:     {v.events:,} events in {verify_s:.2f} s (goal < 15 s) = {v.events / verify_s:,.0f} events/s"
    )
    print(
        f"replay:     {r.events:,} events, {len(r.tasks):,} tasks, compared with tables in {replay_s:.2f} s (goal < 15 s)"
    )
    digest = hashlib.sha256(v.head_hash.encode()).hexdigest()[:12]
    print(f"head:       #{v.head_seq} {v.head_hash[:16]}… ({digest})")
    raw_conn.close()
    print(
        json.dumps(
            {
                "transitions_per_s": round(ours),
                "raw_inserts_per_s": round(raw),
                "ratio": round(ours / raw, 3),
                "ratio_same_checkpoint": round(ours / raw_ck, 3),
                "verify_1m_s": round(verify_s, 2),
                "replay_1m_s": round(replay_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
