"""Delivering the outbox: claim due messages, send them over one transport session, record the
outcome of each. Retries back off exponentially; a message that keeps failing goes dead, where
supervisors see it (``ssj outbox list --status dead``) and can put it back (``ssj outbox retry``).

Exactly once: a row is marked sent in its own commit right after the transport accepted it,
and the next claim skips it. A process killed between the two can resend that one message
after the lease; it carries the same Message-ID, so mail clients show it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from notifications import outbox, render
from notifications.transports import Rejected, Transport, TransportDown

log = structlog.get_logger("ssj.mail")


@dataclass(frozen=True)
class DeliveryPolicy:
    sender: str
    max_attempts: int = 8
    retry_base_seconds: int = 60
    retry_max_seconds: int = 3600
    batch: int = 500
    lease_seconds: int = 300
    timezone: str = "Asia/Shanghai"


@dataclass
class DeliveryResult:
    mails: int = 0  # e-mails handed to the transport (a digest is one)
    messages: int = 0  # outbox rows they carried
    failed: int = 0  # rows that failed this run and will be retried
    dead: int = 0  # rows that failed for the last time
    error: str | None = None  # why the transport stopped, if it did

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _utc(dt: datetime) -> str:
    # Same fixed-width text as the rest of the database (workflow.core.clock.format_utc).
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _groups(rows: list[outbox.Row]) -> list[list[outbox.Row]]:
    """One mail per row, except digest rows: one mail per recipient."""
    singles: list[list[outbox.Row]] = []
    digests: dict[str, list[outbox.Row]] = {}
    for r in rows:
        if r.digest:
            digests.setdefault(r.recipient, []).append(r)
        else:
            singles.append([r])
    return singles + list(digests.values())


def _compose(group: list[outbox.Row], policy: DeliveryPolicy, now: datetime):  # type: ignore[no-untyped-def]
    first = group[0]
    keys = [r.key for r in group]
    if first.digest:
        day = now.astimezone(ZoneInfo(policy.timezone)).date().isoformat()
        context = {
            "recipient_name": first.recipient_name,
            "day": day,
            "items": [r.context for r in group],
        }
        template = "digest"
    else:
        context = {"recipient_name": first.recipient_name, **first.context}
        template = first.template
    return render.build(
        policy.sender, first.recipient, first.recipient_name, template, context, keys, now
    )


def deliver(
    db: outbox.Db,
    transport: Transport,
    policy: DeliveryPolicy,
    now: datetime,
    on_sent: Callable[[list[outbox.Row]], None] | None = None,
) -> DeliveryResult:
    """Send every message due at ``now``. Never raises for a transport problem: the result
    says what happened and the rows wait for their next attempt."""
    result = DeliveryResult()
    now_text = _utc(now)

    def retry_at(attempts: int) -> str:
        delay = min(policy.retry_base_seconds * 2 ** (attempts - 1), policy.retry_max_seconds)
        return _utc(now + timedelta(seconds=delay))

    lease = _utc(now + timedelta(seconds=policy.lease_seconds))
    try:
        while result.error is None:
            rows = outbox.claim(db, now_text, lease, policy.batch)
            if not rows:
                break
            groups = _groups(rows)
            for i, group in enumerate(groups):
                try:
                    transport.send(_compose(group, policy, now))
                except Rejected as e:
                    result.dead += outbox.mark_failed(
                        db, [(r, str(e)) for r in group], now_text, retry_at, policy.max_attempts
                    )
                    result.failed += len(group)
                    continue
                except TransportDown as e:
                    # The tried message counts an attempt; the untried ones wait as long
                    # without one, so an outage does not use up the whole queue's attempts.
                    result.error = str(e)
                    dead = outbox.mark_failed(
                        db, [(r, str(e)) for r in group], now_text, retry_at, policy.max_attempts
                    )
                    result.dead += dead
                    result.failed += len(group) - dead
                    untried = [r for g in groups[i + 1 :] for r in g]
                    wait = retry_at(group[0].attempts + 1)
                    outbox.release(db, untried, wait, str(e))
                    result.failed += len(untried)
                    break
                outbox.mark_sent(db, [r.id for r in group], now_text)
                result.mails += 1
                result.messages += len(group)
                if on_sent is not None:
                    on_sent(group)
    finally:
        transport.close()
    log.info(
        "outbox delivered",
        transport=transport.name,
        mails=result.mails,
        messages=result.messages,
        failed=result.failed,
        dead=result.dead,
        error=result.error,
    )
    return result
