"""Benchmark of the JSON API under load (issue #11).

A private PostgreSQL database (dropped and made again each run) is migrated as ``ssj init``
does and loaded with N tasks (default 100,000) in bulk: plans of 500 tasks, every state of the
lifecycle, two inspection records with their groups for every task past ``planned`` (one task
in a hundred with a joint visit of the next), a target and inspector directory, and one
hash-chained ``task_created`` event per task. A clerk account of the root
unit gets an API token.

``ssj serve --no-scheduler`` then runs as a subprocess (bench/api_server.py: the ssj command
line itself, with a bare Starlette JSON endpoint added beside the application in the same
process, the baseline). Load comes from another process (this file with ``--client``): an
asyncio HTTP/1.1 client over C keep-alive connections that builds its requests in advance and
parses the answers minimally, so that it costs the shared CPUs as little as it can. Each
scenario runs 1 s of warm-up, then S seconds measured:

- ``bare``: GET /bench/bare — the baseline;
- ``root``: GET /api/v1/ — a route of the application that touches no database (FastAPI, the
  service's middleware and access log): where the framework's share ends;
- ``task``: GET /api/v1/tasks/{id}, random ids (goal: >= 0.3x the bare endpoint's rate);
- ``list``: GET /api/v1/tasks?state=...&plan=...&limit=50, random plan, state one of drawn,
  inspected, closed (goal: p95 < 100 ms);
- ``write``: POST /api/v1/tasks/{id}/results, a drawn task's target with no result yet, each
  once (goal: >= 0.5x the CLI write path's rate).

The CLI write path is measured in this process while the server is idle: the application
call ``ssj result set`` makes, ``Workflow.set_result``, one after another on one connection
with the account bound, over targets of the same pool — plus, for the record, a few runs of
the ``ssj result set`` command itself (each a new process: its start dominates).

Besides rates and latencies it prints the CPU time per request of the serving process (read
from /proc around each scenario, warm-up included), of the load generator and of PostgreSQL's
backends serving the benchmark's database: on a machine with few cores they say where the
time goes. Every write is checked afterwards: the
database holds exactly as many results as were answered 200. ``--rounds R`` runs all the
scenarios R times, alternating, and reports the medians and each round's ratios.

Usage: python bench/api.py [--tasks 100000] [--seconds 10] [--connections 4] [--rounds 3]
                           [--pg postgresql://postgres@127.0.0.1:5432] [--db-name ssj_bench_api]
                           [--cli-runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BENCH = Path(__file__).resolve().parent
TASKS_PER_PLAN = 500
# The states of the loaded tasks, in percent (a bureau's year: most tasks drawn or past).
STATE_SHARES = (
    ("planned", 10),
    ("drawn", 40),
    ("inspected", 20),
    ("publicized", 10),
    ("rectified", 5),
    ("closed", 15),
)
LIST_STATES = ("drawn", "inspected", "closed")
INSPECTORS = 500
BARE_PATH = "/bench/bare"  # bench/api_server.py
USERNAME = "bench"
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _utc(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------------------------
# The database


def recreate_database(pg: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return f"{pg}/{name}"


def drop_database(pg: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _state_of(i: int) -> str:
    """The state of task ``i`` (1-based): the shares above, interleaved over the ids."""
    slot = (i * 37) % 100  # spread each state over every plan
    for state, share in STATE_SHARES:
        if slot < share:
            return state
        slot -= share
    raise AssertionError


@dataclass
class Loaded:
    plans: list[str]
    open_pairs: list[tuple[int, str]]  # (drawn task, target with no result yet)


def populate(url: str, tasks: int) -> Loaded:
    """Rows in bulk with COPY, as the application would have left them (the real paths take
    hours at this size and are measured by bench/transitions.py and bench/draw.py)."""
    import psycopg

    from workflow.core import audit
    from workflow.sampling.credit_code import make

    n_targets = max(tasks, 100)
    codes = [make("130227", i) for i in range(n_targets)]
    certs = [f"J{i:05d}" for i in range(INSPECTORS)]
    offices = [f"第{i}监察中队" for i in range(20)]
    t0 = _utc(T0)
    n_plans = (tasks + TASKS_PER_PLAN - 1) // TASKS_PER_PLAN
    plans = [f"{2024 + p // 999}{p % 999 + 1:03d}" for p in range(n_plans)]
    open_pairs: list[tuple[int, str]] = []
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        (unit_id,) = cur.execute("SELECT id FROM unit WHERE parent_id IS NULL").fetchone()  # type: ignore[misc]
        with cur.copy(
            "COPY plan (id, plan_no, name, year, unit, unit_id, created_at, published_at)"
            " FROM STDIN"
        ) as cp:
            for p, no in enumerate(plans, 1):
                cp.write_row((p, no, f"{no[:4]}年本单位随机抽查{no[4:]}", int(no[:4]), "本单位",
                              unit_id, t0, t0))  # fmt: skip
        with cur.copy(
            "COPY target (id, code, unit_id, name, type, industry, region, size, grade, tags,"
            " violations, complaints, updated_at, address, legal_rep, phone) FROM STDIN"
        ) as cp:
            for i, c in enumerate(codes, 1):
                cp.write_row((i, c, unit_id, f"基准对象{i}有限公司", "用人单位", "制造业", "迁西县",
                              "小型", "ABCD"[i % 4], "[]", 0, 0, t0, "", "", ""))  # fmt: skip
        with cur.copy(
            "COPY inspector (id, cert, unit_id, name, fields, specialties, office, recusal,"
            " email, available, updated_at) FROM STDIN"
        ) as cp:
            for i, c in enumerate(certs, 1):
                cp.write_row((i, c, unit_id, f"人员{i}", '["劳动保障监察"]', "[]",
                              offices[i % 20], "[]", f"{c.lower()}@bureau.test", True, t0))  # fmt: skip
        task_rows, record_rows, event_rows = [], [], []
        joint_rows: list[tuple[int, int]] = []
        prev, rec_id = audit.GENESIS, 0
        for t in range(1, tasks + 1):
            state = _state_of(t)
            plan = (t - 1) // TASKS_PER_PLAN
            task_no = f"{(t - 1) % TASKS_PER_PLAN + 1:03d}号"
            created = T0 + timedelta(seconds=t)
            drawn = created + timedelta(days=30) if state != "planned" else None
            done = state not in ("planned", "drawn")
            published = state in ("publicized", "rectified", "closed")
            version = {"planned": 2, "drawn": 3}.get(state, 5 + (2 if published else 0))
            name = f"基准任务{t}"
            task_rows.append(
                (t, plan + 1, unit_id, task_no, name, "undirected", "0.05",
                 offices[t % 20], "[]", "2024-06", "[]", "{}", "{}", "劳动保障监察",
                 "ab" * 32, "cd" * 32 if drawn else None, _utc(drawn) if drawn else None,
                 _utc(drawn) if drawn else None, state, version, _utc(created),
                 _utc(created + timedelta(days=60 if done else 30 if drawn else 0)))
            )  # fmt: skip
            payload = audit.canonical_json(
                {"name": name, "plan_no": plans[plan], "task_no": task_no}
            )
            at = _utc(created)
            digest = audit.chain_hash(
                prev,
                audit.event_bytes(t, at, USERNAME, "clerk", t, "task_created", None, "planned",
                                  None, payload),
            )  # fmt: skip
            event_rows.append((t, at, USERNAME, "clerk", t, "task_created", None, "planned",
                               None, payload, prev, digest))  # fmt: skip
            prev = digest
            if drawn is None:
                continue
            for k in range(2):
                rec_id += 1
                code = codes[(2 * t + k) % n_targets]
                group = audit.canonical_json(
                    [certs[(2 * t + k) % INSPECTORS], certs[(2 * t + k + 7) % INSPECTORS]]
                )
                result = None if not done else ("problem" if t % 10 == 0 else "no_problem")
                # One record in a hundred carries the next task's items (a joint visit).
                joined = "[]"
                if t % 100 == 1 and k == 0 and t < tasks:
                    joined = audit.canonical_json(
                        [{"item_codes": [], "office": offices[(t + 1) % 20], "task_id": t + 1,
                          "task_no": f"{t % TASKS_PER_PLAN + 1:03d}号"}]
                    )  # fmt: skip
                    joint_rows.append((t + 1, rec_id))  # as TaskTransaction.set_joined writes
                record_rows.append(
                    (rec_id, t, code, f"基准对象{(2 * t + k) % n_targets + 1}有限公司", group, 2,
                     result, _utc(drawn + timedelta(days=10)) if done else None,
                     _utc(drawn + timedelta(days=20)) if published else None,
                     "网站" if published else None, "2024-07-20" if published else None,
                     "2024-09-30" if result == "problem" else None, joined, 0, "[]")
                )  # fmt: skip
                if state == "drawn":
                    open_pairs.append((t, code))
        with cur.copy(
            "COPY task (id, plan_id, unit_id, task_no, name, task_type, ratio,"
            " initiating_office, joining_offices, months, item_codes, filters, stratum_ratios,"
            " inspector_field, commitment, draw_digest, confirmed_at, drawn_at, state, version,"
            " created_at, updated_at) FROM STDIN"
        ) as cp:
            for row in task_rows:
                cp.write_row(row)
        with cur.copy(
            "COPY inspection_record (id, task_id, target_code, target_name, inspectors,"
            " group_size, result, result_at, published_at, published_place, published_on,"
            " rectify_by, joined, followup_count, replaced) FROM STDIN"
        ) as cp:
            for row in record_rows:
                cp.write_row(row)
        with cur.copy("COPY joint_visit (task_id, record_id) FROM STDIN") as cp:
            for row in joint_rows:
                cp.write_row(row)
        with cur.copy(f"COPY event ({audit.COLUMNS}) FROM STDIN") as cp:
            for row in event_rows:
                cp.write_row(row)
        for table in ("plan", "target", "inspector", "task", "inspection_record"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return Loaded(plans, open_pairs)


def make_token(url: str) -> str:
    """A clerk account of the root unit (it may record any target's result) and its token."""
    from workflow.core import accounts, units
    from workflow.core.config import DbSettings
    from workflow.core.db import RawConnection, make_engine

    engine = make_engine(DbSettings(), url)
    raw = RawConnection(engine)
    try:
        with raw.read() as cur:
            root = units.root(cur, raw.sql).code
        now = _utc(datetime.now(UTC))
        new = accounts.NewAccount(USERNAME, "基准录入员", "clerk", root, None)
        accounts.add(raw, new, by=None, now=now)
        text, _ = accounts.create_token(raw, USERNAME, "bench/api.py", by=None, now=now)
        return text
    finally:
        raw.close()
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# The server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    """``ssj serve --no-scheduler`` (with the bare endpoint), in ``workdir`` (no config.yaml
    there: the shipped defaults, one web process), its output to a log file."""
    import http.client

    port = _free_port()
    log = workdir / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSJ_")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(BENCH / "api_server.py"), "--db", url,
             "serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ssj serve exited:\n{log.read_text()[-3000:]}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                c.close()
                return proc, port, log
            c.close()
        except OSError:
            pass
        time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"ssj serve did not become ready:\n{log.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: uvicorn finishes open requests and stops
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------
# The load generator (its own process: ``--client SPEC``)


def _request(method: str, path: str, token: str, body: bytes | None = None) -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
        f"Authorization: Bearer {token}\r\n"
    )
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + (body or b"")


def _requests(spec: dict[str, Any]) -> Iterator[bytes]:
    """The scenario's requests, built ahead of the clock."""
    rnd = random.Random(spec["seed"])
    token, kind = spec["token"], spec["scenario"]
    if kind == "write":
        for task_id, code in spec["pairs"]:
            body = json.dumps({"target": code, "result": "no_problem"}).encode()
            yield _request("POST", f"/api/v1/tasks/{task_id}/results", token, body)
        return
    while True:
        if kind == "bare":
            yield _request("GET", BARE_PATH, token)
        elif kind == "root":
            yield _request("GET", "/api/v1/", token)
        elif kind == "task":
            yield _request("GET", f"/api/v1/tasks/{rnd.randint(1, spec['tasks'])}", token)
        else:
            plan, state = rnd.choice(spec["plans"]), rnd.choice(LIST_STATES)
            yield _request("GET", f"/api/v1/tasks?state={state}&plan={plan}&limit=50", token)


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    length = None
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ValueError("no Content-Length in the answer")
    return int(status_line.split()[1]), await reader.readexactly(length)


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    gen = _requests(spec)
    warmup, seconds = spec["warmup"], spec["seconds"]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    ok_total = [0]  # warm-up included: what the database holds afterwards
    answered = [0]  # warm-up included: for the server's CPU time per request
    sample_error: list[str] = []
    clock = time.perf_counter
    start = clock()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    last_done = [measure_from]

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", spec["port"])
        try:
            for req in gen:
                t = clock()
                if t >= stop_at:
                    return
                writer.write(req)
                status, body = await _response(reader)
                done = clock()
                ok_total[0] += status == 200
                answered[0] += 1
                if t >= measure_from:
                    latencies.append(done - t)
                    statuses[status] = statuses.get(status, 0) + 1
                    last_done[0] = done
                    if status != 200 and not sample_error:
                        sample_error.append(body[:500].decode("utf-8", "replace"))
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(spec["connections"])))
    # A write pool used up before the end: the rate is over the time actually spent.
    elapsed = min(stop_at, max(last_done[0], measure_from + 1e-9)) - measure_from
    return {
        "scenario": spec["scenario"],
        "requests": len(latencies),
        "seconds": elapsed,
        "latencies": sorted(latencies),
        "statuses": statuses,
        "ok_total": ok_total[0],
        "answered": answered[0],
        "sample_error": sample_error[0] if sample_error else None,
        "exhausted": spec["scenario"] == "write" and clock() < stop_at,
    }


