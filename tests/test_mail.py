"""The mail outbox: queued in the use case's transaction, sent over real SMTP (aiosmtpd), retried, never lost."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from auction import clock, create_app
from auction.entrypoints import jobs
from auction.mail import queue_mail, sender
from auction.models import Base, OutgoingMail
from tests.support.smtp import MailCatcher, links, parts
from tests.test_accounts import csrf_token

# Nothing these store differs between the backends.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


def _queue(db, *, locale="pt_BR", headers=None, to="ana@example.com"):
    return db.run(
        lambda uow: (
            queue_mail(
                uow,
                to=to,
                template="verify_email",
                locale=locale,
                context={"username": "ana", "link": "/", "hours": 48},
                headers=headers,
            ).id
        )
    )


def _row(db, mail_id: int) -> OutgoingMail:
    return db.transaction(lambda s: s.get(OutgoingMail, mail_id))


@pytest.fixture
def smtp_app(app_config, smtp_server):
    application = create_app({**app_config, **smtp_server.settings(), "PUBLIC_URL": "http://leilao.test"})
    Base.metadata.create_all(application.extensions["auction.db"].engine)
    yield application
    application.extensions["auction.db"].dispose()
    clock.reset()


def test_a_queued_message_arrives_with_both_parts_its_headers_and_working_links(smtp_app, smtp_server):
    db = smtp_app.extensions["auction.db"]
    unsubscribe = "<http://leilao.test/alertas/sair/abc>"
    mail_id = _queue(db, headers={"List-Unsubscribe": unsubscribe})
    stored = _row(db, mail_id)
    with smtp_app.app_context():
        assert jobs.run_mail_round(smtp_app).sent == 1
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ana@example.com"
    assert message["From"] == "Leilão <nao-responda@leilao.test>"
    assert message["Message-ID"] == stored.message_id and stored.message_id.endswith("@leilao.test>")
    assert message["Subject"] == "Confirme seu e-mail no Leilão"
    assert message["List-Unsubscribe"] == unsubscribe
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert "Olá, ana!" in text and "Olá, ana!" in html and 'lang="pt-BR"' in html
    assert links(message)[0] == "http://leilao.test/"
    assert 'href="http://leilao.test/"' in html
    # The link back leads to the site.
    assert smtp_app.test_client().get(links(message)[0].removeprefix("http://leilao.test")).status_code == 200
    assert _row(db, mail_id).status == "sent"
    with smtp_app.app_context():
        assert jobs.run_mail_round(smtp_app).sent == 0  # sent once


@SQLITE_ONLY
def test_english_readers_get_english_mail(smtp_app, smtp_server):
    db = smtp_app.extensions["auction.db"]
    _queue(db, locale="en")
    with smtp_app.app_context():
        jobs.run_mail_round(smtp_app)
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Confirm your e-mail address at Leilão"
    assert "Hello, ana!" in parts(message)[0]


def test_a_transaction_that_rolls_back_sends_nothing(smtp_app, smtp_server):
    db = smtp_app.extensions["auction.db"]

    def refused(uow):
        queue_mail(
            uow,
            to="ana@example.com",
            template="verify_email",
            locale="pt_BR",
            context={"username": "ana", "link": "/", "hours": 48},
        )
        raise RuntimeError("the use case refuses after queueing")

    with pytest.raises(RuntimeError):
        db.run(refused)
    with smtp_app.app_context():
        assert jobs.run_mail_round(smtp_app).sent == 0
    assert db.transaction(lambda s: s.scalars(select(OutgoingMail)).all()) == []
    assert smtp_server.messages == []


@SQLITE_ONLY
def test_callers_cannot_set_the_senders_own_headers_or_break_a_header_line(smtp_app):
    db = smtp_app.extensions["auction.db"]
    with pytest.raises(ValueError):
        _queue(db, headers={"Subject": "spoofed"})
    with pytest.raises(ValueError):
        _queue(db, headers={"X-Note": "one\r\nBcc: victim@example.com"})


def test_an_smtp_outage_loses_nothing_and_retries_with_back_off_until_dead(smtp_app, smtp_server, caplog):
    db = smtp_app.extensions["auction.db"]
    smtp_app.config["MAIL_MAX_ATTEMPTS"] = 3
    mail_id = _queue(db)
    smtp_server.refuse = True
    with smtp_app.app_context():
        assert jobs.run_mail_round(smtp_app).failed == 1
        row = _row(db, mail_id)
        assert (row.status, row.attempts) == ("failed", 1) and "451" in row.last_error
        assert row.next_attempt_at - clock.now() > timedelta(seconds=55)  # MAIL_RETRY_SECONDS
        assert jobs.run_mail_round(smtp_app).failed == 0  # not due yet
        clock.advance(timedelta(seconds=61))
        assert jobs.run_mail_round(smtp_app).failed == 1
        assert _row(db, mail_id).next_attempt_at - clock.now() > timedelta(seconds=115)  # doubled
        clock.advance(timedelta(seconds=121))
        assert jobs.run_mail_round(smtp_app).dead == 1
        assert _row(db, mail_id).status == "dead"
    # Admins see it, and may send it again once the server is back (requests outside the app context above,
    # which would share Flask's `g`, and so its CSRF token, between them).
    admin = smtp_app.test_client()
    page = _admin_page(smtp_app, admin)
    assert 'data-mail-status="dead"><span class="big-price">1<' in page
    smtp_server.refuse = False
    admin.post(f"/admin/mail/{mail_id}/send-again", data={"csrf_token": csrf_token(admin, "/admin/mail")})
    with smtp_app.app_context():
        assert jobs.run_mail_round(smtp_app).sent == 1
    smtp_server.wait_for(1)
    assert "mail_dead" in caplog.text


@SQLITE_ONLY
def test_a_server_that_cannot_be_reached_fails_the_round_and_keeps_every_message(smtp_app, smtp_server):
    db = smtp_app.extensions["auction.db"]
    ids = [_queue(db), _queue(db)]
    smtp_server.stop()
    with smtp_app.app_context():
        assert jobs.run_mail_round(smtp_app).failed == 2
    assert {_row(db, i).status for i in ids} == {"failed"}
    smtp_server.start()
    clock.advance(timedelta(seconds=61))
    with smtp_app.app_context():
        assert jobs.run_mail_round(smtp_app).sent == 2
    smtp_server.wait_for(2)


def test_a_crash_between_sending_and_marking_sends_again_with_the_same_message_id(smtp_app, smtp_server, monkeypatch):
    db = smtp_app.extensions["auction.db"]
    mail_id = _queue(db)

    def crash(*_args):
        raise SystemExit("the jobs process dies here")

    monkeypatch.setattr(sender, "mark_sent", crash)
    with smtp_app.app_context(), pytest.raises(SystemExit):
        jobs.run_mail_round(smtp_app)
    monkeypatch.undo()
    assert _row(db, mail_id).status == "queued"  # claimed, never marked
    with smtp_app.app_context():
        assert jobs.run_mail_round(smtp_app).sent == 0  # the claim holds it meanwhile
        clock.advance(sender.LEASE + timedelta(seconds=1))
        assert jobs.run_mail_round(smtp_app).sent == 1
    first, second = smtp_server.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"] == _row(db, mail_id).message_id


@SQLITE_ONLY
def test_smtp_login_works_and_the_password_is_never_logged(app_config, caplog):
    catcher = MailCatcher(user="site", password="s3cret-smtp-pass").start()
    try:
        app = create_app({**app_config, **catcher.settings(), "SMTP_PASSWORD": "s3cret-smtp-pass"})
        Base.metadata.create_all(app.extensions["auction.db"].engine)
        _queue(app.extensions["auction.db"])
        caplog.set_level(logging.DEBUG)
        with app.app_context():
            assert jobs.run_mail_round(app).sent == 1
        catcher.wait_for(1)
        assert catcher.logins == ["site"]
        assert "s3cret-smtp-pass" not in caplog.text
        assert "s3cret-smtp-pass" not in repr(sender.SmtpSettings.from_config(app.config))
        app.extensions["auction.db"].dispose()
    finally:
        catcher.stop()
        clock.reset()


@SQLITE_ONLY
def test_development_keeps_mail_on_this_machine_and_shows_it_at_dev_mail(app, client):
    """No SMTP_HOST: marked sent, nothing leaves, and /dev/mail shows it with working links."""
    assert app.config["MAIL_DEV_INBOX"]
    db = app.extensions["auction.db"]
    mail_id = _queue(db)
    with app.app_context():
        assert jobs.run_mail_round(app).sent == 1
    inbox = client.get("/dev/mail/").get_data(as_text=True)
    assert "Confirme seu e-mail no Leilão" in inbox
    page = client.get(f"/dev/mail/{mail_id}").get_data(as_text=True)
    assert f'<a href="{app.config["PUBLIC_URL"]}/"' in page
    html = client.get(f"/dev/mail/{mail_id}/html")
    assert "Olá, ana!" in html.get_data(as_text=True) and "unsafe-inline" in html.headers["Content-Security-Policy"]


@SQLITE_ONLY
def test_the_development_inbox_is_not_mounted_with_an_smtp_server(smtp_app):
    assert smtp_app.test_client().get("/dev/mail/").status_code == 404


def _admin_page(app, client) -> str:
    from auction import accounts

    db = app.extensions["auction.db"]
    db.transaction(
        lambda s: accounts.register(
            s,
            username="root",
            email="root@example.com",
            password="correct horse battery",
            cpf_cnpj="52998224725",
            is_admin=True,
        )
    )
    token = csrf_token(client, "/login")
    client.post("/login", data={"username": "root", "password": "correct horse battery", "csrf_token": token})
    return client.get("/admin/mail").get_data(as_text=True)
