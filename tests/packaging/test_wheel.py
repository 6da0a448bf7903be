"""The wheel carries what the service reads at run time, and an installed copy reads the same
defaults as the checkout (issue #9 §6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: the test extras hold setuptools>=77, so no index is needed; -v to see
    # setuptools' warnings, which must be none.
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "-w", str(out), "-v"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    noise = [
        line
        for line in (r.stdout + r.stderr).splitlines()
        if ("warn" in line.lower() or "deprecat" in line.lower())
        and "byte-compiling is disabled" not in line  # pip's own, not the project's
    ]
    assert noise == []
    (found,) = out.glob("ssj-*.whl")
    return found


def test_the_wheel_holds_the_defaults_the_migrations_and_the_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "workflow/core/defaults.yaml" in names
    assert (
        "workflow/core/migrations/env.py" in names
        and "workflow/core/migrations/script.py.mako" in names
    )
    migrations = {Path(n).name for n in names if n.startswith("workflow/core/migrations/versions/")}
    shipped = {p.name for p in (ROOT / "workflow/core/migrations/versions").glob("0*.py")}
    assert shipped and shipped <= migrations
    templates = {p.name for p in (ROOT / "notifications/templates").glob("*.j2")}
    assert {f"notifications/templates/{t}" for t in templates} <= names
    assert (
        zipfile.ZipFile(wheel).read("workflow/core/defaults.yaml")
        == (ROOT / "workflow/core/defaults.yaml").read_bytes()
    )


def test_an_installed_wheel_run_elsewhere_reads_the_packaged_defaults(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    r = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
         str(site), str(wheel)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSJ_") and k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)  # the installed copy first; its dependencies from this venv
    r = subprocess.run(
        [sys.executable, "-c", "from workflow.cli.main import main; main()", "config", "show",
         "--json"],
        capture_output=True, text=True, cwd=elsewhere, env=env, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = {x["key"]: x for x in json.loads(r.stdout)}
    packaged = site / "workflow" / "core" / "defaults.yaml"
    assert rows["db.url"] == {
        "key": "db.url",
        "value": "sqlite:///data/ssj.db",
        "source": f"默认配置 {packaged}",
    }
    assert rows["escalation.supervisor_name"]["source"] == f"默认配置 {packaged}"
    # The same effective settings as the checkout's.
    from workflow.core.config import load_settings

    here = load_settings(ROOT / "config.yaml", env={})
    expected: dict[str, object] = {}
    for section, values in here.model_dump(mode="json").items():
        if isinstance(values, dict):
            expected.update({f"{section}.{key}": value for key, value in values.items()})
        else:  # a top-level list such as clerks
            expected[section] = values
    assert {k: v["value"] for k, v in rows.items() if k != "smtp.password"} == expected
