"""Privacy: everything about one person exported or erased, retention per site (GDPR)."""
