"""Email's transport: SMTP (STARTTLS, TLS or plain), each failure sorted into retry or give up."""

from __future__ import annotations

import logging
import smtplib
import ssl
from pathlib import Path

from monitor.delivery.channels.base import Message, NotifyError
from monitor.delivery.channels.email.render import build_email
from monitor.delivery.channels.markup import redact

log = logging.getLogger("monitor.delivery.channels.email")

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "plain": 25}


class EmailNotifier:
    """Sends each message as one mail to every recipient of the channel."""

    def __init__(
        self,
        *,
        host: str,
        sender: str,
        recipients: list[str],
        port: int | None = None,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        ca_file: Path | str | None = None,
        name: str = "email",
    ) -> None:
        if security not in DEFAULT_PORTS:
            raise ValueError(f"security must be one of {', '.join(DEFAULT_PORTS)}")
        if not recipients:
            raise ValueError("an email channel needs at least one recipient")
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.security = security
        self.username = username
        self.password = password
        self.sender = sender
        self.recipients = list(recipients)
        self.timeout = timeout
        self.ca_file = str(ca_file) if ca_file else None
        self.name = name

    def __repr__(self) -> str:
        return (
            f"EmailNotifier({self.name!r}, {self.security}://{self.host}:{self.port}, "
            f"{len(self.recipients)} recipient(s))"
        )

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.ehlo()
                smtp.starttls(context=self._context())
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: Message) -> None:
        mail = build_email(message, self.sender, self.recipients)
        what = f"email channel {self.name!r} ({self.host}:{self.port}): message {message.key}"
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(mail, self.sender, self.recipients)
        except Exception as exc:  # sorted into retry or give up below
            error = _classify(exc, what)
            error.args = (redact(str(error), [self.password]),)
            if not error.retryable:
                log.error("%s", error)
            raise error from None
        if refused:  # some recipients took it: a retry would send them a duplicate
            listing = ", ".join(
                f"{addr} ({code} {_text(msg)})" for addr, (code, msg) in refused.items()
            )
            log.warning("%s: refused for %s", what, listing)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _classify(exc: Exception, what: str) -> NotifyError:
    """An SMTP failure as retryable (4xx, network, timeouts) or permanent (5xx, TLS, config)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        listing = ", ".join(f"{a}: {c} {_text(m)}" for a, (c, m) in exc.recipients.items())
        retry = all(400 <= c < 500 for c in codes)
        return NotifyError(f"{what}: every recipient refused: {listing}", retryable=retry)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        text = _text(exc.smtp_error)
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            text = f"authentication failed: {text}"
        return NotifyError(f"{what}: SMTP {code} {text}", retryable=400 <= code < 500)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return NotifyError(f"{what}: the server does not support it: {exc}", retryable=False)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return NotifyError(f"{what}: the server closed the connection: {exc}", retryable=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return NotifyError(f"{what}: TLS certificate not trusted: {exc.verify_message}", False)
    if isinstance(exc, ssl.SSLError):
        return NotifyError(f"{what}: TLS error: {exc.reason or exc}", retryable=True)
    if isinstance(exc, smtplib.SMTPException):
        return NotifyError(f"{what}: SMTP error: {exc}", retryable=True)
    if isinstance(exc, TimeoutError):
        return NotifyError(f"{what}: timed out", retryable=True)
    if isinstance(exc, OSError):
        return NotifyError(f"{what}: cannot connect: {exc.strerror or exc}", retryable=True)
    return NotifyError(f"{what}: {type(exc).__name__}: {exc}", retryable=False)
