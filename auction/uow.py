"""The unit of work a use case receives: one transaction's session and the messages it causes.

`Database.run(fn, ...)` builds it, calls `fn(uow, ...)`, commits, and only then delivers
`uow.outbox`; on a retry the outbox is rewound, so a rolled-back attempt sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .outbox import Outbox


@dataclass(frozen=True)
class UnitOfWork:
    session: Session
    outbox: Outbox
