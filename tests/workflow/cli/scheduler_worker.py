"""``ssj scheduler`` with its clock fixed, for the scheduler test: the service's sweeps run as
of the given time whatever the machine's date is (the scheduler's own timers stay real)."""

from __future__ import annotations

import sys

from workflow.app import AppContext
from workflow.core.clock import FixedClock, parse_time
from workflow.core.config import load_settings
from workflow.core.logging import configure_logging
from workflow.deadlines import scheduler


def main(db_url: str, config: str, now: str) -> None:
    settings = load_settings(config)
    configure_logging(settings.log)
    a = AppContext(settings, db_url)
    a.clock = FixedClock(parse_time(now, settings.calendar.timezone), tick_us=1000)
    scheduler.serve(a, echo=lambda text: print(text, flush=True))


if __name__ == "__main__":
    main(*sys.argv[1:4])
