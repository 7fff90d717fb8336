"""Assist: the FAQ bot that answers frequent questions and hands over to a person."""
