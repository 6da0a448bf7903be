"""The mail side of the settings: which transport, which delivery policy (notifications/ knows
nothing of config.yaml); and the mail queue as people see it — listed and retried under the
same rules from the command line and the API. The queue is the whole database's (no unit owns
a message): it is for the accounts of the root unit (``units.require_whole``)."""

from __future__ import annotations

from typing import Any

from notifications import (
    DeliveryPolicy,
    MaildirTransport,
    SmtpConfig,
    SmtpTransport,
    Transport,
    outbox,
)
from workflow.core import units
from workflow.core.config import Settings
from workflow.core.db import RawConnection
from workflow.core.errors import InvalidInput, NotFound
from workflow.core.identity import Actor


def transport(settings: Settings) -> Transport:
    if settings.mail.transport == "maildir":
        return MaildirTransport(settings.mail.maildir)
    s = settings.smtp
    return SmtpTransport(
        SmtpConfig(
            host=s.host,
            port=s.port,
            security=s.security,
            user=s.user,
            password=s.password(),
            timeout=s.timeout_seconds,
        )
    )


def policy(settings: Settings) -> DeliveryPolicy:
    m = settings.mail
    return DeliveryPolicy(
        sender=m.sender,
        max_attempts=m.max_attempts,
        retry_base_seconds=m.retry_base_seconds,
        retry_max_seconds=m.retry_max_seconds,
        batch=m.batch,
        lease_seconds=m.lease_seconds,
        timezone=settings.calendar.timezone,
    )


def describe(settings: Settings) -> str:
    return transport(settings).describe()


def queue(
    raw: RawConnection,
    *,
    status: str | None = None,
    after: int | None = None,
    limit: int = 1000,
    by: Actor | None = None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The messages (``status``: pending / sending / sent / dead; ``after``: ids above it) and
    the count of each status."""
    if status is not None and status not in outbox.STATUSES:
        raise InvalidInput(
            f"状态 {status!r} 无效：应为 " + " / ".join(outbox.STATUSES),
            field="status",
            value=status,
        )
    _require_whole(raw, by)
    return outbox.listing(raw, status, limit, after), outbox.counts(raw)


def retry(
    raw: RawConnection, outbox_id: int, now: str, *, by: Actor | None = None, dry_run: bool = False
) -> str:
    """Put a dead (or failing) message back in line now; its status before. ``dry_run``: say
    what would happen, write nothing. A sent message or one being sent is refused."""
    _require_whole(raw, by)
    try:
        if dry_run:
            with raw.read() as cur:
                cur.execute(raw.sql("SELECT status FROM outbox WHERE id = ?"), (outbox_id,))
                row = cur.fetchone()
            if row is None:
                raise LookupError(outbox_id)
            before = str(row[0])
        else:
            before = outbox.retry(raw, outbox_id, now)  # changes a pending or dead one only
    except LookupError:
        raise NotFound(f"邮件 {outbox_id} 不存在", field="outbox_id", value=outbox_id) from None
    if before == "sent":
        raise InvalidInput(f"邮件 {outbox_id} 已发送，无需重发", field="outbox_id", value=outbox_id)
    if before == "sending":
        raise InvalidInput(
            f"邮件 {outbox_id} 正在发送中，请稍后再看", field="outbox_id", value=outbox_id
        )
    return before


def _require_whole(raw: RawConnection, by: Actor | None) -> None:
    if by is not None:
        with raw.read() as cur:
            units.require_whole(cur, raw.sql, by, "邮件队列")
