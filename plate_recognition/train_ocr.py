"""Train the plate OCR (a small PyTorch CNN, one softmax per character slot over both countries'
alphabet) on jittered crops of seeded synthetic frames, export it in the fast-plate-ocr ONNX
format (input `input` uint8 N x H x W x 1, output `plate` softmax N x slots x vocab) with its
plate config, and write its metrics next to it. Needs the `train` extra; never run in CI.

    python -m plate_recognition.train_ocr --frames 16000 --epochs 12 --minutes 25 --seed 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from plate_recognition.alphabet import (
    ALPHABET,
    IMG_HEIGHT,
    IMG_WIDTH,
    MAX_SLOTS,
    encode,
    plate_config_yaml,
)
from plate_recognition.calibrate_ocr import fit
from plate_recognition.ocr_data import OCR_SEED_BASE, make_crops
from plate_recognition.ocr_eval import (
    OnnxOcr,
    own_renderer_crops,
    real_crops,
    real_plates_dir,
    score,
    shift_crops,
)
from plate_recognition.photo_crops import TRAIN_FONTS, render_crop
from plate_recognition.views import ONE_VIEW

log = logging.getLogger(__name__)
PHOTO_SEED_BASE = 3_000_000  # the second renderer's training crops (bench: 5M+, shift: 6M+)
MODELS = Path(__file__).resolve().parent / "models"


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class SlotReader(nn.Module):
    """One layer of the slots' reading: each slot query attends over the image's feature
    tokens (cross-attention), then a small feed-forward step; pre-norm, residual."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.norm_q = nn.LayerNorm(d)
        self.norm_kv = nn.LayerNorm(d)
        self.attend = nn.MultiheadAttention(d, heads, dropout=0.0, batch_first=True)
        self.norm_ff = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, queries: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        kv = self.norm_kv(tokens)
        read, _ = self.attend(self.norm_q(queries), kv, kv, need_weights=False)
        queries = queries + read
        return queries + self.ff(self.norm_ff(queries))


