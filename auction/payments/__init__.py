"""Asaas payments: wallet top-ups, payment links, webhook deliveries and reconciliation.

The adapters live in auction/entrypoints (webhook.py, sockets/wallet.py, cli/payments.py, jobs.py).
Without an ASAAS_API_KEY the client talks to the development simulator (asaas_sim/, mounted by
create_app). See docs/payments.md.
"""
