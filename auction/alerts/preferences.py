"""A user's alert preferences: per alert kind and channel, stored only where they differ from nothing
(a stored row is the user's own choice; without one the kind's default applies)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import Invalid
from ..models import AlertPreference, AlertSettings
from .catalogue import BY_KEY, KINDS, AlertKind, Channel, enabled

LOCALES = ("pt_BR", "en")
DEFAULT_LOCALE = "pt_BR"


@dataclass(frozen=True)
class Preferences:
    choices: dict[tuple[str, str], bool]
    # The language chosen on the alerts page or with a push subscription; None: the account's (users.locale).
    locale: str | None
    while_watching: bool

    def on(self, kind: AlertKind, channel: Channel) -> bool:
        return enabled(kind, channel, self.choices)

    def grid(self) -> list[tuple[AlertKind, dict[Channel, bool]]]:
        """Every kind with its state on each channel, in the catalogue's order (the preferences page)."""
        return [(kind, {channel: self.on(kind, channel) for channel in Channel}) for kind in KINDS]


def for_users(session: Session, user_ids: Iterable[int]) -> dict[int, Preferences]:
    """Each user's preferences, with two queries for all of them."""
    ids = sorted(set(user_ids))
    choices: dict[int, dict[tuple[str, str], bool]] = {user_id: {} for user_id in ids}
    for row in session.execute(select(AlertPreference).where(AlertPreference.user_id.in_(ids))).scalars():
        choices[row.user_id][(row.kind, row.channel)] = row.enabled
    settings = {
        row.user_id: row for row in session.scalars(select(AlertSettings).where(AlertSettings.user_id.in_(ids)))
    }
    return {
        user_id: Preferences(
            choices[user_id],
            settings[user_id].locale if user_id in settings else None,
            bool(settings[user_id].while_watching) if user_id in settings else False,
        )
        for user_id in ids
    }


def of(session: Session, user_id: int) -> Preferences:
    return for_users(session, [user_id])[user_id]


def save(
    session: Session,
    user_id: int,
    choices: Mapping[tuple[str, str], bool],
    *,
    locale: str | None = None,
    while_watching: bool | None = None,
) -> None:
    """Store the user's choices ((alert kind, channel) -> on); always-on kinds and unknown keys are refused."""
    for kind_key, channel in choices:
        kind = BY_KEY.get(kind_key)
        if kind is None or kind.always_on or channel not in Channel.__members__.values():
            raise Invalid(f"no such alert: {kind_key}/{channel}")
    now = clock.now()
    for (kind_key, channel), on in choices.items():
        session.execute(
            delete(AlertPreference).where(
                AlertPreference.user_id == user_id, AlertPreference.kind == kind_key, AlertPreference.channel == channel
            )
        )
        session.add(AlertPreference(user_id=user_id, kind=kind_key, channel=channel, enabled=on, updated_at=now))
    if locale is not None or while_watching is not None:
        _save_settings(session, user_id, locale, while_watching)
    session.flush()


def _save_settings(session: Session, user_id: int, locale: str | None, while_watching: bool | None) -> None:
    row = session.get(AlertSettings, user_id)
    if row is None:
        row = AlertSettings(user_id=user_id, locale=DEFAULT_LOCALE, while_watching=False, updated_at=clock.now())
        session.add(row)
    if locale is not None:
        row.locale = locale if locale in LOCALES else DEFAULT_LOCALE
    if while_watching is not None:
        row.while_watching = while_watching
    row.updated_at = clock.now()


def remember_locale(session: Session, user_id: int, locale: str) -> None:
    """Alerts are written in the language the user last used the site in (their preferences page, a push
    subscription)."""
    _save_settings(session, user_id, locale, None)
