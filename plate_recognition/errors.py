"""One exception base for plate_recognition/."""

from __future__ import annotations


class RecognitionError(Exception):
    """Base of every error raised by plate_recognition/."""


class UnreadableImage(RecognitionError):
    """Bytes that do not decode to an image: the frame goes to the dead-letter topic."""


class ModelsMissing(RecognitionError):
    """The committed model files are not where the recognizer looks for them."""
