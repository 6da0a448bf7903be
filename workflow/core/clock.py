"""The injectable clock: production reads the system time, tests and ``--now`` fix it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; ``tick`` advances it on every read (tests)."""

    def __init__(self, at: datetime, tick_us: int = 0) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)
        self._tick_us = tick_us

    def now(self) -> datetime:
        from datetime import timedelta

        at = self._at
        if self._tick_us:
            self._at = at + timedelta(microseconds=self._tick_us)
        return at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)


def parse_time(text: str, default_tz: str = "Asia/Shanghai") -> datetime:
    """ISO 8601 → aware UTC datetime; a time without offset is read in ``default_tz``."""
    from zoneinfo import ZoneInfo

    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as e:
        raise ValueError(
            f"时间格式无效：{text!r}（应为 ISO 8601，如 2024-04-01T09:00:00+08:00）"
        ) from e
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(default_tz))
    return dt.astimezone(UTC)


def format_utc(dt: datetime) -> str:
    """The one stored text form of an instant: fixed width, so strings sort as times do.

    "2024-04-01T08:00:00.000000Z"; isoformat is several times faster than strftime here.
    """
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
