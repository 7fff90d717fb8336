"""Passwords, signed tokens, visitor identity (HMAC) and rate limits: no domain, no web."""
