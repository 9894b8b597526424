"""One exception base for the streams package."""

from __future__ import annotations


class StreamsError(Exception):
    """Base of every error raised by streams/."""


class BrokerError(StreamsError):
    """The broker could not be started, reached or set up."""


class InvalidEvent(StreamsError):
    """A message that can never be processed: it goes to the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
