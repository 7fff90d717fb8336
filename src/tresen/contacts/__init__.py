"""Contacts: one record per person across visitors, email addresses, phones and messengers."""
