"""Languages and time zones of the people reading the site (Flask-Babel), for pages and sockets.

Over 450 lines on purpose: 270 of them are MESSAGES, the one table of every service message the areas raise
(tests/test_service_messages.py checks it against them), beside the few functions that match and translate it.

The language is Portuguese (pt_BR) first and English second: a `lang` cookie set by the
switcher wins, then the browser's Accept-Language, then DEFAULT_LOCALE. The time zone is the
browser's (the page scripts store it in a `tz` cookie), else DEFAULT_TIMEZONE.

Service messages (errors raised in auctions/, wallet/, accounts/, payments/, and the texts of
notifications) stay English where they are made: the areas know nothing of requests, and stored
notifications keep one text whatever language their reader picks later. They are translated here,
at the adapters, when they are shown: `localize` matches the English text against the templates of
MESSAGES (marked for extraction, so they sit in the .po files like any other string) and answers
the translation with the same values. An unknown message is shown as it is, never dropped.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache, lru_cache

import pytz
from babel.core import get_global
from babel.dates import format_date, format_datetime, get_timezone_name
from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, get_locale, get_timezone, gettext

from ..config import PROJECT_ROOT

LANGUAGES = {"pt_BR": "Português", "en": "English"}
LANG_COOKIE = "lang"
TZ_COOKIE = "tz"
_LOCALE_KEY = "auction.locale"  # the environ key a request's (a socket's) chosen locale is kept under


def N_(text: str) -> str:
    return text


# English templates of service messages; {name} matches one value (an amount, a title, a number).
MESSAGES: tuple[str, ...] = (
    # Sale events (auctions/sale_events.py): what adding a lot or changing an event may answer.
    N_("only the seller's own auctions can be lots of their event"),
    N_("this auction is already a lot of an event"),
    N_("only an auction without bids, not finished, can become a lot"),
    N_("this lot's closing time has passed: the event is over"),
    N_("only the event's organizer can change it"),
    N_("no such event"),
    N_("register for this event and accept its current terms to bid"),
    N_("the terms changed: read them again and accept the new version"),
    # Deposits, buying power and approval of registrations (auctions/sale_events.py, buying_power.py).
    N_("this bid would commit you to {amount} in this event, beyond your buying power of {limit}"),
    N_("your registration for this event is waiting for an admin's approval"),
    N_("your registration for this event was rejected"),
    N_("this event is over"),
    N_("your wallet is in debt ({amount}); add money before registering"),
    N_("not enough available for the deposit of {amount}: {available} available"),
    N_("a deposit must be more than zero"),
    N_("only an admin may approve or reject a registration"),
    N_("no such registration"),
    N_("this registration was already decided"),
    N_("the bidder has not confirmed their e-mail address"),
    N_("the bidder has no CPF on file"),
    N_("Your registration for “{title}” was approved: bid away."),
    N_("Your registration for “{title}” was rejected; any deposit is back in your wallet."),
    N_("the minimum bid is {amount}"),
    N_("Withdrawal #{id} is waiting for authorisation at Asaas; the money stays held."),
    N_("Withdrawal #{id} was blocked at Asaas for review; the money stays held."),
    # The balance check's reasons (auction/payments/balance.py), on the admin page.
    N_("a charge this site did not create"),
    N_("received at Asaas, not credited in the ledger (payment #{id})"),
    N_("a transfer no withdrawal made"),
    N_("transfer of another amount than withdrawal #{id} ({amount})"),
    N_("transfer returned at Asaas, withdrawal #{id} is {status}"),
    N_("an anticipation: money advanced against a charge not paid yet"),
    N_("a movement with no counterpart in the ledger"),
    N_("a value that is not an amount"),
    N_("Asaas holds {asaas}, the ledger expects {ledger}"),
    N_(
        "money goes only to a PIX key that is your own CPF or CNPJ: an e-mail, phone or random key "
        "cannot be checked to be yours"
    ),
    N_("you are already leading; a new maximum must be at least {amount}"),
    N_("must not be below amount"),
    N_("this auction is not open for bids"),
    N_("this auction is not open"),
    N_("you cannot bid on your own auction"),
    N_("only the seller or an admin may finish this auction"),
    N_("the auction has not reached its end time yet"),
    N_("only an admin may cancel an auction"),
    N_("the auction is already over"),
    N_("an auction with bids cannot be cancelled"),
    N_("no such auction"),
    N_("must not be below the starting price"),
    N_("must not be below the starting price or the reserve price"),
    N_("must be after the start"),
    N_("an auction lasts at most {days} days"),
    N_("{count} characters"),
    N_("at most {count} characters"),
    N_("amount must be a whole number of cents"),
    N_("amount must be positive"),
    N_("amount is too large"),
    N_("enter an amount like 150 or 150,00"),
    N_("auction_id must be a positive whole number"),
    N_("your wallet is in debt ({amount}); add money before bidding"),
    N_("not enough funds: {needed} needed, {available} available"),
    N_("too many bids; wait a moment and try again"),
    N_("too many requests; wait a moment and try again"),
    N_("log in to do this"),
    N_("your session has ended; log in again"),
    N_("the service is briefly unavailable; please try again"),
    N_("something went wrong; please try again"),
    N_("CPF must have 11 digits or CNPJ 14 digits"),
    N_("this CPF/CNPJ number is not valid"),
    N_("3-40 letters, digits, '.', '_' or '-'"),
    N_("password must have at least {count} characters"),
    N_("password is too easy to guess"),
    N_("this username is taken"),
    N_("an account with this email already exists"),
    N_("this username or email is taken"),
    N_("Buy It Now is no longer available: a bid has reached the reserve"),
    N_("this auction has no Buy It Now price"),
    N_("you cannot buy your own item"),
    # Accounts (auction/accounts)
    N_("this link has expired"),
    N_("this link is not valid"),
    N_("this link was already used"),
    N_("this link is for an address the account no longer has"),
    N_("the current password is not right"),
    N_("that is already your e-mail address"),
    N_("confirm your e-mail address before withdrawing (we sent you a link)"),
    N_(
        "withdrawals are paused for {hours} hours after a change of password, e-mail or two-factor login;"
        " they open again at {when} UTC"
    ),
    N_("the password (or the code of your authenticator app) is not right"),
    N_("the password is not right"),
    N_("your wallet still has money: withdraw it first"),
    N_("money is held for your bids on auctions that have not ended"),
    N_("you have orders that are not finished"),
    N_("you are selling in auctions that have not ended"),
    N_("a withdrawal of yours is still on its way"),
    # Notifications (auction/auctions/messages.py, listing.py)
    N_("You were outbid on “{title}”: the price is now {amount}."),
    N_("You won “{title}” for {amount}."),
    N_("“{title}” sold to {name} for {amount}."),
    N_("“{title}” was won by {name} for {amount}."),
    N_("“{title}” ended without a sale: the reserve price was not met."),
    N_("“{title}” ended without bids."),
    N_("“{title}” ended without a sale."),
    N_("“{title}” ends soon."),
    N_("“{title}” ends in {minutes} minutes."),
    N_("Your maximum of {amount} on “{title}” was reached: the next bid outbids you."),
    N_("Your auction “{title}” was cancelled by an admin."),
    N_("You bought “{title}” for {amount} with Buy It Now."),
    N_("“{title}” was bought for {amount} with Buy It Now."),
    # A pseudonym (auction/auctions/privacy.py)
    N_("Bidder {number}"),
    N_("Seller {number}"),
    # Orders (auction/orders/)
    N_("Order #{id} for “{title}”: your {amount} is kept safe until you confirm receipt."),
    N_("{message} Add your delivery address so the seller can ship."),
    N_("Order #{id} for “{title}”: ship it soon; you are paid when the buyer confirms receipt."),
    N_("Order #{id}: the delivery address is set."),
    N_(
        "Order #{id}: the payment goes to the seller automatically in {hours} hours. "
        "Confirm receipt, or open a dispute if something is wrong."
    ),
    N_(
        "“{title}” was shipped ({carrier}, {tracking}). Confirm receipt when it arrives; "
        "otherwise the payment is released on {date}."
    ),
    N_("Order #{id} marked shipped."),
    N_("Order #{id}: thanks for confirming; the seller is paid."),
    N_("Order #{id}: the buyer confirmed receipt; {amount} is in your wallet."),
    N_("Order #{id}: the payment was released to the seller automatically."),
    N_("Order #{id}: released automatically; {amount} is in your wallet."),
    N_("Order #{id}: your dispute is open; an admin will decide. The money stays in escrow."),
    N_("Order #{id}: the buyer opened a dispute; the payment waits for an admin's decision."),
    N_("Dispute on order #{id} decided for the seller."),
    N_("Dispute on order #{id} decided for you; {amount} is in your wallet."),
    N_("Dispute on order #{id} decided for you; {amount} is back in your wallet."),
    N_("Dispute on order #{id} decided for the buyer."),
    N_("Order #{id} cancelled; {amount} is back in your wallet."),
    N_("Order #{id} was cancelled by the buyer: it was not shipped in time."),
    N_("no such order"),
    N_("the {field} is required"),
    N_("the {field} is too long (at most {count} characters)"),
    N_("recipient"),
    N_("street and number"),
    N_("complement"),
    N_("city"),
    N_("state"),
    N_("cannot {action}: the order is {status}"),
    N_("change the address"),
    N_("mark it shipped"),
    N_("confirm receipt"),
    N_("open a dispute"),
    N_("resolve a dispute"),
    N_("cancel"),
    N_("paid"),
    N_("shipped"),
    N_("disputed"),
    N_("completed"),
    N_("refunded"),
    N_("cancelled"),
    N_("only the {role} of this order may do that"),
    N_("only the {role} or the {other} of this order may do that"),
    N_("buyer"),
    N_("seller"),
    N_("admin"),
    N_("the decision is release or refund"),
    N_("this order is between its buyer and seller"),
    N_("name the carrier (at most 60 characters)"),
    N_("give the tracking code (at most 60 characters)"),
    N_("the buyer has not given a delivery address yet"),
    N_("say what went wrong (at most 500 characters)"),
    N_("the state must be a Brazilian UF (SP, RJ, MG ...)"),
    N_("the CEP must be 8 digits (01310-100)"),
    N_("the seller still has time to ship; you can cancel after the ship-by date"),
    # Seller ratings (auction/orders/ratings.py)
    N_("choose from 1 to 5 stars"),
    N_("write a few words"),
    N_("you already rated this order"),
    N_("you already answered this rating"),
    N_("this order has no rating yet"),
    # Listing facts (auction/auctions/listing.py)
    N_("choose the item's condition"),
    N_("choose shipping or pickup"),
    N_("give the shipping cost (0 for free shipping)"),
    # Withdrawals (auction/payouts/)
    N_("Withdrawal #{id} of {amount} requested."),
    N_("{message} It waits for an admin's approval."),
    N_("Withdrawal #{id} approved; it is on its way."),
    N_("Withdrawal #{id} was refused ({reason}); the money is back."),
    N_("Withdrawal #{id} failed ({reason}); the money is back."),
    N_("Withdrawal #{id} did not go through ({reason}); the money is back."),
    N_("Withdrawal #{id} of {amount} is done: the PIX was sent."),
    N_("Withdrawal #{id}: Asaas reports transfer {transfer} {status} after it was {before}."),
    N_("Transfer validation refused transfer {transfer}: {reason}."),
    N_("give the PIX key"),
    N_("the key type is CPF, CNPJ, EMAIL, PHONE or EVP"),
    N_("that is not a valid CPF"),
    N_("that is not a valid CNPJ"),
    N_("that is not a valid e-mail key"),
    N_("a phone key is a mobile number with area code: 11 91234-5678"),
    N_("only an admin may approve or refuse withdrawals"),
    N_("withdrawal #{id} is {status}, not awaiting approval"),
    N_("awaiting_approval"),
    N_("queued"),
    N_("submitting"),
    N_("needs_authorization"),
    N_("needs_review"),
    N_("pending"),
    N_("done"),
    N_("failed"),
    N_("refused"),
    N_("a random key (EVP) looks like 123e4567-e89b-12d3-a456-426614174000"),
    N_("a CPF or CNPJ key must be your own document, the one on your account"),
    N_("the amount must be a whole number of centavos"),
    N_("the minimum withdrawal is {amount}"),
    N_("the maximum withdrawal is {amount}"),
    N_("that is over the daily limit of {limit}; {left} left today"),
    N_("your wallet is in debt ({amount}); nothing can be withdrawn"),
    N_("not enough available to withdraw {amount}: {available} available"),
    # Payments (auction/payments/levels.py, topups.py)
    N_("Your payment of {value} was approved: {moved} added to your wallet."),
    N_("Your payment of {value} is valid again: {moved} added to your wallet."),
    N_("The chargeback on your payment of {value} was resolved in your favour: {moved} is back in your wallet."),
    N_("{moved} of your payment of {value} was refunded and taken from your wallet."),
    N_("Your payment of {value} was undone: {moved} taken from your wallet."),
    N_("A chargeback was opened on your payment of {value}: {moved} taken from your wallet."),
    N_("Your card payment of {value} was refused. Nothing was charged."),
    N_("Your top-up of {value} expired without being paid."),
    N_("Your cash payment of {value} was credited: {moved} added to your wallet."),
    N_("A refund of your payment of {value} is in progress: {moved} is frozen until it is done."),
    N_("A chargeback was opened on your payment of {value}: {moved} is frozen until it is resolved."),
    N_("{moved} of your payment of {value} is no longer frozen."),
    N_("{message} Your wallet is now negative: add money before bidding again."),
    N_(
        "Payment #{id} ({amount}) was marked received in cash at Asaas. "
        "No money reached the account; credit it from the admin payments page if the cash really arrived."
    ),
    N_("choose PIX, boleto or card"),
    N_("the minimum top-up is {amount}"),
    N_("the maximum top-up is {amount}"),
    N_("the payment service did not answer; try again in a minute"),
    N_("no such payment"),
    N_("this payment is not marked received in cash at Asaas"),
    N_("this cash receipt was already credited"),
    N_("assign the payment to a user before crediting it"),
    N_("only an admin can credit a cash receipt"),
    N_("add your CPF or CNPJ to your account before adding money"),
    N_("your payment account is still being set up; try again in a moment"),
    N_("could not set up your payment account: {reason}"),
    N_("this payment already belongs to a user"),
    N_("could not create the payment link: {reason}"),
    N_("could not read the webhook from Asaas: {reason}"),
    N_("could not set up the webhook at Asaas: {reason}"),
    N_("could not resume the webhook at Asaas: {reason}"),
    N_("no such user"),
    N_("no such delivery"),
    N_("no delivery with event id {id}"),
    N_("no such seller"),
    # After a sale event (auction/orders/invoices.py, service.py)
    N_("no such invoice"),
    N_("this invoice is its buyer's"),
    N_("no lots bought in this event"),
    N_("nothing of this buyer's waits for shipping in this event"),
    # Relisting and second-chance offers (auction/auctions/relisting.py, second_chance.py)
    N_("only its seller can relist an auction"),
    N_("this lot was already relisted"),
    N_("only an unsold lot can be relisted: finished without a sale and no offer open"),
    N_("only the seller can make a second-chance offer"),
    N_("a second-chance offer needs an unsold lot, not relisted, with no offer open"),
    N_("this bidder cannot get a second-chance offer on this lot"),
    N_("no such offer"),
    N_("this offer is for another bidder"),
    N_("this offer was already answered"),
    N_("this offer has expired"),
    N_(
        "Second chance: the seller of “{title}” offers it to you for {amount}. Accept within {hours} hours on its page."
    ),
    N_("Your second-chance offer on “{title}” was declined."),
    N_("The second-chance offer on “{title}” expired unanswered."),
    # Sale events (auction/auctions/sale_events.py)
    N_("the first lot closes in the future, within 30 days"),
    N_("only the seller's own auctions can be lots of their event"),
    N_("this auction is already a lot of an event"),
    N_("only an auction without bids, not finished, can become a lot"),
    N_("this lot's closing time has passed: the event is over"),
    N_("only the event's organizer can change it"),
    N_("between {least} and {most} characters"),
    N_("a whole number from {least} to {most}"),
    # Alerts (auction/alerts/)
    N_("no such alert: {kind}/{channel}"),
    N_("the push endpoint must be an http(s) URL"),
    N_("the push subscription's keys are missing"),
)
# Placeholders that hold a message of their own, localized in turn: a notice with a sentence added, the action an
# order's status refused, the status itself, an address field's name, an order's roles. A {name} is localized only
# when it is a pseudonym: a username stays as its owner wrote it, even one that reads like a word ("admin").
_NESTED = ("message", "action", "status", "field", "role", "other")
PSEUDONYMS = ("Bidder {number}", "Seller {number}")

_FIELD_PREFIX = re.compile(r"^[a-z_]+: ")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(template)
    # split() alternates literal text and placeholder names.
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(f"^{regex}$", re.DOTALL)


@cache
def _most_specific_first() -> tuple[str, ...]:
    """Templates with more fixed text first, so "{count} characters" never swallows a longer message."""
    return tuple(sorted(MESSAGES, key=lambda template: -len(_PLACEHOLDER.sub("", template))))


@cache
def _literal_start(template: str) -> str:
    """The fixed text a template's messages begin with (before its first placeholder)."""
    return _PLACEHOLDER.split(template, maxsplit=1)[0]


