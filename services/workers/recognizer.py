"""The recognizer worker: `borderflow.camera-frames` -> `borderflow.plate-reads`.

Each frame becomes one enveloped `PlateReadV1` per distinct plate found in it
(`plate_recognition.reading.frame_plates`: two trucks in view, or a truck and its trailer,
give two reads, each with its own box and confidence, the same camera and time); a burst
of frames of one vehicle is voted into one read (a burst that caught a second truck gives
its read too, `plate_recognition.reading.burst_plates`). Each read is keyed by its camera and
carries the per-character confidences and alternative texts for the matcher; its event id
is derived from the frame's (`read_event_id`), so a redelivered frame publishes the same
ids. A record that is not a valid frame, or whose image does not decode, is dead-lettered
by the consumer runtime with the reason. A valid frame in which no plate is found publishes
nothing (counted, logged at INFO).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from aiokafka import AIOKafkaProducer, ConsumerRecord

from plate_recognition.errors import UnreadableImage
from plate_recognition.images import decode_image
from plate_recognition.pipeline import PlateRecognizer
from plate_recognition.reading import PlateReading, frame_plates
from streams.codec import encode_enveloped
from streams.errors import InvalidEvent
from streams.events import PLATE_READ_TYPE, CandidateV1, PlateReadV1
from streams.frames import CameraFrameV1, decode_frame, frame_images
from streams.runtime import Inbound
from streams.topics import PLATE_READS

log = logging.getLogger(__name__)

PRODUCER_NAME = "recognizer"
EVENT_ID_MAX = 128  # streams.events.EventId


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    frame: CameraFrameV1
    images: tuple[np.ndarray, ...]
    # the frame record's timestamp (the camera's clock when it sent it): the read is sent
    # with it, so the decider's clock check judges the camera, not this worker's delay
    sent_ms: int | None = None


def read_event_id(frame_id: str, index: int = 0) -> str:
    """The event id of a frame's `index`-th plate (0: its most confident detection):
    `<frame_id>/plate`, then `<frame_id>/plate-2`, `-3`... A frame id too long to take the
    suffix within an event id's 128 characters is cut and a digest of it added, so that
    distinct frames keep distinct ids."""
    suffix = "/plate" if index == 0 else f"/plate-{index + 1}"
    if len(frame_id) + len(suffix) <= EVENT_ID_MAX:
        return frame_id + suffix
    digest = hashlib.sha256(frame_id.encode()).hexdigest()[:16]
    return f"{frame_id[: EVENT_ID_MAX - len(suffix) - 17]}~{digest}{suffix}"


def plate_read_event(frame: CameraFrameV1, reading: PlateReading, index: int = 0) -> PlateReadV1:
    """The wire form of a frame's `index`-th plate read: event id derived from the frame's
    (idempotent)."""
    return PlateReadV1(
        event_id=read_event_id(frame.frame_id, index),
        camera_id=frame.camera_id,
        captured_at=frame.captured_at,
        plate_text=reading.text,
        confidence=reading.confidence,
        candidates=[CandidateV1(text=t, confidence=p) for t, p in reading.candidates],
        char_confidences=list(reading.char_confidences),
        bbox=reading.bbox,
        image_ref=frame.image_ref,
    )


class RecognizerWorker:
    def __init__(
        self,
        *,
        recognizer: PlateRecognizer,
        producer: AIOKafkaProducer,
        frames_dir: Path,
        publish_timeout_s: float = 15.0,
    ) -> None:
        self.recognizer, self.producer = recognizer, producer
        self.frames_dir = frames_dir
        self.publish_timeout_s = publish_timeout_s
        self.stats: Counter[str] = Counter()

    def decode(self, record: ConsumerRecord) -> DecodedFrame:
        """A valid frame with its decoded images, or InvalidEvent (-> dead letter)."""
        frame = decode_frame(record.value)
        try:
            encoded = frame_images(frame, self.frames_dir)
        except InvalidEvent as exc:  # its image cannot be had: named with the frame
            raise InvalidEvent(f"frame {frame.frame_id}: {exc.reason}") from exc
        images = []
        for index, data in enumerate(encoded):
            try:
                images.append(decode_image(data))
            except UnreadableImage as exc:
                where = "image" if index == 0 else f"burst image {index - 1}"
                raise InvalidEvent(f"frame {frame.frame_id}: {where}: {exc}") from exc
        return DecodedFrame(frame=frame, images=tuple(images), sent_ms=record.timestamp)

    def recognise(self, decoded: DecodedFrame) -> list[PlateReading]:
        """The frame's plates, most confident detection first (a burst: each plate's voted
        read, `PlateRecognizer.read_burst`)."""
        if len(decoded.images) == 1:
            return frame_plates(self.recognizer.read(decoded.images[0]))
        return self.recognizer.read_burst(decoded.images)

    async def handle(self, batch: Sequence[Inbound[DecodedFrame]]) -> None:
        """Recognise each frame (in a worker thread: CPU-bound), then publish the reads and
        wait for their acknowledgement before the runtime commits the offsets."""
        futures = []
        for item in batch:
            frame = item.event.frame
            readings = await asyncio.to_thread(self.recognise, item.event)
            if not readings:
                self.stats["no_plate"] += 1
                log.info(
                    "frame %s of camera %s: no plate read",
                    frame.frame_id,
                    frame.camera_id,
                    extra={"event_id": frame.frame_id},
                )
                continue
            sent_ms = item.event.sent_ms
            for index, reading in enumerate(readings):
                event = plate_read_event(frame, reading, index)
                value, headers = encode_enveloped(
                    event,
                    event_id=event.event_id,
                    type_=PLATE_READ_TYPE,
                    occurred_at=frame.captured_at,
                    producer=PRODUCER_NAME,
                )
                futures.append(
                    await self.producer.send(
                        PLATE_READS.name,
                        value=value,
                        key=frame.camera_id.encode(),
                        headers=headers,
                        timestamp_ms=sent_ms if sent_ms is not None and sent_ms > 0 else None,
                    )
                )
                self.stats["read"] += 1
            if len(readings) > 1:
                self.stats["frames_with_several_plates"] += 1
        if futures:
            async with asyncio.timeout(self.publish_timeout_s):
                await asyncio.gather(*futures)
