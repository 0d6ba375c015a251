"""The page scripts' words, translated on the server: base.html puts them in a JSON block that
static/js/i18n.js reads, so the scripts have no catalog of their own to keep in step."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import i18n

STATUS_LABELS = {
    "open": _l("Open"),
    "scheduled": _l("Scheduled"),
    "finished": _l("Finished"),
    "cancelled": _l("Cancelled"),
    "leading": _l("Leading"),
    "outbid": _l("Outbid"),
    "watching": _l("Watching"),
    "won": _l("Won"),  # pt_BR: Arrematado (docs/glossary.md), never "Vencido"
    "lost": _l("Lost"),
    "selling": _l("Selling"),
    "sold": _l("Sold"),
    "unsold": _l("Unsold"),
}


# A withdrawal's status as its owner reads it (the wallet page and its live rows).
WITHDRAWAL_STATUSES = {
    "awaiting_approval": _l("Awaiting an admin's approval"),
    "queued": _l("About to be sent"),
    "submitting": _l("Being sent"),
    "needs_authorization": _l("Awaiting authorisation at Asaas"),
    "needs_review": _l("Held: being checked at Asaas"),
    "pending": _l("On its way"),
    "done": _l("Sent"),
    "failed": _l("Failed: money returned"),
    "refused": _l("Refused: money returned"),
}


# Asaas payment statuses as a person reads them.
PAYMENT_STATUSES = {
    "NEW": _l("Being created"),
    "PENDING": _l("Waiting for payment"),
    "AWAITING_RISK_ANALYSIS": _l("Under review"),
    "CONFIRMED": _l("Confirmed"),
    "RECEIVED": _l("Paid"),
    "RECEIVED_IN_CASH": _l("Paid in cash"),
    "OVERDUE": _l("Overdue"),
    "REFUNDED": _l("Refunded"),
    "REFUND_REQUESTED": _l("Refund requested"),
    "REFUND_IN_PROGRESS": _l("Refund in progress"),
    "PARTIALLY_REFUNDED": _l("Partially refunded"),
    "CHARGEBACK_REQUESTED": _l("Chargeback"),
    "CHARGEBACK_DISPUTE": _l("Chargeback in dispute"),
    "AWAITING_CHARGEBACK_REVERSAL": _l("Chargeback reversal pending"),
    "DUNNING_REQUESTED": _l("In collection"),
    "DUNNING_RECEIVED": _l("Recovered"),
    "DELETED": _l("Cancelled"),
    "REFUSED": _l("Refused"),
    "ABANDONED": _l("Not created"),
}


def payment_status_label(status: str) -> str:
    return str(PAYMENT_STATUSES.get(status, status.replace("_", " ").capitalize()))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(str(status), str(status).capitalize()))


def withdrawal_status(status: str) -> str:
    return str(WITHDRAWAL_STATUSES.get(str(status), str(status).replace("_", " ")))


def catalog() -> dict[str, Any]:
    return {
        "locale": i18n.language().replace("_", "-"),
        "timezone": str(i18n.get_timezone()),
        "messages": i18n.message_catalog(),
        "status": {key: str(value) for key, value in STATUS_LABELS.items()},
        "payment_status": {key: str(value) for key, value in PAYMENT_STATUSES.items()},
        "withdrawal_status": {key: str(value) for key, value in WITHDRAWAL_STATUSES.items()},
        "t": {
            "too_low": _("Your bid is too low: the minimum now is {amount}."),
            "insufficient_funds": _("You don't have enough available money in your wallet for this."),
            "own_auction": _("You cannot bid on your own auction."),
            "auction_not_open": _("This auction is not open for bids."),
            "not_logged_in": _("Log in to bid."),
            "rate_limited": _("You are bidding too fast; wait a moment and try again."),
            "invalid": _("That bid is not valid: {message}."),
            "check_amount": _("enter an amount like 150 or 150,00"),
            "max_below_bid": _("Your maximum must not be below your bid."),
            "wallet_in_debt": _("Your wallet is in debt; add money before bidding."),
            "not_found": _("This auction no longer exists."),
            "unavailable": _("The service is briefly unavailable; please try again."),
            "buy_now_unavailable": _("Buy It Now is no longer available."),
            "not_accepted": _("Your bid was not accepted."),
            "add_money": _("Add money"),
            "offline": _("Not connected; reconnecting…"),
            "timeout": _("The server did not answer; please try again."),
            "leading": _("You are the highest bidder at {amount}."),
            "proxy_beat": _(
                "Your bid was placed, but another bidder's automatic maximum is higher. The price is now {amount}."
            ),
            "max_raised": _("Your maximum is now {amount}. The price stays {price}."),
            "outbid": _("The price is now {amount}. Bid again to take the lead."),
            "outbid_proxy": _("Another bidder's automatic maximum answered at once: the price is now {amount}."),
            "outbid_toast": _("You were outbid: the price is now {amount}."),
            "outbid_toast_many": _("You were outbid {count} times: the price is now {amount}."),
            "extended": _("A late bid extended this auction: it now ends {when}."),
            "won": _("You won this auction for {amount}."),
            "won_by": _("Won by {name} for {amount}."),
            "no_sale_reserve": _("Finished: the reserve price was not met, so there is no sale."),
            "no_bids": _("Finished with no bids."),
            "cancelled": _("This auction was cancelled."),
            "final_price": _("Final price"),
            "highest_bid": _("Highest bid"),
            "starting_price": _("Starting price"),
            "current_bid": _("Current bid"),
            "sold_for": _("Sold for"),
            "reserve_met": _("Reserve price met."),
            "reserve_not_met": _("Reserve price not met yet."),
            "bids_none": _("No bids"),
            "bids_one": _("{count} bid"),
            "bids_many": _("{count} bids"),
            "viewing": _("{count} viewing now"),
            "auto": _("auto"),
            "bid_label": _("Your bid (R$)"),
            "new_max_label": _("Your new maximum (R$)"),
            "place_bid": _("Place bid"),
            "raise_max": _("Raise your maximum"),
            "just_now": _("just now"),
            "you": _("you"),
            "watch": _("Watch this auction"),
            "unwatch": _("Stop watching"),
            "ending": _("Ending…"),
            "confirm_bid_title": _("Confirm your bid"),
            "confirm_raise_title": _("Confirm your new maximum"),
            "confirm_buy_title": _("Buy it now?"),
            "confirm_hold": _("{amount} will be held from your wallet while you lead."),
            "confirm_hold_raise": _("{amount} more will be held from your wallet (your maximum becomes {max})."),
            "confirm_premium": _("It includes the buyer's premium on your maximum."),
            "confirm_buy": _("{amount} will be taken from your wallet and the auction ends with you as the buyer."),
            "bought": _("You bought this lot for {amount}."),
            "now": _("now"),
            "in_withdrawal": _("{amount} is on its way out now."),
            "withdraw_amount": _("Enter an amount like 50 or 50,00."),
            "withdraw_failed": _("Could not withdraw."),
            "copied": _("Copied"),
            "topup_amount": _("Enter an amount like 100 or 100,00."),
            "topup_range": _("Enter an amount between {min} and {max}."),
            "topup_failed": _("Could not start the payment."),
            "topup_failed_because": _("Could not start the payment: {message}."),
            "topup_started": _("Payment of {amount} started."),
            "pay_it": _("Pay it"),
            "paid_credited": _("Paid. {amount} is in your wallet."),
            "paid_pending": _("Paid. It reaches your wallet as soon as Asaas releases it."),
        },
    }
