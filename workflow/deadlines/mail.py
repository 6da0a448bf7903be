"""The mail side of the settings: which transport, which delivery policy (notifications/ knows
nothing of config.yaml)."""

from __future__ import annotations

from notifications import DeliveryPolicy, MaildirTransport, SmtpConfig, SmtpTransport, Transport
from workflow.core.config import Settings


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
