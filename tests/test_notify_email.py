"""Email against a real SMTP server (aiosmtpd) on 127.0.0.1: plain, STARTTLS, implicit TLS and
AUTH, parsing what it received: headers, both parts, threading headers, escaping."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.delivery.channels.base import NotifyError
from monitor.delivery.channels.email import EmailNotifier
from monitor.delivery.channels.email.render import message_id, thread_id
from tests.test_notify_slack import HOSTILE, alert, citation, message

USER, PASSWORD = "monitor", "s3cret-pw"
RECIPIENTS = ["analyst1@example.org", "analyst2@example.org"]


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every mail and can refuse recipients with a code."""

    mails: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse_rcpt: str = ""  # e.g. "450 mailbox busy" or "550 no such user"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command line."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not found")
    folder = tmp_path_factory.mktemp("tls")
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(crt),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    return crt, key


def _tls(cert: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)
    return context


@dataclass
class Server:
    inbox: Inbox
    port: int


def _serve(inbox: Inbox, **kwargs) -> Iterator[Server]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield Server(inbox, port)
    finally:
        controller.stop()


@pytest.fixture
def plain() -> Iterator[Server]:
    yield from _serve(Inbox())


@pytest.fixture
def starttls(cert) -> Iterator[Server]:
    yield from _serve(
        Inbox(),
        tls_context=_tls(cert),
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )


@pytest.fixture
def implicit_tls(cert) -> Iterator[Server]:
    yield from _serve(Inbox(), ssl_context=_tls(cert), server_hostname="127.0.0.1")


def notifier(server: Server, security: str = "plain", **kw) -> EmailNotifier:
    return EmailNotifier(
        host="127.0.0.1",
        port=server.port,
        security=security,
        sender="Sanctions monitor <monitor@example.org>",
        recipients=RECIPIENTS,
        timeout=5,
        **kw,
    )


def parts(mail: EmailMessage) -> tuple[str, str]:
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    return text, html


def test_plain_smtp_new_message(plain: Server) -> None:
    msg = message([alert([citation(1), citation(2)])], key="st-1:mail:new:1", channel="mail")
    notifier(plain).send(msg)
    [(rcpts, mail)] = plain.inbox.mails
    assert rcpts == RECIPIENTS
    # .strip(): CPython folds a subject that fits one continuation line right after "Subject:"
    # and its parser keeps the fold's space; mail clients show the same subject either way
    assert mail["Subject"].strip() == (
        "[HIGH] dprk-overseas-labor: Russia lets in thousands of North Korean workers"
    )
    assert mail["To"] == ", ".join(RECIPIENTS)
    assert mail["Message-ID"] == message_id(msg) == "<ecc51d3846120a02504101d3@sanctions-monitor>"
    assert mail["References"] == "<story-st-1.mail@sanctions-monitor>" == thread_id("st-1", "mail")
    assert mail["In-Reply-To"] is None
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = parts(mail)
    assert "Outlet 1: Report number 1" in text and "https://news.example/2" in text
    assert "> Russia issued 1 new *work permits* to North Korean workers." in text
    assert "2019-08-02 09:40 UTC" in text
    assert ">work permits</strong>" in html
    assert '<a href="https://news.example/1"' in html
    assert "<img" not in html and "<script" not in html and "<link" not in html
    assert "<style" not in html  # inline CSS only


def test_update_threads_under_the_first_message(plain: Server) -> None:
    a = alert([citation(1), citation(2)])
    update = message([a], kind="update", key="st-1:mail:update:2", channel="mail",
                     new_sources={a.id: ["c2"]})  # fmt: skip
    notifier(plain).send(update)
    [(_, mail)] = plain.inbox.mails
    root = "<story-st-1.mail@sanctions-monitor>"
    assert mail["In-Reply-To"] == root and mail["References"] == root
    assert mail["Message-ID"] == message_id(update) != root  # stable: derived from the key
    assert mail["Subject"].strip().startswith("Re: [HIGH] dprk-overseas-labor:")
    text, html = parts(mail)
    assert "Outlet 2" in text and "Outlet 1" not in text
    assert "Outlet 2" in html and "Outlet 1" not in html


