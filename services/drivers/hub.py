"""The drivers' live hub: the newest page data of every truck in a waiting area, by an
unguessable token (an HMAC of the visit id under the server's secret: 128 bits, nothing to
look up or leak) and a short code (8 characters, for the sign at the waiting area); each
open page's stream gets its own truck's data only, newest first (a queue of one)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import unicodedata
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lanes.plates import normalise_plate

# A code's letters and digits. No 0/O or 1/I (read one for the other off a printed slip),
# and since 2026-12-06 no vowel (A E I O U Y), D or W: a Vietnamese phone keyboard types
# Telex, where a vowel followed by S, F, R, X or J takes a tone mark ("AS" -> "Á"), "AA",
# "EE", "OO" and "DD" become "Â", "Ê", "Ô" and "Đ", and "W" becomes "Ư"; or VNI, where a
# digit after a vowel (or D) is the mark ("A2" -> "À", "D9" -> "Đ"). A code with a vowel
# typed there reached the server as letters no code has. Without vowels, D or W nothing in
# a code can be composed. 26 symbols: 26^8, about 2 x 10^11 codes.
_CODE_ALPHABET = "23456789BCFGHJKLMNPQRSTVXZ"
# the alphabet of the codes handed out before (32 symbols, 5 bits each): a page made then
# keeps its code (stored with it), so a code typed is one if it is made of these
_EARLIER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def page_token(secret: bytes, key: str) -> str:
    """The page's unguessable token: 128 bits of an HMAC of its key under the secret."""
    digest = hmac.new(secret, f"driver:{key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def normal_code(typed: str) -> str:
    """A short code as typed by a driver (lower case, grouped with spaces or hyphens, as
    `ab12 cd34` or `AB12-CD34`, or in a Chinese input method's full-width letters) in the
    form it is stored in: ASCII upper case, letters and digits only."""
    folded = unicodedata.normalize("NFKC", typed).upper()
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


def normal_plate(typed: str) -> str:
    """A plate as typed by a driver on a phone in the form the gate stores plates in
    (`lanes.plates.normalise_plate`: `29h-123.45` -> `29H12345`, `桂A·12345` -> `桂A12345`),
    with what a Vietnamese keyboard composed taken back apart: a tone mark or a hat dropped
    (`Á`, `Â` -> `A`) and `Đ` read as `D` (Telex `DD`, VNI `D9`: a plate `29LD-...`)."""
    bare = "".join(
        ch for ch in unicodedata.normalize("NFKD", typed) if not unicodedata.combining(ch)
    )
    return normalise_plate(bare.replace("Đ", "D").replace("đ", "d"))


def could_be_code(normal: str) -> bool:
    """Whether `normal` (a code typed, `normal_code`) has a code's shape: 8 characters of
    the codes' alphabet. One that has not is no code, and looking it up could find none."""
    return len(normal) == 8 and all(ch in _EARLIER_ALPHABET for ch in normal)


def page_code(secret: bytes, key: str) -> str:
    """The page's short code (8 characters, printed at the waiting area): no character a
    Vietnamese keyboard's Telex or VNI input could compose into another."""
    digest = hmac.new(secret, f"code:{key}".encode(), hashlib.sha256).digest()
    number, size = int.from_bytes(digest[:8], "big"), len(_CODE_ALPHABET)
    return "".join(_CODE_ALPHABET[(number // size**i) % size] for i in range(8))


@dataclass
class DriverHub:
    secret: bytes
    states: dict[str, str] = field(default_factory=dict)  # visit id -> its data, JSON text
    _tokens: dict[str, str] = field(default_factory=dict)  # token -> visit id
    _codes: dict[str, str] = field(default_factory=dict)  # short code -> token
    _streams: dict[str, set[asyncio.Queue[str]]] = field(default_factory=dict)

    def token_for(self, visit_id: str) -> str:
        return page_token(self.secret, visit_id)

    def code_for(self, visit_id: str) -> str:
        return page_code(self.secret, visit_id)

    def visit_of(self, token: str) -> str | None:
        return self._tokens.get(token)

    def token_of_code(self, code: str) -> str | None:
        return self._codes.get(normal_code(code))

    def state(self, token: str) -> str | None:
        visit_id = self._tokens.get(token)
        return None if visit_id is None else self.states.get(visit_id)

    def publish(self, states: Mapping[str, Mapping[str, Any]], *, keep: bool = True) -> None:
        """New data for these trucks (others kept when `keep`, e.g. a lost place's page)."""
        if not keep:
            for visit_id in set(self.states) - set(states):
                self._forget(visit_id)
        for visit_id, data in states.items():
            text = json.dumps(data, sort_keys=True, ensure_ascii=False)
            token = self.token_for(visit_id)
            self._tokens[token] = visit_id
            self._codes[self.code_for(visit_id)] = token
            if self.states.get(visit_id) == text:
                continue
            self.states[visit_id] = text
            for queue in self._streams.get(visit_id, ()):
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(text)

    def _forget(self, visit_id: str) -> None:
        self.states.pop(visit_id, None)
        token = self.token_for(visit_id)
        self._tokens.pop(token, None)
        self._codes.pop(self.code_for(visit_id), None)

    @contextlib.asynccontextmanager
    async def subscribe(self, visit_id: str) -> AsyncIterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
        self._streams.setdefault(visit_id, set()).add(queue)
        try:
            yield queue
        finally:
            self._streams[visit_id].discard(queue)