def client_main(spec_file: str) -> None:
    import resource

    spec = json.loads(Path(spec_file).read_text())
    out = asyncio.run(_load(spec))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["client_cpu"] = usage.ru_utime + usage.ru_stime
    Path(spec["out"]).write_text(json.dumps(out))


@dataclass
class Figures:
    name: str
    rate: float  # answers 200 per second
    p50_ms: float
    p95_ms: float
    errors: int = 0
    written: int = 0  # successful writes, warm-up included
    server_cpu_ms: float = float("nan")  # CPU time per request: the serving process's
    client_cpu_ms: float = float("nan")  # and the load generator's
    postgres_cpu_ms: float = float("nan")  # and PostgreSQL's (all its processes)


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] * 1000


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu(database: str) -> dict[int, float]:
    """CPU time (s) of each PostgreSQL backend serving ``database``, by process id: read
    from /proc (a backend's command line names its database)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes()
            if not cmdline.startswith(b"postgres: ") or f" {database} ".encode() not in cmdline:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        found[int(proc.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def _postgres_cpu_since(database: str, before: dict[int, float]) -> float:
    """The backends' CPU time since ``before`` (a backend that started meanwhile: all of it;
    one that ended meanwhile is lost)."""
    return sum(t - before.get(pid, 0.0) for pid, t in _postgres_cpu(database).items())


def run_client(spec: dict[str, Any], workdir: Path, server_pid: int) -> Figures:
    spec_file, out = workdir / f"{spec['scenario']}.spec.json", workdir / "client-out.json"
    spec_file.write_text(json.dumps({**spec, "out": str(out)}))
    cpu, pg = _cpu_seconds(server_pid), _postgres_cpu(spec["database"])
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--client", str(spec_file)], check=True
    )
    cpu, pg_cpu = _cpu_seconds(server_pid) - cpu, _postgres_cpu_since(spec["database"], pg)
    r = json.loads(out.read_text())
    lat = r["latencies"]
    errors = sum(n for s, n in r["statuses"].items() if s != "200")
    if errors:
        print(
            f"  {spec['scenario']}: {errors} answers not 200 {r['statuses']}: {r['sample_error']}"
        )
    if r["exhausted"]:
        print(f"  {spec['scenario']}: the pool of open targets ran out before the end")
    ok = r["requests"] - errors
    n = max(r["answered"], 1)
    return Figures(
        spec["scenario"], ok / r["seconds"], _pct(lat, 0.5), _pct(lat, 0.95), errors,
        r["ok_total"], 1000 * cpu / n, 1000 * r["client_cpu"] / n, 1000 * pg_cpu / n,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The CLI write path


def cli_write_path(
    url: str, database: str, pairs: list[tuple[int, str]], seconds: float
) -> Figures:
    """``Workflow.set_result`` as ``ssj result set`` calls it (the account bound, its own
    workflow and connection, the real clock), one call after another for ``seconds``."""
    from workflow.app import AppContext
    from workflow.core import accounts, identity
    from workflow.core.config import load_settings

    a = AppContext(load_settings(None, env={}), url)
    try:
        with a.connect() as raw, raw.read() as cur:
            who = accounts.actor(cur, raw.sql, USERNAME)
        a.actor = who
        lat: list[float] = []
        clock = time.perf_counter
        with identity.acting_as(who):
            wf = a.wf
            cpu, pg = time.process_time(), _postgres_cpu(database)
            start = clock()
            stop_at = start + seconds
            for task_id, code in pairs:
                t = clock()
                if t >= stop_at:
                    break
                wf.set_result(task_id, code, "no_problem", actor=who.username)
                lat.append(clock() - t)
            elapsed = clock() - start
            cpu, pg_cpu = time.process_time() - cpu, _postgres_cpu_since(database, pg)
    finally:
        a.close()
    lat.sort()
    n = max(len(lat), 1)
    return Figures(
        "cli", len(lat) / elapsed, _pct(lat, 0.5), _pct(lat, 0.95), 0, len(lat),
        1000 * cpu / n, float("nan"), 1000 * pg_cpu / n,
    )  # fmt: skip


def cli_command(url: str, pairs: list[tuple[int, str]], workdir: Path) -> float | None:
    """The ``ssj result set`` command itself, once per pair (a new process each): seconds per
    command, median."""
    if not pairs:
        return None
    ssj = Path(sys.executable).with_name("ssj")
    took = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSJ_")}
    for task_id, code in pairs:
        t = time.perf_counter()
        subprocess.run(
            [str(ssj), "--db", url, "--as", USERNAME, "result", "set", str(task_id), code,
             "--result", "未发现问题"],
            check=True, cwd=workdir, env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        took.append(time.perf_counter() - t)
    return median(took)


def count_results(url: str, pairs: list[tuple[int, str]]) -> int:
    import psycopg

    with psycopg.connect(url) as c:
        row = c.execute(
            "SELECT count(*) FROM inspection_record r"
            " JOIN unnest(%s::int[], %s::text[]) AS p(t, c) ON r.task_id = p.t"
            " AND r.target_code = p.c WHERE r.result IS NOT NULL",
            ([p[0] for p in pairs], [p[1] for p in pairs]),
        ).fetchone()
    assert row is not None
    return int(row[0])


# ---------------------------------------------------------------------------------------------


def _median_figures(rounds: list[Figures]) -> Figures:
    return Figures(
        rounds[0].name,
        median(f.rate for f in rounds),
        median(f.p50_ms for f in rounds),
        median(f.p95_ms for f in rounds),
        sum(f.errors for f in rounds),
        sum(f.written for f in rounds),
        median(f.server_cpu_ms for f in rounds),
        median(f.client_cpu_ms for f in rounds),
        median(f.postgres_cpu_ms for f in rounds),
    )


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--connections", type=int, default=4, help="the client's connections")
    ap.add_argument("--rounds", type=int, default=3, help="all scenarios again; medians")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="the server")
    ap.add_argument("--db-name", default="ssj_bench_api", help="dropped and made again")
    ap.add_argument("--cli-runs", type=int, default=3, help="runs of the ssj command itself")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--client", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        client_main(args.client)
        return

    from workflow.core import purpose, schema
    from workflow.core.config import DbSettings, LogSettings
    from workflow.core.db import make_engine
    from workflow.core.logging import configure_logging

    configure_logging(LogSettings(level="WARNING", format="console"))
    url = recreate_database(args.pg, args.db_name)
    proc = None
    try:
        engine = make_engine(DbSettings(), url)
        schema.upgrade(engine)  # what ssj init does, with no offices
        purpose.settle(engine, None)  # live: the real clock only
        engine.dispose()
        t = time.perf_counter()
        loaded = populate(url, args.tasks)
        token = make_token(url)
        print(
            f"database {url}: {args.tasks:,} tasks in {len(loaded.plans)} plans,"
            f" {len(loaded.open_pairs):,} open targets; loaded in {time.perf_counter() - t:.1f} s"
        )
        pairs = loaded.open_pairs
        random.Random(1).shuffle(pairs)
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            proc, port, log = start_server(url, workdir)
            base = {"port": port, "token": token, "tasks": args.tasks, "plans": loaded.plans,
                    "connections": args.connections, "seconds": args.seconds,
                    "warmup": args.warmup, "database": args.db_name}  # fmt: skip
            results: dict[str, list[Figures]] = {}
            used = 0
            # Each round takes at most this many targets for each write side.
            share = len(pairs) // (2 * args.rounds) - args.cli_runs
            for r in range(args.rounds):
                for scenario in ("bare", "root", "task", "list", "write"):
                    spec = {**base, "scenario": scenario, "seed": r}
                    if scenario == "write":
                        spec["pairs"], used = pairs[used : used + share], used + share
                    f = run_client(spec, workdir, proc.pid)
                    results.setdefault(scenario, []).append(f)
                    print(f"  round {r + 1} {scenario}: {f.rate:,.0f}/s, p50 {f.p50_ms:.1f} ms,"
                          f" p95 {f.p95_ms:.1f} ms")  # fmt: skip
                # The CLI's write path while the server is idle.
                f = cli_write_path(url, args.db_name, pairs[used : used + share], args.seconds)
                used += share
                results.setdefault("cli", []).append(f)
                print(f"  round {r + 1} cli: {f.rate:,.0f}/s, p50 {f.p50_ms:.1f} ms")
            command = cli_command(url, pairs[used : used + args.cli_runs], workdir)
            stop_server(proc)
            proc = None
            written = sum(f.written for k in ("write", "cli") for f in results[k])
            stored = count_results(url, pairs[:used])
            assert stored == written, (stored, written)
            serve_log = log.read_text().splitlines()
        report(args, results, command, serve_log)
    finally:
        if proc is not None:
            stop_server(proc)
        if not args.keep:
            drop_database(args.pg, args.db_name)


def report(
    args: argparse.Namespace,
    rounds: dict[str, list[Figures]],
    command: float | None,
    log: list[str],
) -> None:
    fig = {k: _median_figures(v) for k, v in rounds.items()}
    bare, task, lst, write, cli = (fig[k] for k in ("bare", "task", "list", "write", "cli"))
    label = {
        "bare": "bare Starlette JSON endpoint (baseline)",
        "root": "GET /api/v1/ (FastAPI + middleware, no DB)",
        "task": "GET /api/v1/tasks/{id}",
        "list": "GET /api/v1/tasks?state&plan&limit=50",
        "write": "POST /api/v1/tasks/{id}/results",
        "cli": "CLI write path: Workflow.set_result in-process",
    }
    print()
    print(f"{args.tasks:,} tasks, {args.connections} connections, {args.seconds:g} s per scenario,"
          f" {args.rounds} round(s) (medians); server: ssj serve --no-scheduler, 1 web process")  # fmt: skip
    print(f"{'':48} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7}"
          f" {'CPU ms/req: server':>19} {'client':>6} {'postgres':>8}")  # fmt: skip
    for k in ("bare", "root", "task", "list", "write", "cli"):
        f = fig[k]
        print(f"{label[k]:48} {f.rate:8,.0f} {f.p50_ms:7.1f} {f.p95_ms:7.1f}"
              f" {f.server_cpu_ms:19.3f} {f.client_cpu_ms:6.3f} {f.postgres_cpu_ms:8.3f}")  # fmt: skip
    if command is not None:
        print(f"{'the ssj result set command (a process each)':48} {1 / command:8,.2f}"
              f" {command * 1000:7.0f}")  # fmt: skip

    def per_round(a: str, b: str) -> str:
        return " / ".join(
            f"{x.rate / y.rate:.3f}" for x, y in zip(rounds[a], rounds[b], strict=True)
        )

    checks: list[tuple[str, float, str, bool, str]] = [
        ("task reads / bare endpoint", task.rate / bare.rate, ">= 0.3",
         task.rate >= 0.3 * bare.rate, per_round("task", "bare")),
        ("list p95 (ms)", lst.p95_ms, "< 100", lst.p95_ms < 100,
         " / ".join(f"{f.p95_ms:.1f}" for f in rounds["list"])),
        ("API writes / CLI write path", write.rate / cli.rate, ">= 0.5",
         write.rate >= 0.5 * cli.rate, per_round("write", "cli")),
    ]  # fmt: skip
    print()
    for name, value, goal, ok, each in checks:
        rounds_note = f"  (rounds: {each})" if args.rounds > 1 else ""
        print(f"{name:48} {value:8.3f}  goal {goal:7} {_verdict(ok)}{rounds_note}")
    for k in ("root", "list"):
        print(f"{k + ' rate / bare endpoint':48} {fig[k].rate / bare.rate:8.3f}")
    errors = sum(f.errors for f in fig.values())
    if errors:
        print(f"answers other than 200: {errors}")
    bad = [line for line in log if '"level": "error"' in line or "Traceback" in line]
    if bad:
        print(f"the server logged {len(bad)} errors, e.g. {bad[0][:300]}")


if __name__ == "__main__":
    main()