def test_two_first_notices_of_a_story_never_share_a_message_id(plain: Server) -> None:
    labor = message([alert([citation(1)])], key="st-1:mail:new:1", channel="mail")
    oil = message([alert([citation(1)], rule="dprk-oil-transfer")], key="st-1:mail:new:2",
                  channel="mail")  # fmt: skip
    notifier(plain).send(labor)
    notifier(plain).send(oil)
    first, second = (mail for _, mail in plain.inbox.mails)
    assert first["Message-ID"] != second["Message-ID"]
    assert first["References"] == second["References"] == thread_id("st-1", "mail")


def test_digest_lists_every_story(plain: Server) -> None:
    alerts = [
        alert([citation(1)], story="st-a", headline="First story"),
        alert([citation(2)], story="st-b", headline="Second story", rule="dprk-oil-transfer"),
    ]
    notifier(plain).send(message(alerts, kind="digest", key="digest:mail:1"))
    [(_, mail)] = plain.inbox.mails
    assert mail["Subject"].strip() == "[HIGH] Digest: 2 stories, 2 alerts"
    assert mail["In-Reply-To"] is None and mail["References"] is None
    text, html = parts(mail)
    for needle in ("First story", "Second story", "st-a", "st-b", "dprk-oil-transfer"):
        assert needle in text and needle in html


def test_hostile_article_is_escaped(plain: Server) -> None:
    hostile = citation(1, HOSTILE, title="<b>bold</b> title", url="javascript:alert(1)", marks=[])
    a = alert([hostile], headline="Headline <script>x</script>\r\nBcc: victim@example.org")
    notifier(plain).send(message([a]))
    [(rcpts, mail)] = plain.inbox.mails
    assert rcpts == RECIPIENTS  # the headline could not add a recipient
    assert mail["Bcc"] is None
    assert "\n" not in mail["Subject"]
    text, html = parts(mail)
    assert "<script" not in html and "javascript:" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "&lt;!channel&gt; and &lt;@U123&gt;, see &lt;https://evil|click&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; title" in html
    assert HOSTILE in text  # the text part is literal already


def test_starttls_with_auth(starttls: Server, cert) -> None:
    sender = notifier(starttls, "starttls", username=USER, password=PASSWORD, ca_file=cert[0])
    sender.send(message([alert([citation(1)])]))
    assert len(starttls.inbox.mails) == 1


def test_starttls_wrong_password_is_permanent_and_redacted(starttls: Server, cert) -> None:
    wrong = "not-the-password"
    sender = notifier(starttls, "starttls", username=USER, password=wrong, ca_file=cert[0])
    with pytest.raises(NotifyError) as caught:
        sender.send(message([alert([citation(1)])]))
    assert not caught.value.retryable
    assert "535" in str(caught.value) and wrong not in str(caught.value)
    assert wrong not in repr(sender)


def test_starttls_untrusted_certificate_is_permanent(starttls: Server) -> None:
    sender = notifier(starttls, "starttls", username=USER, password=PASSWORD)
    with pytest.raises(NotifyError) as caught:
        sender.send(message([alert([citation(1)])]))
    assert not caught.value.retryable and "certificate" in str(caught.value)


def test_server_without_starttls_is_permanent(plain: Server) -> None:
    with pytest.raises(NotifyError) as caught:
        notifier(plain, "starttls").send(message([alert([citation(1)])]))
    assert not caught.value.retryable and "STARTTLS" in str(caught.value).upper()


def test_implicit_tls(implicit_tls: Server, cert) -> None:
    notifier(implicit_tls, "tls", ca_file=cert[0]).send(message([alert([citation(1)])]))
    assert len(implicit_tls.inbox.mails) == 1


def test_4xx_is_retryable_5xx_permanent(plain: Server) -> None:
    plain.inbox.refuse_rcpt = "450 4.2.1 mailbox busy"
    with pytest.raises(NotifyError) as caught:
        notifier(plain).send(message([alert([citation(1)])]))
    assert caught.value.retryable and "450" in str(caught.value)
    plain.inbox.refuse_rcpt = "550 5.1.1 no such user"
    with pytest.raises(NotifyError) as caught:
        notifier(plain).send(message([alert([citation(1)])]))
    assert not caught.value.retryable and "550" in str(caught.value)
    assert plain.inbox.mails == []


def test_connection_refused_is_retryable() -> None:
    sender = EmailNotifier(
        host="127.0.0.1", port=free_port(), security="plain", sender="m@example.org",
        recipients=["a@example.org"], timeout=2,
    )  # fmt: skip
    with pytest.raises(NotifyError) as caught:
        sender.send(message([alert([citation(1)])]))
    assert caught.value.retryable
