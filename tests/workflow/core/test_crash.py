"""SIGKILL a writer at random moments: no half-applied transition, chain intact, replay equal."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from workflow.core import audit, schema
from workflow.core.config import DbSettings
from workflow.core.db import RawConnection, make_engine
from workflow.core.replay import replay

pytestmark = pytest.mark.slow  # declared in pyproject.toml: `pytest -m 'not slow'` skips

ROOT = Path(__file__).resolve().parents[3]


def test_sigkill_at_random_moments_leaves_a_consistent_database(db_url):
    engine = make_engine(DbSettings(), db_url)
    schema.upgrade(engine)
    rng = random.Random(20241)
    for run in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.workflow.core.crash_worker", db_url, str(run + 1)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        # Kill after a random number of progress lines: the worker is then somewhere inside
        # its next transactions, at a point the test does not choose.
        for _ in range(rng.randint(1, 40)):
            if not proc.stdout.readline():
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        proc.stdout.close()
        raw = RawConnection(engine)
        try:
            v = audit.verify_db(raw)
            assert v.ok, v
            r = replay(raw)
            assert r.ok, r.mismatches
            assert v.events > 0
        finally:
            raw.close()
    engine.dispose()