def glued(text: str) -> str:
    """ "R$" held to its number by a no-break space, so a narrow screen never wraps the currency apart from it."""
    return text.replace("R$ ", "R$\u00a0")


def localize(message: str) -> str:
    """A service's English message in the reader's language (without a `field: ` prefix)."""
    # The request's (a socket's) chosen locale straight from the selector, without Flask-Babel parsing it
    # again for each event's new context: refused bids ask for this on every ack.
    return _localized(_locale() if has_request_context() else str(get_locale()), message or "")


@lru_cache(maxsize=4096)  # a hot auction refuses hundreds of bids a second with the same few messages
def _localized(locale: str, message: str) -> str:
    text = _FIELD_PREFIX.sub("", message, count=1)
    for template in _most_specific_first():
        # A cheap prefix test first: refused bids ask for this on every ack, and most templates cannot match.
        if not text.startswith(_literal_start(template)):
            continue
        match = _pattern(template).match(text)
        if match:
            values = match.groupdict()
            for name in _NESTED:
                if name in values:
                    values[name] = _localized(locale, values[name])
            if "name" in values and is_pseudonym(values["name"]):
                values["name"] = _localized(locale, values["name"])
            if "date" in values:
                values["date"] = _day(values["date"], locale)
            # Flask-Babel formats with %; these templates use {name}, filled after the lookup.
            return glued(gettext(template).format(**values))
    return glued(text)


