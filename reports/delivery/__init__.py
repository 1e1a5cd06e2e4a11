"""Delivering what the product produces by email: the weekly reports (weekly.py), the ledger that makes their
delivery idempotent (ledger.py), and SMTP or outbox sending with retries (mailer.py)."""
