"""The notifier port, as the adapters of services/notify/ implement it (it lives in
services/ports/calls.py, below the use cases that call it)."""

from services.ports.calls import Notification, Notifier, NotifierDown, text_of

__all__ = ["Notification", "Notifier", "NotifierDown", "text_of"]
