"""Auctions: rules, bids, closing, watching, queries."""
