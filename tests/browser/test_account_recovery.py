"""One browser walks an account's life with the e-mail it receives (aiosmtpd in the test): register, confirm the
address from the received link, forget the password, reset it from the received link, and withdraw with the
password asked again. In Portuguese on a phone (390x844), the site's first language and smallest screen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from auction import wallet
from auction.db import Database
from auction.models import User
from tests.browser.conftest import TIMEOUT_MS, screenshot
from tests.support.server import LiveServer
from tests.support.smtp import MailCatcher, links

pytestmark = [pytest.mark.browser, pytest.mark.live]
FIRST, SECOND = "uma senha bem comprida", "outra senha bem comprida"


@pytest.fixture
def mailing_site(
    chromium: object, live_server_factory: Callable[..., LiveServer], smtp_server: MailCatcher, tmp_path: Path
) -> Iterator[tuple[LiveServer, Database, object]]:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    server = live_server_factory(
        url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_server.port),
        SMTP_SECURITY="none",
        MAIL_SEND_INTERVAL="0.2",
        # The walk resets the password and then withdraws; the 24-hour wait after it is a service test's.
        WITHDRAWAL_COOLDOWN_HOURS="0",
    )
    db = Database(url, pool_size=2)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="pt-BR")
    context.set_default_timeout(TIMEOUT_MS)
    yield server, db, context.new_page()
    context.close()
    db.dispose()


def link_in(catcher: MailCatcher, count: int, fragment: str) -> str:
    """Wait for the count-th message and return its link containing `fragment`."""
    message = catcher.wait_for(count, timeout=15)[count - 1]
    [link] = [url for url in links(message) if fragment in url]
    return link


def test_register_confirm_forget_reset_and_withdraw_with_the_password_asked_again(mailing_site, smtp_server):
    server, db, page = mailing_site
    page.goto(f"{server.url}/register")
    page.fill("input[name=username]", "joana")
    page.fill("input[name=email]", "joana@example.com")
    page.fill("input[name=password]", FIRST)
    page.fill("input[name=cpf_cnpj]", "529.982.247-25")
    expect(page.locator("label[for=accept]")).to_contain_text("Aceito os termos de uso")
    page.check("input[name=accept]")
    page.click("form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Enviamos um e-mail")

    # The wallet says why money cannot leave yet; the link in the e-mail confirms the address.
    page.goto(f"{server.url}/wallet")
    expect(page.locator("[data-withdrawal-wait]")).to_contain_text("Confirme seu e-mail antes de sacar")
    confirm = link_in(smtp_server, 1, "/verify-email/")
    assert smtp_server.messages[0]["Subject"] == "Confirme seu e-mail no Leilão"
    page.goto(confirm)
    expect(page.locator(".flash-success")).to_contain_text("Seu e-mail está confirmado")
    expect(page.locator("[data-withdrawal-wait]")).to_have_count(0)

    # Forgotten: from the login page, a link by e-mail, a new password.
    page.locator("header form button.link").click()  # Sair
    page.goto(f"{server.url}/login")
    page.click("text=Esqueci minha senha")
    page.fill("input[name=email]", "joana@example.com")
    page.click("form button[type=submit]")
    expect(page.locator("[data-reset-sent]")).to_contain_text("Confira seu e-mail")
    reset = link_in(smtp_server, 2, "/reset-password/")
    page.goto(reset)
    page.fill("input[name=password]", SECOND)
    screenshot(page, "account-reset-password-pt-phone")
    page.click("form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Sua senha foi trocada")
    assert "foi trocada" in smtp_server.wait_for(3)[2]["Subject"]
    page.goto(reset)
    expect(page.locator("[data-error-page]")).to_contain_text("este link já foi usado")

    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "joana")
    page.fill("input[name=password]", SECOND)
    page.click("form button[type=submit]")
    expect(page.locator("a.who")).to_have_text("joana")

    # Money out asks for the password again: a wrong one is refused and nothing is held.
    user_id = db.transaction(lambda s: s.scalar(select(User.id).where(User.username == "joana")))
    db.transaction(lambda s: wallet.credit(s, user_id=user_id, amount=30_000, key="browser-test-credit"))
    page.goto(f"{server.url}/wallet")
    page.fill("[data-withdraw-amount]", "100,00")
    page.select_option("[data-withdraw-key-type]", "CPF")
    page.fill("[data-withdraw-key]", "529.982.247-25")
    page.fill("[data-withdraw-password]", FIRST)
    page.click("[data-withdraw-submit]")
    expect(page.locator("[data-withdraw-error]")).to_contain_text("não está certa")
    expect(page.locator("[data-withdrawal-list] tbody tr")).to_have_count(0)
    page.fill("[data-withdraw-password]", SECOND)
    page.click("[data-withdraw-submit]")
    expect(page.locator("[data-withdrawal-list] tbody tr")).to_have_count(1)
    screenshot(page, "account-withdraw-step-up-pt-phone")
    notice = smtp_server.wait_for(4, timeout=15)[3]
    assert notice["Subject"] == "Saque de R$ 100,00 pedido no Leilão" and notice["To"] == "joana@example.com"