_DAY = re.compile(r"(\d\d)/(\d\d)/(\d{4})")


def _day(text: str, locale: str) -> str:
    """A service message's day (dd/mm/yyyy) in the pattern of `when` ("21 dez. 2026"): one date format a page."""
    found = _DAY.fullmatch(text)
    if not found:
        return text
    day, month, year = (int(part) for part in found.groups())
    return format_date(date(year, month, day), "d MMM y", locale=locale)


def is_pseudonym(name: str | None) -> bool:
    return bool(name) and any(_pattern(template).match(name or "") for template in PSEUDONYMS)


def localize_name(name: str | None) -> str:
    """A person as a page names them: a pseudonym in the reader's language ("Participante 4821"), a username as
    it is."""
    if not name:
        return ""
    return localize(name) if is_pseudonym(name) else name


def message_catalog() -> list[list[str]]:
    """[English template, translation] pairs for the page scripts (live notifications arrive in English)."""
    pairs = []
    for template in MESSAGES:
        translated = gettext(template)
        if translated != template:
            pairs.append([template, translated])
    return pairs


def _locale() -> str:
    # A socket's events all run in its handshake's environ: choose once per socket, not once per event.
    environ = request.environ
    if _LOCALE_KEY not in environ:
        environ[_LOCALE_KEY] = _choose_locale()
    return environ[_LOCALE_KEY]


