"""The audit log's hashing and the password KDF, without a database."""

from __future__ import annotations

from services.db.audit import GENESIS, canonical, entry_hash
from services.db.controllers import check_password, hash_password

ENTRY = {
    "seq": 1,
    "at": "2026-11-23T03:00:00.000000+00:00",
    "actor": "ana",
    "action": "close_lane",
    "gate_id": "huu-nghi",
    "target": "HN-E9",
    "reason": "bay flooded",
    "details": {"b": 1, "a": [1, 2]},
    "prev_hash": GENESIS,
}


def test_the_hash_covers_every_field_and_not_the_key_order() -> None:
    reordered = dict(reversed(list(ENTRY.items())))
    assert canonical(reordered) == canonical(ENTRY)
    assert entry_hash(reordered) == entry_hash(ENTRY)
    for name, other in [
        ("seq", 2),
        ("at", "2026-11-23T03:00:00.000001+00:00"),
        ("actor", "bob"),
        ("reason", "bay flooded "),
        ("details", {"b": 1, "a": [2, 1]}),
        ("prev_hash", "1" * 64),
    ]:
        assert entry_hash(ENTRY | {name: other}) != entry_hash(ENTRY), name


def test_passwords_are_salted_scrypt_and_checked() -> None:
    one, two = hash_password("correct horse"), hash_password("correct horse")
    assert one != two and one.startswith("scrypt$16384$8$1$")
    assert check_password("correct horse", one)
    assert not check_password("correct horsE", one)
    assert not check_password("correct horse", "md5$whatever")
