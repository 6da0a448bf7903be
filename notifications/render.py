"""Mail rendering: Jinja2 templates in Chinese, plain text and HTML, one subject line.

A template ``NAME`` is three files under templates/: NAME.subject.j2, NAME.txt.j2 and
NAME.html.j2 (autoescaped). ``digest`` bundles several items for one recipient.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_ENV = Environment(
    loader=PackageLoader("notifications", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,  # a missing field is a bug, not a blank in a mail
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of one message."""
    subject = _ENV.get_template(f"{template}.subject.j2").render(context).strip()
    text = _ENV.get_template(f"{template}.txt.j2").render(context)
    html = _ENV.get_template(f"{template}.html.j2").render(context)
    return " ".join(subject.split()), text, html


def message_id(keys: list[str]) -> str:
    """A Message-ID derived from the outbox keys, so a resend is recognisably the same mail."""
    digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:40]
    return f"<{digest}@ssj.outbox>"


def build(
    sender: str,
    recipient: str,
    recipient_name: str,
    template: str,
    context: dict[str, Any],
    keys: list[str],
    date: Any,
) -> EmailMessage:
    subject, text, html = render(template, context)
    msg = EmailMessage()
    name, addr = parseaddr(sender)
    msg["From"] = formataddr((name, addr))
    msg["To"] = formataddr((recipient_name, recipient))
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id(keys)
    msg["X-SSJ-Keys"] = str(len(keys))
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
