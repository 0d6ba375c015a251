"""Adapters: web pages, Socket.IO events, the Asaas webhook, CLI commands and periodic jobs.

Each parses its input, calls one use case of an area (auctions, wallet, payments,
accounts), and renders the answer. `Database.run` delivers the use case's messages
after its commit; errors are mapped to answers in one place per kind of adapter
(web/errors.py, sockets/acks.py).
"""
