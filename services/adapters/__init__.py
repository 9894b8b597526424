"""Adapters: what the use cases and the entry points reach the outside world through (the
outboxes that publish what a transaction wrote). Imports the domain, the database package
and the stream runtime; never an entry point (api, control, workers, cli)."""
