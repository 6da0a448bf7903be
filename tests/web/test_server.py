"""``ssj serve``: the web service and the scheduler in one process, stopped cleanly by
``--exit-after`` or SIGTERM; several worker processes that get the settings and the database
from the process that starts them; the listening address checked before anything starts."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import free_port
from web import app_from_environment
from web._server import DB_URL_ENV, SETTINGS_ENV, base_url, listen
from workflow.cli.main import app
from workflow.core.config import Settings, load_settings
from workflow.core.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"mail: {{transport: maildir, maildir: {tmp_path / 'mail'}}}\nlog: {{format: json}}\n",
        encoding="utf-8",
    )
    return path


def _env() -> dict[str, str]:
    # The service reads only what the test gives it (--db, --config), not the caller's SSJ_*.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SSJ_", "_SSJ_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    """Start ``ssj serve`` with the given arguments; whatever a test leaves running is
    killed at the end (each test stops its own first)."""
    procs: list[subprocess.Popen[str]] = []

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workflow.cli.main", *args],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env or _env(),
        )
        procs.append(proc)
        return proc

    yield run
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.communicate()


def _listening_at(proc: subprocess.Popen[str]) -> tuple[str, list[str]]:
    """The URL the service says it listens at, read from its start-up lines."""
    assert proc.stdout is not None
    head: list[str] = []
    for line in proc.stdout:
        head.append(line)
        if "按 Ctrl-C 停止" in line:
            break
    text = "".join(head)
    m = re.search(r"网页与接口：(http://\S+?)/（", text)
    assert m, text + (proc.stderr.read() if proc.stderr and proc.poll() is not None else "")
    return m.group(1), head


def _get_when_up(url: str, seconds: float = 30) -> httpx.Response:
    """GET ``url`` as soon as it answers 200 (worker processes come up after the start-up
    lines), giving up after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            r = httpx.get(url, timeout=5)
            if r.status_code == 200 or time.monotonic() > deadline:
                return r
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def test_serve_answers_while_it_runs_and_exits_0_after_exit_after(
    engine, db_url: str, cfg: Path, start
) -> None:  # type: ignore[no-untyped-def]
    proc = start("--db", db_url, "--config", str(cfg), "serve", "--port", "0", "--exit-after", "4")
    url, head = _listening_at(proc)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url) and not url.endswith(":0")
    health = httpx.get(f"{url}/healthz", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert httpx.get(f"{url}/readyz", timeout=10).json() == {"status": "ready"}
    assert httpx.get(f"{url}/api/v1/", timeout=10).json()["service"] == "ssj"
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    out = "".join(head) + out
    assert f"接口说明 {url}/api/v1/openapi.json" in out and f"健康检查 {url}/healthz" in out
    assert "定时任务：每 5 分钟巡检一次" in out
    assert "ssj 服务已停止（本次共巡检 1 次）" in out  # the start-up sweep ran, then it stopped
    assert '"event": "scheduler stopped"' in err and '"event": "web stopped"' in err
    assert '"path": "/healthz"' in err  # the access log, in the service's own log
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/healthz", timeout=2)


def test_serve_stops_cleanly_on_sigterm(engine, db_url: str, cfg: Path, start) -> None:  # type: ignore[no-untyped-def]
    proc = start(
        "--db", db_url, "--config", str(cfg), "serve", "--port", "0", "--exit-after", "120"
    )
    url, _ = _listening_at(proc)
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "ssj 服务已停止" in out
    assert '"signal": "SIGTERM"' in err and '"event": "scheduler stopped"' in err


def test_several_workers_get_the_database_and_settings_of_the_process_that_starts_them(
    engine, db_url: str, cfg: Path, start
) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**_env(), "SSJ_WEB_WORKERS": "2"}
    proc = start(
        "--db", db_url, "--config", str(cfg), "serve", "--no-scheduler",
        "--host", "127.0.0.1", "--port", str(port), "--exit-after", "120",
        env=env,
    )  # fmt: skip
    url, head = _listening_at(proc)
    assert url == f"http://127.0.0.1:{port}"
    assert "2 个网页进程" in "".join(head) and "不在本进程运行" in "".join(head)
    # Ready only if the workers reach the database given with --db (not the default
    # sqlite:///data/ssj.db, which is not there in the working directory).
    assert _get_when_up(f"{url}/readyz").json() == {"status": "ready"}
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "ssj 服务已停止。" in out and "巡检" not in out.split("按 Ctrl-C 停止")[-1]
    assert '"path": "/readyz"' in err  # the workers log as configured (JSON lines)


