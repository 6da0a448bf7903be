"""Notifications: the transactional outbox, Jinja2 mail (Chinese, text and HTML), delivery over
SMTP or to a Maildir with retries, back-off and a dead-letter state.

It never imports ``workflow``: the engine enqueues messages in its own transactions through
``enqueue`` and runs ``deliver`` afterwards.
"""

from notifications.delivery import DeliveryPolicy, DeliveryResult, deliver
from notifications.outbox import Message, Outbox, enqueue
from notifications.transports import (
    MaildirTransport,
    Rejected,
    SmtpConfig,
    SmtpTransport,
    Transport,
    TransportDown,
)

__all__ = [
    "DeliveryPolicy",
    "DeliveryResult",
    "MaildirTransport",
    "Message",
    "Outbox",
    "Rejected",
    "SmtpConfig",
    "SmtpTransport",
    "Transport",
    "TransportDown",
    "deliver",
    "enqueue",
]
