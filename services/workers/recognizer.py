"""The recognizer worker: `borderflow.camera-frames` -> `borderflow.plate-reads`.

Each frame (or burst of frames of one vehicle, voted into one read) becomes at most one
enveloped `PlateReadV1`, keyed by its camera, with the read's per-character confidences and
alternative texts for the matcher. A record that is not a valid frame, or whose image does
not decode, is dead-lettered by the consumer runtime with the reason. A valid frame in
which no plate is found publishes nothing (counted, logged at INFO).
"""

from __future__ import annotations

import asyncio
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
from plate_recognition.reading import PlateReading
from streams.codec import encode_enveloped
from streams.errors import InvalidEvent
from streams.events import PLATE_READ_TYPE, CandidateV1, PlateReadV1
from streams.frames import CameraFrameV1, decode_frame, frame_images
from streams.runtime import Inbound
from streams.topics import PLATE_READS

log = logging.getLogger(__name__)

PRODUCER_NAME = "recognizer"


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    frame: CameraFrameV1
    images: tuple[np.ndarray, ...]
    # the frame record's timestamp (the camera's clock when it sent it): the read is sent
    # with it, so the decider's clock check judges the camera, not this worker's delay
    sent_ms: int | None = None


def plate_read_event(frame: CameraFrameV1, reading: PlateReading) -> PlateReadV1:
    """The wire form of a frame's read: event id derived from the frame's (idempotent)."""
    return PlateReadV1(
        event_id=f"{frame.frame_id}/plate",
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

    def recognise(self, decoded: DecodedFrame) -> PlateReading | None:
        if len(decoded.images) == 1:
            found = self.recognizer.read(decoded.images[0])
            return found[0] if found else None
        return self.recognizer.read_burst(decoded.images)

    async def handle(self, batch: Sequence[Inbound[DecodedFrame]]) -> None:
        """Recognise each frame (in a worker thread: CPU-bound), then publish the reads and
        wait for their acknowledgement before the runtime commits the offsets."""
        futures = []
        for item in batch:
            frame = item.event.frame
            reading = await asyncio.to_thread(self.recognise, item.event)
            if reading is None or not reading.text:
                self.stats["no_plate"] += 1
                log.info(
                    "frame %s of camera %s: no plate read",
                    frame.frame_id,
                    frame.camera_id,
                    extra={"event_id": frame.frame_id},
                )
                continue
            event = plate_read_event(frame, reading)
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
                    timestamp_ms=item.event.sent_ms
                    if item.event.sent_ms is not None and item.event.sent_ms > 0
                    else None,
                )
            )
            self.stats["read"] += 1
        if futures:
            async with asyncio.timeout(self.publish_timeout_s):
                await asyncio.gather(*futures)
