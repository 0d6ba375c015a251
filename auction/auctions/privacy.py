"""Pseudonyms: the public history names a bidder "Bidder 4821", stable within one auction, and a seller "Seller 3307".

The number is a keyed hash of (auction, bidder), so it is the same on every page and message of
that auction without a lookup, differs between auctions (nobody can follow one bidder across
auctions), and cannot be turned back into a user id without the key (SECRET_KEY, set once at start
by the web adapter). Four digits make two bidders of one auction share a name about once in
20,000 pairs; the history still orders their bids correctly, and the bidder themself, the seller
after the sale and admins see real names (entrypoints/web/auctions.py).

A seller's pseudonym is the same on all of their auctions (their reputation follows them, as buyers expect),
but hashed apart from bidder pseudonyms, so a seller who also bids cannot be recognised by it. Real names are
shown only to the two parties of an order and to admins (`parties_names`).
"""

from __future__ import annotations

import hashlib
import hmac

_key = b"leilao-pseudonyms"


def set_key(secret: str) -> None:
    global _key
    _key = _derive(secret)


def _derive(secret: str) -> bytes:
    return hashlib.sha256(b"pseudonym:" + secret.encode()).digest()


def pseudonym(auction_id: int, bidder_id: int | None, *, secret: str | None = None) -> str | None:
    """'Bidder NNNN' for this bidder on this auction (None for no bidder); `secret` overrides the key set at start."""
    if bidder_id is None:
        return None
    key = _key if secret is None else _derive(secret)
    return f"Bidder {_number(key, f'{auction_id}:{bidder_id}')}"


def seller_alias(seller_id: int, *, secret: str | None = None) -> str:
    """'Seller NNNN' for this seller on every auction of theirs; `secret` overrides the key set at start."""
    return f"Seller {_number(_key if secret is None else _derive(secret), f'seller:{seller_id}')}"


def _number(key: bytes, subject: str) -> int:
    digest = hmac.new(key, subject.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") % 9000 + 1000
