"""The manifest intake worker: `borderflow.manifests` -> the manifest use case
(`FileManifestsHandler`, source "topic"), built by the composition root.

A record that is not a valid intake form is dead-lettered by the consumer runtime with the
field and the reason; one not keyed by its manifest_id (the key keeps a manifest's versions
in order on one partition) is filed, counted and told in the log (streams/keys.py). A
valid manifest whose id belongs to another firm is refused: it is logged (WARNING, with its
event id) and sent to `borderflow.manifests.dlq` with the reason in `dlq.error`, never
dropped in silence. A redelivered manifest is `unchanged`: no effect.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter, OrderedDict
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer, ConsumerRecord

from lanes.filing import StoreResult, StoreStatus
from services.service_layer.manifests import FileManifests, FileManifestsHandler, tally
from streams import clock
from streams.keys import key_mismatch, note_mismatch
from streams.manifests import ManifestV1, decode_manifest
from streams.runtime import Inbound, dead_letter_headers
from streams.topics import dead_letter_topic

log = logging.getLogger(__name__)

Coordinates = tuple[str, int, int]


class ManifestIntake:
    def __init__(
        self,
        *,
        file: FileManifestsHandler,
        producer: AIOKafkaProducer,
        group_id: str,
        publish_timeout_s: float = 15.0,
        remember: int = 20_000,
    ) -> None:
        self.file, self.producer, self.group_id = file, producer, group_id
        self.publish_timeout_s = publish_timeout_s
        self.stats: Counter[str] = tally(())
        # The original records of decoded manifests, until handled: a refused one is
        # dead-lettered with its own bytes and headers. Bounded, oldest forgotten first.
        self._records: OrderedDict[Coordinates, ConsumerRecord] = OrderedDict()
        self._remember = remember

    def decode(self, record: ConsumerRecord) -> ManifestV1:
        """The intake form of a record, or InvalidEvent (-> dead letter) naming the field
        (`key` for a record not keyed by its manifest_id)."""
        manifest = decode_manifest(record.value, require_firm=True)
        if (mismatch := manifest_key_mismatch(record.key, manifest)) is not None:
            note_mismatch(record.topic, self.group_id, mismatch)
        self._records[(record.topic, record.partition, record.offset)] = record
        while len(self._records) > self._remember:
            self._records.popitem(last=False)
        return manifest

    async def handle(self, batch: Sequence[Inbound[ManifestV1]]) -> None:
        """Store the batch in one transaction, then dead-letter the refused ones."""
        results = await self.file(
            FileManifests(
                tuple(item.event.to_domain() for item in batch),
                source="topic",
                now=clock.wall_clock(),
            )
        )
        refused = [
            (item, result)
            for item, result in zip(batch, results, strict=True)
            if result.status is StoreStatus.REFUSED
        ]
        await self._dead_letter(refused)
        for item in batch:
            self._records.pop((item.topic, item.partition, item.offset), None)
        self.stats.update(tally(results))

    async def _dead_letter(
        self, refused: Sequence[tuple[Inbound[ManifestV1], StoreResult]]
    ) -> None:
        futures = []
        for item, result in refused:
            record = self._records.get((item.topic, item.partition, item.offset))
            if record is None:  # forgotten (a very long retry): re-encode the manifest
                record = _stand_in(item)
            reason = result.reason or "refused"
            log.warning(
                "manifest %s refused (event %s): %s; sent to the dead-letter topic",
                result.manifest_id,
                _event_id(record),
                reason,
                extra={"event_id": _event_id(record), "manifest_id": result.manifest_id},
            )
            headers = dead_letter_headers(
                record, reason=reason, group_id=self.group_id, error_type="refused"
            )
            futures.append(
                await self.producer.send(
                    dead_letter_topic(record.topic),
                    value=record.value,
                    key=record.key,
                    headers=headers,
                )
            )
        if futures:
            async with asyncio.timeout(self.publish_timeout_s):
                await asyncio.gather(*futures)


def manifest_key_mismatch(key: bytes | None, manifest: ManifestV1) -> str | None:
    """Why a record's key is not its manifest's id as stored (the blanks around it dropped),
    or None: only that key keeps a manifest's versions on one partition, in the order they
    are filed. The record is taken all the same (streams/keys.py)."""
    return key_mismatch(
        key,
        record="manifest's record",
        field="manifest_id",
        wanted=manifest.manifest_id,
        keeps="its versions",
    )


def _stand_in(item: Inbound[ManifestV1]) -> ConsumerRecord:
    value = item.event.model_dump_json().encode()
    return ConsumerRecord(
        topic=item.topic,
        partition=item.partition,
        offset=item.offset,
        timestamp=0,
        timestamp_type=0,
        key=item.key,
        value=value,
        checksum=None,
        serialized_key_size=len(item.key or b""),
        serialized_value_size=len(value),
        headers=(),
    )


def _event_id(record: ConsumerRecord) -> str:
    """The envelope's event id, else the record's coordinates."""
    try:
        obj = json.loads(record.value)
    except (TypeError, ValueError):
        obj = None
    if isinstance(obj, dict) and isinstance(obj.get("event_id"), str):
        return str(obj["event_id"])
    return f"{record.topic}[{record.partition}]@{record.offset}"
