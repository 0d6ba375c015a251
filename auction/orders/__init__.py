"""Orders: what happens after the hammer falls -- escrow, shipping, receipt, disputes, refunds.

`service` holds the use cases (on a UnitOfWork), `rules` the pure status and address rules,
`queries` the reads for pages, `messages` what both sides hear. The money moves only through
`auction.wallet.escrow`. Auction closing calls `service.open_order` (the one import from
`auction.auctions`, declared in pyproject.toml's contracts).
"""

from .rules import OPEN, Address, OrderState, OrderStatus, parse_address

__all__ = ["OPEN", "Address", "OrderState", "OrderStatus", "parse_address"]
