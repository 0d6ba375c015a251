"""Payouts: money out of a wallet to a PIX key through Asaas transfers.

`withdrawals` holds the use cases (request, approve/refuse, submit, the transfer's status, reconcile),
`pix` the key rules, `events` the pure transfer level model, `deliveries` the TRANSFER_* webhooks,
`validation` Asaas's transfer validation webhook. Money moves only through `auction.wallet.payouts`;
Asaas is reached through `auction.payments.client` (the one shared Asaas transport).
"""

from .pix import KeyType
from .withdrawals import IN_FLIGHT, WithdrawalLimits, WithdrawalStatus

__all__ = ["IN_FLIGHT", "KeyType", "WithdrawalLimits", "WithdrawalStatus"]
