"""Delivering what the product produces: email (mailer.py)."""