def test_serve_refuses_an_address_it_cannot_have_before_starting_anything(
    engine, db_url: str, cfg: Path
) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = runner.invoke(app, ["--db", db_url, "--config", str(cfg), "serve", "--port", str(port)])
    assert r.exit_code == 2 and f"无法在 127.0.0.1:{port} 上监听：端口已被占用" in r.output
    bad = [
        (["--host", "http://x"], "--host 监听地址 'http://x' 无效"),
        (["--host", "1.2.3.4:80"], "不含协议、端口和路径"),
        (["--port", "70000"], "--port 70000 无效：应为 0 到 65535 之间的端口号"),
        (["--port", "-1"], "--port -1 无效"),
    ]
    for args, message in bad:
        r = runner.invoke(app, ["--db", db_url, "--config", str(cfg), "serve", *args])
        assert r.exit_code == 2 and message in r.output, (args, r.output)


def test_serve_on_an_uninitialised_database_says_so(tmp_path: Path, cfg: Path) -> None:
    db = f"sqlite:///{tmp_path / 'none.db'}"
    r = runner.invoke(app, ["--db", db, "--config", str(cfg), "serve", "--port", "0"])
    assert r.exit_code == 2 and "不存在" in r.output and "ssj init" in r.output
    assert not (tmp_path / "none.db").exists()


def test_serve_help_says_where_it_serves() -> None:
    r = runner.invoke(app, ["serve", "--help"], terminal_width=200)
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    assert "http://HOST:PORT" in text and "定时任务" in text
    assert "--no-scheduler" in text and "--exit-after" in text


def test_listen_binds_a_free_port_and_refuses_a_name_it_cannot_resolve() -> None:
    sock = listen("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0 and sock.get_inheritable()
    finally:
        sock.close()
    with pytest.raises(InvalidInput) as e:
        listen("no-such-host.invalid", 8000)
    assert e.value.fields["field"] == "web.host"
    assert base_url("::1", 8000) == "http://[::1]:8000"
    assert base_url("0.0.0.0", 80) == "http://0.0.0.0:80"


def _bureau_settings(tmp_path: Path) -> Settings:
    path = tmp_path / "bureau.yaml"
    path.write_text(
        """
calendar: {years: {2099: {holidays: [2099-01-01], workdays: [2099-01-03]}}}
offices: {稽查科: {head: 赵科长, email: jck@bureau.test}}
draw: {grade_min_ratio: {D: "0.30"}, general_ratio_ceiling: "0.5"}
web: {port: 8123, workers: 3}
""",
        encoding="utf-8",
    )
    return load_settings(path, env={})


def test_settings_reach_a_worker_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, json_logs: None
) -> None:
    settings = _bureau_settings(tmp_path)
    monkeypatch.setenv(SETTINGS_ENV, settings.model_dump_json())
    monkeypatch.setenv(DB_URL_ENV, "postgresql://ssj@db.bureau.test/ssj")
    # Not read: the process that started the worker has said everything.
    monkeypatch.setenv("SSJ_WEB_PORT", "9999")
    built = app_from_environment()
    ctx = built.state.ctx
    assert ctx.settings == settings and ctx.settings.calendar.years[2099].workdays
    assert ctx.db_url == "postgresql://ssj@db.bureau.test/ssj"


def test_a_worker_started_by_another_server_reads_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, json_logs: None
) -> None:
    monkeypatch.delenv(SETTINGS_ENV, raising=False)
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    monkeypatch.setenv("SSJ_DB_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("SSJ_WEB_PORT", "9001")
    monkeypatch.chdir(tmp_path)
    ctx = app_from_environment().state.ctx
    assert ctx.db_url == f"sqlite:///{tmp_path / 'x.db'}" and ctx.settings.web.port == 9001
