"""notify domain: receipts and reading reminders by e-mail (subscriptions, deliveries, unsubscribe)."""
