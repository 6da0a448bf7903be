"""A writer that runs until killed: the crash test SIGKILLs it at random moments."""

from __future__ import annotations

import contextlib
import random
import sys

from workflow.config import DbSettings
from workflow.credit_code import make
from workflow.db import make_engine
from workflow.engine import Workflow
from workflow.errors import InvalidInput


def main(url: str, seed: int) -> None:
    rng = random.Random(seed)
    wf = Workflow(make_engine(DbSettings(), url))
    with contextlib.suppress(InvalidInput):
        wf.create_plan("2024001", unit="迁西县人社局", actor="worker")
    n = 0
    while True:
        t = wf.create_task("2024001", name=f"崩溃测试 {seed}", actor="worker")
        codes = [make("130227", seed * 1_000_000 + t * 10 + i) for i in range(rng.randint(1, 3))]
        for c in codes:
            wf.add_record(t, c, target_name="对象", inspectors=["J1", "J2"], actor="worker")
        wf.fire(t, "draw", actor="worker")
        for c in codes:
            wf.set_result(t, c, rng.choice(["no_problem", "problem"]), actor="worker")
            print(f"step {n}", flush=True)
            n += 1
        wf.fire(t, "inspect", actor="worker")
        wf.publish(t, place="网站", actor="worker")
        wf.fire(t, "publicize", actor="worker")
        print(f"step {n}", flush=True)
        n += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
