"""Card payments through the payment services A3 and PayMO (and their sandbox twins in demo mode).

``endpoints`` (routes), ``service`` (rules: idempotent creation, crediting exactly once, refunds,
notifications, reconciliation), ``repository`` (SQL), ``schemas`` (bodies), ``providers`` (one
interface, two adapters), ``sandbox`` (the services' in-process twins).
"""
