"""A manifest's customs risk channel: the one customs gave it, else what its status implies."""

from __future__ import annotations

from lanes.model import CustomsChannel, CustomsStatus, Manifest

_IMPLIED = {
    CustomsStatus.CLEARED: CustomsChannel.GREEN,  # released on its documents
    CustomsStatus.INSPECT: CustomsChannel.RED,  # to be inspected
}


def channel_of(manifest: Manifest) -> CustomsChannel | None:
    """The manifest's explicit channel; else green when cleared, red when customs wants an
    inspection; None while customs is still pending (no channel yet)."""
    if manifest.customs_channel is not None:
        return manifest.customs_channel
    return _IMPLIED.get(manifest.customs_status)
