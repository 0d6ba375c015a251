"""The mail outbox: e-mail that is sent only if the transaction that wants it commits.

How to send a message from a use case (the only call most code needs)::

    from auction.mail import queue_mail

    def request_reset(uow: UnitOfWork, command: RequestReset) -> None:
        ...
        queue_mail(
            uow,                                   # or a plain Session: the message joins its transaction
            to=user.email,
            template="password_reset",             # templates/mail/password_reset.txt and .html
            locale=user.locale,                    # "pt_BR" (also the default for None) or "en"
            context={"username": user.username, "link": "/senha/nova/TOKEN"},
            user_id=user.id,                       # whose message it is (LGPD export, anonymisation)
            headers={"List-Unsubscribe": "<https://.../alerts/unsubscribe/TOKEN>"},  # optional extras
        )

- The message is rendered at once, in the recipient's language, and stored as a row of `mail_outbox`
  (auction.models.OutgoingMail) in the caller's transaction: if the use case rolls back, nothing is sent.
- Templates: `templates/mail/NAME.txt` (plain text; the subject in `{% block subject %}`) and
  `templates/mail/NAME.html`, extending `_base.txt` / `_base.html` (site name, link back). Every template
  gets `site_name`, `site_url` and `url(path)`, which makes a path absolute (`{{ url(link) }}`); mark words
  with `_()` and translate them in translations/ as for pages (README, Translations).
- `headers`: extra headers (e.g. `List-Unsubscribe`, `List-Unsubscribe-Post`); From, To, Subject, Date,
  Message-ID and the MIME headers are the sender's own and refused here (ValueError), as are line breaks.
- Sending is the jobs process's (`entrypoints/jobs.py`, every MAIL_SEND_INTERVAL seconds): over SMTP when
  SMTP_HOST is set; in development without it nothing leaves the machine and /dev/mail shows the messages.
  Retries, back-off and the at-least-once promise: auction/mail/sender.py.
"""

from __future__ import annotations

from .outbox import configure, queue_mail, renderer
from .render import MailRenderer, Rendered, normalize_locale

__all__ = ["MailRenderer", "Rendered", "configure", "normalize_locale", "queue_mail", "renderer"]
