"""Train the plate OCR with crops rendered while it trains (issue 25): worker processes draw
crops of both renderers (the second renderer's camera-like crops, `photo_crops`, training
fonts only; and crops of the first renderer's frames cut at a detector-like box,
`ocr_data`) into a pool of crops that grows over the run; the model trains on batches
drawn from the pool, with geometric and photometric jitter, on an accelerator when there is
one. Made for a machine with many cores and a GPU, where the rendering, not the model, sets
the pace; it also runs (slowly) on a CPU.

Validation, never trained on: a second-renderer split of its own seeds; the own-renderer and
renderer-shift splits of `ocr_eval` (bench seeds, held-out fonts); the real crops
(`BORDERFLOW_REAL_PLATES`), split in two halves: the even-numbered 150 choose the state kept,
the odd-numbered 150 only report it, so the figure reported is not the maximum chosen on.

    python -m plate_recognition.train_ocr_stream --minutes 6 --workers 14 --out runs/stream
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import math
import multiprocessing
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from plate_recognition.alphabet import ALPHABET, encode
from plate_recognition.calibrate_ocr import calibrate_onnx
from plate_recognition.ocr_data import make_crops
from plate_recognition.ocr_eval import own_renderer_crops, real_crops, real_plates_dir, shift_crops
from plate_recognition.photo_crops import TRAIN_FONTS, render_crop
from plate_recognition.train_ocr import (
    PlateOCR,
    export_onnx,
    read_figures,
    softmax_in_chunks,
    state_from_onnx,
    time_lr,
)

log = logging.getLogger(__name__)

PHOTO_BASE = 3_000_000  # second-renderer training seeds: 3,000,000 .. 4,989,999
PHOTO_END = 4_990_000
PHOTO_VAL = 4_995_000  # its validation seeds (never trained on)
SCENE_BASE = 2_000_000  # first-renderer training frames: 2,000,000 .. 2,989,999
SCENE_END = 2_990_000
CHUNK = 128


def _render(
    task: tuple[str, int, int, float, float, float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """One chunk of crops: ("photo", first seed, count, old share, tilt share, slope share,
    heavy share) or ("scene", first frame, frames, 0, 0, 0, 0) with two crops per frame."""
    kind, start, n, old_share, tilt_share, slope_share, heavy_share = task
    if kind == "photo":
        drawn = [
            render_crop(
                seed,
                TRAIN_FONTS,
                cn_share=0.5,
                old_share=old_share,
                tilt_share=tilt_share,
                slope_share=slope_share,
                heavy_share=heavy_share,
            )
            for seed in range(start, start + n)
        ]
        images = np.stack([image for image, _ in drawn])
        labels = np.asarray([encode(spec.text) for _, spec in drawn], dtype=np.int64)
        return images, labels
    images, labels, _ = make_crops(range(start, start + n), 2, 0)
    return images, labels


def _tasks(  # type: ignore[no-untyped-def]
    scene_share: float,
    old_share: float,
    seed: int,
    tilt_share: float = 0.0,
    slope_share: float = 0.0,
    *,
    heavy_share: float = 0.0,
):
    """Chunks in a fixed order: the scene chunks interleaved at `scene_share` of the crops;
    each run seed starts further into the seeds (a run that continues another draws new
    crops)."""
    photo = PHOTO_BASE + (seed - 1) * 200_000
    scene, owed = SCENE_BASE + (seed - 1) * 100_000, 0.0
    while photo < PHOTO_END:
        owed += scene_share
        if owed >= 1.0 and scene < SCENE_END:
            owed -= 1.0
            yield ("scene", scene, CHUNK // 2, 0.0, 0.0, 0.0, 0.0)
            scene += CHUNK // 2
        else:
            yield ("photo", photo, CHUNK, old_share, tilt_share, slope_share, heavy_share)
            photo += CHUNK


class CropPool:
    """Crops as they are rendered, on the training device, up to `capacity` (then the oldest
    are overwritten)."""

    def __init__(self, capacity: int, device: torch.device) -> None:
        h, w = 48, 128
        self.images = torch.empty((capacity, 1, h, w), dtype=torch.uint8, device=device)
        self.labels = torch.empty((capacity, 10), dtype=torch.int64, device=device)
        self.capacity, self.size, self.written = capacity, 0, 0

    def add(self, images: np.ndarray, labels: np.ndarray) -> None:
        n = len(images)
        at = self.written % self.capacity
        take = min(n, self.capacity - at)
        self.images[at : at + take, 0] = torch.from_numpy(images[:take]).to(self.images.device)
        self.labels[at : at + take] = torch.from_numpy(labels[:take]).to(self.labels.device)
        self.written += take
        self.size = min(self.capacity, self.size + take)
        if take < n:
            self.add(images[take:], labels[take:])

    def batch(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, self.size, (n,), generator=gen, device=self.images.device)
        return self.images[idx].float(), self.labels[idx]


def jitter(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Float crops 0..255 (N x 1 x H x W) -> moved a little (scale, shift, rotation, shear,
    as a detector's box differs from the one rendered) and lit differently (contrast,
    brightness, gamma, noise, sometimes inverted: light characters on dark and dark on
    light both occur)."""
    n, dev = x.shape[0], x.device

    def u(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=gen, device=dev) * (hi - lo) + lo

    angle = u(-0.05, 0.05)
    sx, sy = u(0.9, 1.1), u(0.88, 1.12)
    shear = u(-0.1, 0.1)
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0] = sx * torch.cos(angle)
    theta[:, 0, 1] = -torch.sin(angle) * sy + shear
    theta[:, 1, 0] = torch.sin(angle) * sx
    theta[:, 1, 1] = sy * torch.cos(angle)
    theta[:, 0, 2] = u(-0.05, 0.05)
    theta[:, 1, 2] = u(-0.08, 0.08)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    v = x / 255.0
    v = v.clamp(1e-4, 1.0) ** u(0.7, 1.4).view(n, 1, 1, 1)
    mean = v.mean(dim=(2, 3), keepdim=True)
    v = (v - mean) * u(0.6, 1.3).view(n, 1, 1, 1) + mean + u(-0.12, 0.12).view(n, 1, 1, 1)
    invert = (torch.rand(n, generator=gen, device=dev) < 0.15).view(n, 1, 1, 1)
    v = torch.where(invert, 1.0 - v, v)
    noise = torch.randn(x.shape, generator=gen, device=dev) * u(0, 0.04).view(n, 1, 1, 1)
    return ((v + noise).clamp(0, 1) * 255.0).contiguous()


