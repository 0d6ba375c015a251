"""The payments area's errors (each a ServiceError with its `code`)."""

from __future__ import annotations

from ..errors import ServiceError


class PaymentGatewayError(ServiceError, code="payment_unavailable", http_status=502):
    """Asaas (or the simulator) could not be reached or refused the call."""
