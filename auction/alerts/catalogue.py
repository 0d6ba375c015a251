"""What may reach a person away from the site: the alert kinds, their channels and their defaults.

Pure data. Every notification the site stores (auction.notifications) is on the site channel; the kinds
below may also go out by e-mail and Web Push, per the user's preferences (auction.alerts.preferences).
A preference is per alert kind, and one alert kind covers the notification kinds that are one thing to a
reader (every step of an order, say). A notification kind that is in no alert kind stays on the site.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    PUSH = "push"


@dataclass(frozen=True)
class AlertKind:
    key: str
    notification_kinds: frozenset[str]
    email: bool  # the defaults, until the user chooses
    push: bool
    # Security notices cannot be turned off (nor on where they are not sent).
    always_on: bool = False
    # Throttled per auction: at most one per THROTTLE window (ALERT_OUTBID_WINDOW), carrying the latest text.
    throttled: bool = False

    def default(self, channel: Channel) -> bool:
        return self.email if channel is Channel.EMAIL else self.push


KINDS: tuple[AlertKind, ...] = (
    AlertKind("outbid", frozenset({"outbid"}), email=True, push=True, throttled=True),
    AlertKind("max_reached", frozenset({"max_reached"}), email=False, push=True, throttled=True),
    AlertKind("ending_soon", frozenset({"ending_soon"}), email=False, push=True),
    AlertKind("won", frozenset({"win"}), email=True, push=True),
    AlertKind("auction_ended", frozenset({"sale", "no_sale"}), email=True, push=False),
    AlertKind(
        "order",
        frozenset(
            {
                "order_address",
                "order_shipped",
                "order_completed",
                "order_disputed",
                "order_resolved",
                "order_cancelled",
                "order_release_soon",
            }
        ),
        email=True,
        push=True,
    ),
    AlertKind("second_chance", frozenset({"second_chance_offer", "second_chance_answered"}), email=True, push=True),
    AlertKind("top_up", frozenset({"payment_approved"}), email=True, push=False),
    AlertKind("withdrawal", frozenset({"withdrawal_done", "withdrawal_failed"}), email=True, push=False),
    # The accounts' own security e-mails (auction/accounts: new device, password or e-mail changed, lock-out),
    # always sent; listed so the preferences page says so.
    AlertKind("security", frozenset({"security"}), email=True, push=False, always_on=True),
)
BY_KEY: dict[str, AlertKind] = {kind.key: kind for kind in KINDS}
BY_NOTIFICATION: dict[str, AlertKind] = {n: kind for kind in KINDS for n in kind.notification_kinds}


def alert_kind(notification_kind: str) -> AlertKind | None:
    """The alert kind a notification kind belongs to (None: it stays on the site)."""
    return BY_NOTIFICATION.get(notification_kind)


def enabled(kind: AlertKind, channel: Channel, choices: dict[tuple[str, str], bool]) -> bool:
    """Whether `kind` goes out on `channel` for a user with these stored choices ((kind, channel) -> on)."""
    if kind.always_on:
        return kind.default(channel)
    return choices.get((kind.key, channel.value), kind.default(channel))