def seen_small(x: torch.Tensor, share: float, gen: torch.Generator) -> torch.Tensor:
    """The first `share` of a batch of float crops (N x 1 x 48 x 128) as a camera gives them
    when the plate is far or the sensor small: brought down to 52-100 pixels wide (the
    height 0.22-0.42 of the width, as plate crops are 3-4.5 times wider than high), then
    back up to the OCR's input. The renderer draws most crops 80-240 pixels wide; a lane
    camera's plate 10 m away at 720p, and public crop sets such as LPRNet's 94 x 24, are at
    the bottom of that range or below it. Four sizes per batch."""
    k = int(x.shape[0] * share)
    if k == 0:
        return x
    out = x.clone()
    bounds = [k * g // 4 for g in range(5)]
    for lo, hi in itertools.pairwise(bounds):
        if hi <= lo:
            continue
        w = int(torch.randint(52, 101, (1,), generator=gen, device=x.device))
        ratio = 0.22 + 0.2 * float(torch.rand(1, generator=gen, device=x.device))
        h = max(12, round(w * ratio))
        small = F.interpolate(x[lo:hi], size=(h, w), mode="area")
        out[lo:hi] = F.interpolate(small, size=x.shape[2:], mode="bilinear", align_corners=False)
    return out


def figures(probs: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    exact, chars = read_figures(probs, labels)
    return {"exact": round(exact, 4), "chars": round(chars, 4)}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=6.0, help="training wall-clock budget")
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 2))
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--pool", type=int, default=2_000_000, help="crops kept at most")
    parser.add_argument("--warm", type=int, default=20_000, help="crops before the first step")
    parser.add_argument("--peak-lr", type=float, default=2e-3)
    parser.add_argument("--scene-share", type=float, default=0.25)
    parser.add_argument("--old-share", type=float, default=0.2)
    parser.add_argument("--d", type=int, default=192)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--heads", type=int, default=6)
    parser.add_argument("--widths", type=str, default="48,48,96,128")
    parser.add_argument("--ema", type=float, default=0.999)
    parser.add_argument("--eval-every", type=int, default=400)
    parser.add_argument("--val", type=int, default=600, help="crops per synthetic split")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--small-share",
        type=float,
        default=0.0,
        help="share of each batch seen small (`seen_small`); 0 before 2026-12-05's run",
    )
    parser.add_argument(
        "--tilt-share",
        type=float,
        default=0.0,
        help="share of the second renderer's crops turned 5-14 degrees more "
        "(`photo_crops.tilted`); 0 before 2026-12-05's night run",
    )
    parser.add_argument(
        "--slope-share",
        type=float,
        default=0.0,
        help="share of the second renderer's crops seen from above and the side, their "
        "edges sloped 5-14 degrees with the verticals upright (`photo_crops.sloped`); "
        "0 before 2026-12-06",
    )
    parser.add_argument(
        "--heavy-share",
        type=float,
        default=0.0,
        help="share of the second renderer's crops whose Chinese characters are drawn heavy "
        "(`photo_crops.heavy_province`); 0 before 2026-12-06's afternoon",
    )
    parser.add_argument("--threads", type=int, default=1, help="the trainer's CPU threads")
    parser.add_argument(
        "--init", type=Path, default=None, help="start from this .pt state or exported .onnx"
    )
    parser.add_argument("--out", type=Path, required=True)
    return parser.parse_args()


