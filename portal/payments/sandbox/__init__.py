"""Sandbox twins of the payment services A3 and PayMO, run in-process by the demo / embedded portal.

They speak the services' HTTP protocols (:mod:`portal.payments.providers`) as FastAPI routes mounted
in the portal's own app under ``/sandbox``, keep their state in the ``sandbox_payments`` table, and
serve the hosted card form with Pay / Decline / Cancel buttons that a browser (or the terminal app's
sandbox keys) posts. After a payment, PayMO's twin sends its signed notification to the portal; A3's
twin changes the payment's status so that the portal's next poll (or the reconciliation) sees it.
"""

from portal.payments.sandbox.endpoints import router

__all__ = ["router"]