class PlateOCR(nn.Module):
    """IMG_HEIGHT x IMG_WIDTH grayscale -> slots x vocab logits (training) or probabilities
    (export). A small CNN turns the crop into a grid of feature tokens (6 x 16, each with a
    learned position); one learned query per character slot reads them by cross-attention,
    so a slot finds its character wherever the layout puts it (one line or two, shifted by
    a loose box); one classifier shared by all slots."""

    def __init__(
        self,
        export: bool = False,
        d: int = 128,
        heads: int = 4,
        layers: int = 2,
        widths: tuple[int, int, int, int] = (32, 32, 64, 64),
    ):
        super().__init__()
        self.export = export
        self.shape: dict[str, Any] = {"d": d, "heads": heads, "layers": layers, "widths": widths}
        w1, w2, w3, w4 = widths
        self.features = nn.Sequential(
            nn.Conv2d(1, w1, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(w1),
            nn.ReLU(inplace=True),  # H/2 x W/2
            block(w1, w2),
            nn.MaxPool2d(2),  # H/4 x W/4
            block(w2, w3),
            block(w3, w4),
            nn.MaxPool2d(2),  # H/8 x W/8
            block(w4, d),
        )
        tokens = (IMG_HEIGHT // 8) * (IMG_WIDTH // 8)
        self.position = nn.Parameter(torch.randn(1, tokens, d) * 0.02)
        self.queries = nn.Parameter(torch.randn(1, MAX_SLOTS, d) * 0.02)
        self.readers = nn.ModuleList(SlotReader(d, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.classify = nn.Linear(d, len(ALPHABET))
        # divides the logits before the exported softmax; fitted after training
        # (`fit_temperature`) so that the confidence means what it says
        self.register_buffer("temperature", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.export:  # uint8 NHWC, as fast-plate-ocr feeds it
            x = x.permute(0, 3, 1, 2).float()
        x = x / 255.0
        grid = self.features(x)  # N x d x h x w
        tokens = grid.flatten(2).transpose(1, 2) + self.position  # N x hw x d
        slots = self.queries.expand(x.shape[0], -1, -1)
        for reader in self.readers:
            slots = reader(slots, tokens)
        logits = self.classify(self.norm(slots))  # N x slots x vocab
        return torch.softmax(logits / self.temperature, dim=-1) if self.export else logits


def state_from_onnx(path: Path, model: PlateOCR, images: torch.Tensor) -> None:
    """Load an exported OCR (`export_onnx`) back into `model` to fine-tune it: the export fused
    each convolution with its batch norm and turned linear layers into MatMuls, so the
    convolutions take the fused weights, and each batch norm is set to pass its fused bias
    through with the running statistics the data `images` gives (scaled back out by its
    weight), which leaves the function unchanged and batch statistics near the running ones."""
    import onnx  # noqa: PLC0415 (the train extra)
    from onnx import numpy_helper  # noqa: PLC0415

    graph = onnx.load(str(path)).graph
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    state = model.state_dict()
    for name in state:
        if name in weights:
            state[name] = weights[name]
    # modules() walks the layers in the order they run, as the graph lists its nodes
    convs = [m for m in model.features.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.features.modules() if isinstance(m, nn.BatchNorm2d)]
    conv_nodes = [n for n in graph.node if n.op_type == "Conv"]
    linears = [lin for r in model.readers for lin in (r.ff[0], r.ff[2])] + [model.classify]
    matmuls = [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    if len(conv_nodes) != len(convs) or len(matmuls) != len(linears):
        raise ValueError(f"{path} does not have this model's layers")
    names = {id(m): n for n, m in model.named_modules()}
    biases: list[torch.Tensor] = []
    for conv, node in zip(convs, conv_nodes, strict=True):
        state[names[id(conv)] + ".weight"] = weights[node.input[1]]
        biases.append(weights[node.input[2]])
    for linear, node in zip(linears, matmuls, strict=True):
        state[names[id(linear)] + ".weight"] = weights[node.input[1]].T.contiguous()
    for norm, bias in zip(norms, biases, strict=True):
        prefix = names[id(norm)]
        state[prefix + ".weight"] = torch.ones_like(bias)
        state[prefix + ".bias"] = bias
        state[prefix + ".running_mean"] = torch.zeros_like(bias)
        state[prefix + ".running_var"] = torch.full_like(bias, 1 - norm.eps)
    model.load_state_dict(state)
    # the statistics of each convolution's output on real crops, with the function unchanged
    seen: dict[int, torch.Tensor] = {}
    hooks = [
        conv.register_forward_hook(lambda m, _i, out: seen.__setitem__(id(m), out.detach()))
        for conv in convs
    ]
    model.eval()
    with torch.no_grad():
        model(images.float())
    for hook in hooks:
        hook.remove()
    for conv, norm, bias in zip(convs, norms, biases, strict=True):
        out = seen[id(conv)]
        mean, var = out.mean(dim=(0, 2, 3)), out.var(dim=(0, 2, 3)) + norm.eps
        with torch.no_grad():
            norm.running_mean.copy_(mean)
            norm.running_var.copy_(var - norm.eps)
            norm.weight.copy_(var.sqrt())
            norm.bias.copy_(bias + mean)
    model.train()


def augment(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Cheap photometric jitter on uint8-valued float crops: contrast, brightness, inversion-free
    noise. Geometry jitter is already in the crops."""
    n = batch.shape[0]
    contrast = torch.empty(n, 1, 1, 1).uniform_(0.6, 1.3, generator=gen)
    bright = torch.empty(n, 1, 1, 1).uniform_(-30, 30, generator=gen)
    noise = torch.randn(batch.shape, generator=gen) * torch.empty(n, 1, 1, 1).uniform_(
        0, 8, generator=gen
    )
    mean = batch.mean(dim=(2, 3), keepdim=True)
    return ((batch - mean) * contrast + mean + bright + noise).clamp(0, 255)


def evaluate(model: PlateOCR, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    exact, chars = read_figures(softmax_in_chunks(model, images), labels)
    return {"exact": exact, "char_accuracy": chars}


def read_figures(probs: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """(exact reads, characters right among the real slots) of N x slots x vocab
    probabilities against N x slots labels."""
    pred = probs.argmax(-1)
    real = labels != ALPHABET.index("_")
    exact = float((pred == labels).all(dim=1).float().mean())
    return exact, float(((pred == labels) & real).sum() / real.sum())


def time_lr(done: float, peak: float = 3e-3) -> float:
    """Warm-up over the first 10% of the time budget, then cosine down to 1% of the peak."""
    if done < 0.1:
        return peak * (0.1 + 0.9 * done / 0.1)
    return peak * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * (done - 0.1) / 0.9)))


def export_onnx(model: PlateOCR, out: Path = MODELS) -> Path:
    """The fast-plate-ocr format: uint8 NHWC `input`, softmax `plate`; the config beside it."""
    export = PlateOCR(export=True, **model.shape)
    export.load_state_dict(model.state_dict())
    export.eval()
    out.mkdir(parents=True, exist_ok=True)
    target = out / "plate_ocr.onnx"
    dummy = torch.zeros(1, IMG_HEIGHT, IMG_WIDTH, 1, dtype=torch.uint8)
    torch.onnx.export(
        export,
        (dummy,),
        str(target),
        input_names=["input"],
        output_names=["plate"],
        dynamic_axes={"input": {0: "n"}, "plate": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    (out / "plate_ocr_config.yaml").write_text(plate_config_yaml())
    return target


def softmax_in_chunks(
    model: nn.Module, images: torch.Tensor, temperature: float = 1.0, chunk: int = 512
) -> torch.Tensor:
    """N x 1 x H x W uint8 crops -> N x slots x vocab probabilities, on the crops' device,
    in eval mode (the model is put back in training mode after)."""
    model.eval()
    with torch.no_grad():
        out = torch.cat(
            [
                torch.softmax(model(images[i : i + chunk].float()) / temperature, dim=-1)
                for i in range(0, len(images), chunk)
            ]
        )
    model.train()
    return out


def probabilities(model: PlateOCR, images: torch.Tensor, temperature: float = 1.0) -> np.ndarray:
    """`softmax_in_chunks` as numpy, on the CPU."""
    return softmax_in_chunks(model, images, temperature).cpu().numpy()


def fit_temperature(model: PlateOCR, images: torch.Tensor, texts: list[str]) -> float:
    """The temperature whose plate confidence (product of the slots' top probabilities) best
    predicts an exact read on these crops (`calibrate_ocr.fit`, 61 temperatures over 0.3..3)."""
    grid = np.exp(np.linspace(np.log(0.3), np.log(3.0), 61))
    return fit(probabilities(model, images), texts, grid)


class Keeper:
    """Validates the model during training and keeps the state to export: with `choose`
    (crops and texts: the real photographs) the one that reads most of them exactly (then
    the most characters), else the last. Each validation saves `last.pt` and `best.pt`."""

    def __init__(
        self,
        val: tuple[torch.Tensor, torch.Tensor],
        choose: tuple[torch.Tensor, list[str]] | None,
        out: Path,
    ) -> None:
        self.val, self.choose, self.out = val, choose, out
        self.history: list[dict[str, Any]] = []
        self.chosen: dict[str, Any] = {}
        self.state: dict[str, torch.Tensor] = {}
        self._key: tuple[float, float] | None = None
        self._started = time.time()
        out.mkdir(parents=True, exist_ok=True)

    def validate(self, model: PlateOCR, epoch: int, step: int, loss: float) -> None:
        figures: dict[str, Any] = {"epoch": epoch, "step": step, "loss": round(loss, 4)}
        figures.update(evaluate(model, *self.val))
        key = (figures["exact"], figures["char_accuracy"])
        if self.choose is not None:
            real = score(probabilities(model, self.choose[0]), self.choose[1])
            figures["real"] = real
            key = (real["exact"], real["char_accuracy"])
        figures["seconds"] = round(time.time() - self._started)
        self.history.append(figures)
        log.info("%s", json.dumps(figures, ensure_ascii=False))
        torch.save(model.state_dict(), self.out / "last.pt")
        if self.choose is None or self._key is None or key > self._key:
            self._key, self.chosen = key, figures
            self.state = {k: v.clone() for k, v in model.state_dict().items()}
            torch.save(self.state, self.out / "best.pt")


def train(
    model: PlateOCR,
    data: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    args: argparse.Namespace,
    choose: tuple[torch.Tensor, list[str]] | None = None,
) -> Keeper:
    """The training loop, stopped by the time budget; a validation every `args.eval_every`
    batches (and at each epoch's end); -> the `Keeper` with the history and the state kept."""
    images, labels = data
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = args.epochs * (len(images) // args.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=args.peak_lr, total_steps=max(1, steps), pct_start=0.15
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    gen = torch.Generator().manual_seed(args.seed)
    keeper = Keeper(val, choose, args.out)
    train_started, step, done = time.time(), 0, 0.0
    if choose is not None:
        keeper.validate(model, 0, 0, math.nan)  # where it starts
    for epoch in range(args.epochs):
        order = torch.randperm(len(images), generator=gen)
        for i in range(0, len(order) - args.batch + 1, args.batch):
            idx = order[i : i + args.batch]
            logits = model(augment(images[idx].float(), gen))
            loss = loss_fn(logits.reshape(-1, len(ALPHABET)), labels[idx].reshape(-1))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if args.time_schedule:
                done = min(1.0, (time.time() - train_started) / (args.minutes * 60))
                for group in optimiser.param_groups:
                    group["lr"] = time_lr(done, args.peak_lr)
            elif step < steps - 1:
                schedule.step()
            step += 1
            if args.eval_every and step % args.eval_every == 0:
                keeper.validate(model, epoch + 1, step, loss.item())
            if args.time_schedule and done >= 1.0:
                break
        if not args.eval_every or step % args.eval_every:
            keeper.validate(model, epoch + 1, step, loss.item())
        if time.time() - train_started > args.minutes * 60:
            log.info("time budget spent")
            break
    return keeper


def photo_crops(seeds: range, old_share: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Crops of the second renderer (`photo_crops`, training fonts) for `seeds`."""
    drawn = [render_crop(seed, TRAIN_FONTS, cn_share=0.5, old_share=old_share) for seed in seeds]
    texts = [spec.text for _, spec in drawn]
    labels = np.asarray([encode(t) for t in texts], dtype=np.int64)
    return np.stack([image for image, _ in drawn]), labels, texts


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=16_000)
    parser.add_argument("--crops-per-frame", type=int, default=2)
    parser.add_argument("--val-frames", type=int, default=1_000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--minutes", type=float, default=25.0, help="training wall-clock budget")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--time-schedule",
        action="store_true",
        help="learning rate follows the --minutes budget (warm-up, cosine), not the epochs",
    )
    parser.add_argument("--out", type=Path, default=MODELS, help="where the model goes")
    parser.add_argument(
        "--init", type=Path, default=None, help="start from this .pt state or exported .onnx"
    )
    parser.add_argument(
        "--detector",
        type=Path,
        default=None,
        help="cut each frame's first crop where this detector (.onnx) finds the plate",
    )
    parser.add_argument("--peak-lr", type=float, default=3e-3)
    parser.add_argument(
        "--renderer",
        choices=("scenes", "photo"),
        default="scenes",
        help="scenes: crops of the first renderer's frames; photo: the second renderer's "
        "crops (`photo_crops`: --frames crops, one each)",
    )
    parser.add_argument(
        "--old-share", type=float, default=0.25, help="photo: plates drawn the first way"
    )
    parser.add_argument(
        "--real-plates",
        type=Path,
        default=real_plates_dir(),
        help="real crops (labels.jsonl) that choose the state kept: validation, never trained on",
    )
    parser.add_argument("--eval-every", type=int, default=0, help="batches between validations")
    parser.add_argument(
        "--no-choose", action="store_true", help="keep the last state, not the real crops' best"
    )
    return parser.parse_args()


def crops(
    args: argparse.Namespace,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(train crops, their labels, validation crops, their labels, their texts)."""
    if args.renderer == "photo":
        base = PHOTO_SEED_BASE + args.seed * 100_000
        x, y, _ = photo_crops(range(base, base + args.frames), args.old_share)
        vx, vy, vtexts = photo_crops(
            range(base + args.frames, base + args.frames + args.val_frames), args.old_share
        )
    else:
        base = OCR_SEED_BASE + args.seed * 100_000
        x, y, _ = make_crops(
            range(base, base + args.frames),
            args.crops_per_frame,
            workers=args.threads,
            detector=args.detector,
        )
        vx, vy, vtexts = make_crops(
            range(base + args.frames, base + args.frames + args.val_frames),
            1,
            99,
            workers=args.threads,
            detector=args.detector,
        )
    return x, y, vx, vy, vtexts


def main() -> None:
    args = arguments()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    started = time.time()
    x, y, vx, vy, vtexts = crops(args)
    log.info("%d train crops, %d val crops in %.0f s", len(x), len(vx), time.time() - started)
    images = torch.from_numpy(x).unsqueeze(1)  # uint8; a batch is made float when used
    labels = torch.from_numpy(y)
    val_images = torch.from_numpy(vx).unsqueeze(1)
    val_labels = torch.from_numpy(vy)
    choose = None
    if args.real_plates is not None and not args.no_choose:
        rx, rtexts = real_crops(args.real_plates)
        choose = (torch.from_numpy(rx).unsqueeze(1), rtexts)
    model = PlateOCR()
    if args.init is not None and args.init.suffix == ".onnx":
        state_from_onnx(args.init, model, images[:2048])
    elif args.init is not None:
        model.load_state_dict(torch.load(args.init, weights_only=True), strict=False)
    keeper = train(model, (images, labels), (val_images, val_labels), args, choose)
    history, chosen = keeper.history, keeper.chosen
    model.load_state_dict(keeper.state)
    temperature = fit_temperature(model, val_images, vtexts)
    model.temperature.fill_(temperature)
    target = export_onnx(model, args.out)
    params = sum(p.numel() for p in model.parameters())
    ocr = OnnxOcr(target, views=ONE_VIEW)  # the new model alone (views are fitted after)
    own, shifted = own_renderer_crops(600), shift_crops(600)
    splits: dict[str, Any] = {
        "synthetic_val": score(ocr.probs(vx), vtexts),
        "own_renderer_600": score(ocr.probs(own[0]), own[1]),
        "renderer_shift_600": score(ocr.probs(shifted[0]), shifted[1]),
    }
    if choose is not None:
        splits["real_crops_validation"] = score(ocr.probs(rx), choose[1])
    result = {
        "renderer": args.renderer,
        "train_crops": len(x),
        "val_crops": len(vx),
        "epochs_run": max(h["epoch"] for h in history),
        "seed": args.seed,
        "init": None if args.init is None else str(args.init),
        "detector": None if args.detector is None else str(args.detector),
        "chosen_on": "real crops (exact, then characters)" if choose is not None else "last",
        "chosen": chosen,
        "temperature": round(temperature, 4),
        "parameters": params,
        "splits": splits,
        "val": history[-1],
        "history": history,
        "train_seconds": round(time.time() - started),
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "bytes": target.stat().st_size,
    }
    torch.save(model.state_dict(), args.out / "plate_ocr.pt")
    (args.out / "plate_ocr.metrics.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    )
    log.info("%s", json.dumps(result["splits"]))


if __name__ == "__main__":
    main()