def main() -> None:  # noqa: PLR0915 (one run, read top to bottom)
    args = arguments()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cv2.setNumThreads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    # the renderers' processes are forked before anything touches the accelerator
    pool = multiprocessing.get_context("fork").Pool(args.workers)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    # validation first, rendered by the same workers
    val_tasks = [
        (
            "photo",
            PHOTO_VAL + i,
            min(CHUNK, args.val - i),
            args.old_share,
            args.tilt_share,
            args.slope_share,
            args.heavy_share,
        )
        for i in range(0, args.val, CHUNK)
    ]
    val_parts = pool.map(_render, val_tasks)
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {
        "photo_val": (
            torch.from_numpy(np.concatenate([p[0] for p in val_parts])).unsqueeze(1),
            torch.from_numpy(np.concatenate([p[1] for p in val_parts])),
        )
    }
    own = pool.apply_async(own_renderer_crops, (args.val,))
    shift = pool.apply_async(shift_crops, (args.val,))
    for name, job in (("own_renderer", own), ("renderer_shift", shift)):
        images, texts = job.get()
        splits[name] = (
            torch.from_numpy(images).unsqueeze(1),
            torch.tensor([encode(t) for t in texts], dtype=torch.int64),
        )
    root = real_plates_dir()
    if root is not None:
        rx, rtexts = real_crops(root)
        ry = torch.tensor([encode(t) for t in rtexts], dtype=torch.int64)
        rimg = torch.from_numpy(rx).unsqueeze(1)
        splits["real_choose"] = (rimg[0::2], ry[0::2])
        splits["real_report"] = (rimg[1::2], ry[1::2])
    splits = {k: (x.to(device), y.to(device)) for k, (x, y) in splits.items()}
    log.info(
        "validation splits %s in %.0f s",
        {k: len(v[0]) for k, v in splits.items()},
        time.time() - started,
    )

    # the renderers feed the pool from a thread while the model trains
    crops = CropPool(args.pool, device)
    arrived: queue.Queue[tuple[np.ndarray, np.ndarray]] = queue.Queue(maxsize=4096)
    stop = threading.Event()

    def feed() -> None:
        for part in pool.imap(
            _render,
            _tasks(
                args.scene_share,
                args.old_share,
                args.seed,
                args.tilt_share,
                args.slope_share,
                heavy_share=args.heavy_share,
            ),
            chunksize=1,
        ):
            if stop.is_set():
                break
            arrived.put(part)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()

    def drain() -> None:
        while True:
            try:
                crops.add(*arrived.get_nowait())
            except queue.Empty:
                return

    while crops.size < args.warm:
        crops.add(*arrived.get())
        drain()
    log.info("%d crops before the first step, %.0f s", crops.size, time.time() - started)

    widths = tuple(int(w) for w in args.widths.split(","))
    shape = {"d": args.d, "heads": args.heads, "layers": args.layers, "widths": widths}
    model = PlateOCR(**shape)  # type: ignore[arg-type]
    if args.init is not None and args.init.suffix == ".onnx":
        state_from_onnx(args.init, model, crops.images[:2048].cpu())
    elif args.init is not None:
        model.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=True))
    model = model.to(device)
    ema = PlateOCR(**shape).to(device)  # type: ignore[arg-type]
    ema.load_state_dict(model.state_dict())
    params = sum(p.numel() for p in model.parameters())
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.peak_lr, weight_decay=0.05)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    gen = torch.Generator(device=device).manual_seed(args.seed)
    history: list[dict[str, Any]] = []
    best: dict[str, Any] = {}
    best_key: tuple[float, float] = (-1.0, -1.0)
    train_started, step = time.time(), 0

    def validate(loss: float) -> None:
        nonlocal best, best_key
        for name, net in (("raw", model), ("ema", ema)):
            row: dict[str, Any] = {"step": step, "weights": name, "loss": round(loss, 4)}
            for split, (x, y) in splits.items():
                row[split] = figures(softmax_in_chunks(net, x, chunk=1024), y)
            row["crops_seen"] = crops.written
            row["seconds"] = round(time.time() - train_started)
            history.append(row)
            log.info("%s", json.dumps(row))
            with (args.out / "history.jsonl").open("a") as f:
                f.write(json.dumps(row) + "\n")
            key_split = "real_choose" if "real_choose" in row else "photo_val"
            key = (row[key_split]["exact"], row["own_renderer"]["exact"])
            if key > best_key:
                best_key, best = key, row
                torch.save(net.state_dict(), args.out / "best.pt")

    loss_value = math.nan
    if args.init is not None:
        validate(loss_value)  # where it starts
    while True:
        done = min(1.0, (time.time() - train_started) / (args.minutes * 60))
        for group in optimiser.param_groups:
            group["lr"] = time_lr(done, args.peak_lr)
        drain()
        images, labels = crops.batch(args.batch, gen)
        logits = model(jitter(seen_small(images, args.small_share, gen), gen))
        loss = loss_fn(logits.reshape(-1, len(ALPHABET)), labels.reshape(-1))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        optimiser.step()
        step += 1
        with torch.no_grad():
            decay = min(args.ema, (1 + step) / (10 + step))
            for e, p in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
                if e.dtype.is_floating_point:
                    e.mul_(decay).add_(p.detach(), alpha=1 - decay)
                else:
                    e.copy_(p)
        if step % args.eval_every == 0:
            loss_value = float(loss.item())
            validate(loss_value)
        if done >= 1.0:
            break
    loss_value = float(loss.item())
    validate(loss_value)
    stop.set()
    pool.terminate()
    torch.save(model.state_dict(), args.out / "last.pt")
    torch.save(ema.state_dict(), args.out / "last_ema.pt")

    # the kept state, exported (on the CPU), its temperature fitted on the real crops'
    # choosing half when there are real crops (`calibrate_ocr`), else left at 1.0
    kept = PlateOCR(**shape)  # type: ignore[arg-type]
    kept.load_state_dict(torch.load(args.out / "best.pt", map_location="cpu"))
    target = export_onnx(kept, args.out)
    calibrated = calibrate_onnx(target, rx, rtexts) if root is not None else None
    result = {
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "bytes": target.stat().st_size,
        "shape": shape,
        "parameters": params,
        "steps": step,
        "batch": args.batch,
        "crops_rendered": crops.written,
        "train_seconds": round(time.time() - train_started),
        "total_seconds": round(time.time() - started),
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "args": {k: str(v) for k, v in vars(args).items()},
        "chosen_on": "real_choose exact (even-numbered 150 real crops), then own_renderer",
        "chosen": best,
        "calibration": calibrated,
        "history": history,
    }
    (args.out / "stream.metrics.json").write_text(json.dumps(result, indent=1) + "\n")
    log.info("chosen %s", json.dumps(best))
    logging.shutdown()
    os._exit(0)  # the renderers' pool and its feeding thread are not waited for


if __name__ == "__main__":
    main()
