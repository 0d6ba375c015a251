"""Bidder pseudonyms: the public history names a bidder "Bidder 4821", stable within one auction.

The number is a keyed hash of (auction, bidder), so it is the same on every page and message of
that auction without a lookup, differs between auctions (nobody can follow one bidder across
auctions), and cannot be turned back into a user id without the key (SECRET_KEY, set once at start
by the web adapter). Four digits make two bidders of one auction share a name about once in
20,000 pairs; the history still orders their bids correctly, and the bidder themself, the seller
after the sale and admins see real names (entrypoints/web/auctions.py).
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
    digest = hmac.new(key, f"{auction_id}:{bidder_id}".encode(), hashlib.sha256).digest()
    return f"Bidder {int.from_bytes(digest[:4], 'big') % 9000 + 1000}"
