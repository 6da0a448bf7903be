"""Where messages go: an SMTP server (production) or a Maildir (the embedded default).

A transport is opened once per delivery run and reused for every message (one SMTP session,
not one per mail). ``TransportDown`` means nothing can be sent now (server unreachable);
``Rejected`` means this one message was refused.
"""

from __future__ import annotations

import contextlib
import mailbox
import smtplib
import ssl
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Protocol


class TransportDown(Exception):
    """The transport cannot take any message now."""


class Rejected(Exception):
    """The transport refused this message."""


class Transport(Protocol):
    name: str

    def describe(self) -> str: ...

    def open(self) -> None: ...

    def send(self, msg: Message) -> None: ...

    def close(self) -> None: ...


@dataclass
class SmtpConfig:
    host: str
    port: int
    security: str = "none"  # none | starttls | ssl
    user: str = ""
    password: str | None = None
    timeout: float = 30.0


class SmtpTransport:
    name = "smtp"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def describe(self) -> str:
        c = self.config
        return f"SMTP {c.host}:{c.port}（{c.security}）"

    def open(self) -> None:
        c = self.config
        try:
            if c.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if c.user:
                smtp.login(c.user, c.password or "")
        except smtplib.SMTPAuthenticationError as e:
            raise TransportDown(f"SMTP 登录失败（用户 {c.user}）：{e}") from e
        except (OSError, smtplib.SMTPException) as e:
            raise TransportDown(f"无法连接 SMTP 服务器 {c.host}:{c.port}：{e}") from e
        self._smtp = smtp

    def send(self, msg: Message) -> None:
        if self._smtp is None:
            self.open()
        assert self._smtp is not None
        try:
            self._smtp.send_message(msg)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as e:
            raise Rejected(f"SMTP 服务器拒收：{e}") from e
        except smtplib.SMTPDataError as e:
            if 500 <= e.smtp_code < 600:
                raise Rejected(f"SMTP 服务器拒收：{e.smtp_code} {e.smtp_error!r}") from e
            self._drop()
            raise TransportDown(f"SMTP 服务器暂时不可用：{e.smtp_code} {e.smtp_error!r}") from e
        except (OSError, smtplib.SMTPException) as e:
            self._drop()
            raise TransportDown(f"SMTP 连接中断：{e}") from e

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (TimeoutError, OSError, smtplib.SMTPException):
                smtp.close()


class MaildirTransport:
    """Each message a file in a Maildir (new/): readable with any mail client or ``cat``."""

    name = "maildir"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._box: mailbox.Maildir | None = None

    def describe(self) -> str:
        return f"Maildir {self.path.resolve()}"

    def open(self) -> None:
        try:
            # Maildir(create=True) makes only the last directory (and its new/cur/tmp only
            # when it makes that one): data/mail on a fresh clone needs data/ too.
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._box = mailbox.Maildir(self.path, create=True)
        except OSError as e:
            raise TransportDown(f"无法打开邮件目录 {self.path}：{e.strerror}") from e

    def send(self, msg: Message) -> None:
        if self._box is None:
            self.open()
        assert self._box is not None
        try:
            self._box.add(msg)
        except OSError as e:
            raise TransportDown(f"无法写入邮件目录 {self.path}：{e.strerror}") from e

    def close(self) -> None:
        self._box = None