def _choose_locale() -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["pt-BR", "pt", "en-US", "en-GB", "en"])
    if best is None:
        return _default_locale()
    return "en" if best.startswith("en") else "pt_BR"


def _default_locale() -> str:
    return current_app.config["DEFAULT_LOCALE"]


def _timezone() -> str:
    return valid_timezone(request.cookies.get(TZ_COOKIE)) or current_app.config["DEFAULT_TIMEZONE"]


def valid_timezone(name: str | None) -> str | None:
    """The zone name a browser sent, if Flask-Babel (pytz) knows it; anything else is ignored, never an error."""
    if not name or len(name) > 64:
        return None
    try:
        pytz.timezone(name)
    except (pytz.UnknownTimeZoneError, ValueError):
        return None
    return name


def when(moment: datetime | None, seconds: bool = False) -> str:
    """A readable time in the viewer's zone and language: '25 nov. 2026, 11:30' / '25 Nov 2026, 11:30'."""
    if moment is None:
        return ""
    pattern = "d MMM y, HH:mm:ss" if seconds else "d MMM y, HH:mm"
    return format_datetime(moment, pattern, tzinfo=get_timezone(), locale=get_locale())


def zone_name() -> str:
    """The reader's time zone in words ("horário de Brasília", "Brasilia Time"), not its tz database name."""
    zone = get_timezone()
    if get_global("meta_zones").get(str(zone)) is None:
        # CLDR names only zones of a region: UTC or Etc/GMT+3 would read "Unknown Region (UTC) Time".
        offset = datetime.now(zone).strftime("%z")
        return "UTC" if offset == "+0000" else f"UTC{offset[:3]}:{offset[3:]}"
    name = get_timezone_name(zone, "long", zone_variant="generic", locale=get_locale())
    # CLDR capitalizes it as a title; inside a Portuguese sentence it is a common noun ("no horário de Brasília").
    return name[0].lower() + name[1:] if language().startswith("pt") and name.startswith("Horário") else name


def language() -> str:
    return str(get_locale() or _default_locale())


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "translations"))
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["DEFAULT_TIMEZONE"]
    Babel(app, locale_selector=_locale, timezone_selector=_timezone)
