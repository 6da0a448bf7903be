"""Mail rendering: Jinja2 templates in Chinese, plain text and HTML, one subject line.

A template ``NAME`` is three files under templates/: NAME.subject.j2, NAME.txt.j2 and
NAME.html.j2 (autoescaped). ``digest`` bundles several items for one recipient.
"""

from __future__ import annotations

import hashlib
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
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
) -> Message:
    """A multipart/alternative message (text, then HTML), UTF-8, headers RFC 2047-encoded.

    Built with the compat32 MIME classes: the ``EmailMessage`` API re-parses and re-folds
    every header on the way out, which took half the time of an SMTP delivery (measured,
    bench/sweep.py); the bytes on the wire are standard either way."""
    subject, text, html = render(template, context)
    msg = MIMEMultipart("alternative")
    name, addr = parseaddr(sender)
    msg["From"] = formataddr((name, addr), charset="utf-8")
    msg["To"] = formataddr((recipient_name, recipient), charset="utf-8")
    # compat32 takes a Header object (encoded when flattened); typeshed allows str only.
    msg["Subject"] = Header(subject, "utf-8")  # type: ignore[assignment]
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id(keys)
    msg["X-SSJ-Keys"] = str(len(keys))
    msg.attach(MIMEText(text, "plain", "utf-8"))
    msg.attach(MIMEText(html, "html", "utf-8"))
    return msg
