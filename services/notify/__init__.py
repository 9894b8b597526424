"""Notifications of calls forward (issue 23): a one-method port (`Notifier`), a webhook
adapter for a firm's system, an SMS-gateway adapter over a small gateway interface, and a
local fake SMS sink for tests and the demo."""
