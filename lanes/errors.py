"""The one exception base of the domain; the edges map it to HTTP answers or dead letters."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class UnknownGateError(DomainError, LookupError):
    """A gate id that no configured gate has."""

    def __init__(self, gate_id: str, known: tuple[str, ...] = ()) -> None:
        self.gate_id = gate_id
        self.known = known
        listed = ", ".join(known) or "none"
        super().__init__(f"unknown gate {gate_id!r} (known: {listed})")
