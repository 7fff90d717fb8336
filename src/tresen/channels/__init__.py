"""Channels: adapters that carry conversations beyond the web chat (email first).

Each adapter turns what arrives on its channel into calls of the domain actions (inbound) and
delivers agents' replies from the durable outbox (outbound). Conversations never import a
channel; the wiring connects them (``tresen.wiring``). See docs/channels.md."""
