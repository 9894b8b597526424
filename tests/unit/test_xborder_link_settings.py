"""`borderflow xborder link` with its keys pasted wrong: exit 2 and one line naming the
variable and the key id, before anything starts. It ended in a traceback naming neither
(`ValueError: not base64: Only base64 data is allowed`, `An Ed25519 public key is 32 bytes
long`), found by a stranger configuring the other side from docs/exchange.md."""

from __future__ import annotations

import pytest

from lanes.crossings import Side
from services.cli.main import main
from streams.xborder_sign import SigningKey

KEY = SigningKey.generate("vn-2026-01", Side.VN)
PEER = SigningKey.generate("cn-2026-01", Side.CN)


@pytest.fixture
def link_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in {
        "BORDERFLOW_XBORDER_SIDE": "VN",
        "BORDERFLOW_XBORDER_SIGNING_KEY_ID": KEY.key_id,
        "BORDERFLOW_XBORDER_SIGNING_KEY": KEY.private_base64(),
        "BORDERFLOW_XBORDER_TRUSTED_KEYS": f'{{"cn-2026-01": "{PEER.public_base64()}"}}',
    }.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        (
            "BORDERFLOW_XBORDER_TRUSTED_KEYS",
            '{"cn-2026-02": "not base64!"}',
            "BORDERFLOW_XBORDER_TRUSTED_KEYS: key 'cn-2026-02': not base64",
        ),
        (
            "BORDERFLOW_XBORDER_TRUSTED_KEYS",
            '{"cn-2026-02": "AAAA"}',
            "BORDERFLOW_XBORDER_TRUSTED_KEYS: key 'cn-2026-02': not an Ed25519 key: "
            "An Ed25519 public key is 32 bytes long",
        ),
        (
            "BORDERFLOW_XBORDER_TRUSTED_KEYS",
            "cn-2026-01=abc",
            "BORDERFLOW_XBORDER_TRUSTED_KEYS: not JSON (Expecting value: line 1 column 1 "
            "(char 0)): a JSON object of key id -> base64 Ed25519 public key, "
            '{"cn-2026-01": "..."}',
        ),
        (
            "BORDERFLOW_XBORDER_SIGNING_KEY",
            "c2VjcmV0",  # 6 bytes
            "BORDERFLOW_XBORDER_SIGNING_KEY: not an Ed25519 key: "
            "An Ed25519 private key is 32 bytes long",
        ),
        (
            "BORDERFLOW_XBORDER_SIGNING_KEY",
            "",
            "BORDERFLOW_XBORDER_SIGNING_KEY: BORDERFLOW_XBORDER_SIGNING_KEY_ID and "
            "_SIGNING_KEY are both required",
        ),
    ],
)
def test_a_key_pasted_wrong_is_named_before_anything_starts(
    link_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    said: str,
) -> None:
    link_env.setenv(name, value)
    assert main(["xborder", "link"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"borderflow xborder link: invalid configuration: {said}"), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert KEY.private_base64() not in err  # never the secret
