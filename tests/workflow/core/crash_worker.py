"""A writer that runs until killed: the crash test SIGKILLs it at random moments."""

from __future__ import annotations

import random
import sys

from tests.conftest import drawn_task
from workflow.core.config import DbSettings
from workflow.core.db import make_engine
from workflow.core.writer import Workflow
from workflow.deadlines.calendar import WorkCalendar


def main(url: str, seed: int) -> None:
    rng = random.Random(seed)
    wf = Workflow(make_engine(DbSettings(), url), calendar=WorkCalendar(), clerks=("worker",))
    n = 0
    while True:
        # The whole path: directory import, plan publication, the draw (several transactions).
        t, codes = drawn_task(wf, rng.randint(1, 3))
        print(f"step {n}", flush=True)
        n += 1
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
