"""Outgoing webhooks: subscriptions, the outbox written with each change, signed delivery."""
