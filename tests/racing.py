"""Racing writers: the same action from several threads at once, each with its own Workflow
(its own connection), released together by a barrier. One helper for every race in the suite."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from workflow.core.clock import Clock
from workflow.core.writer import Workflow
from workflow.deadlines.calendar import WorkCalendar

T = TypeVar("T")


def race(
    engine: Any, act: Callable[[Workflow, int], T], *, writers: int = 2, clock: Clock | None = None
) -> list[T | BaseException]:
    """Run ``act(workflow, n)`` in ``writers`` threads at once; each outcome is what ``act``
    returned or the exception it raised, in the order the threads finished."""
    barrier = threading.Barrier(writers)
    outcomes: list[T | BaseException] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        w = Workflow(engine, calendar=WorkCalendar(), clock=clock)
        try:
            barrier.wait()
            out: T | BaseException = act(w, n)
        except BaseException as e:  # reported to the test, which decides what is expected
            out = e
        finally:
            w.close()
        with lock:
            outcomes.append(out)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(writers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return outcomes
