"""Orders: what happens after the hammer falls -- escrow, shipping, receipt, disputes, refunds.

`service` holds the use cases (on a UnitOfWork), `rules` the pure status and address rules,
`queries` the reads for pages, `invoices` the reads that group a sale event's orders per buyer, `messages` what
both sides hear. The money moves only through `auction.wallet.escrow`. Auction closing calls `service.open_order`
and an accepted second-chance offer `service.open_second_chance_order` (the two imports from `auction.auctions`,
declared in pyproject.toml's contracts).
"""

from .rules import OPEN, Address, OrderState, OrderStatus, parse_address

__all__ = ["OPEN", "Address", "OrderState", "OrderStatus", "parse_address"]
