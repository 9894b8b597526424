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

import torch
from torch import nn

from plate_recognition.alphabet import ALPHABET, IMG_HEIGHT, IMG_WIDTH, MAX_SLOTS, plate_config_yaml
from plate_recognition.ocr_data import OCR_SEED_BASE, make_crops

log = logging.getLogger(__name__)
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

    def __init__(self, export: bool = False, d: int = 128, heads: int = 4, layers: int = 2):
        super().__init__()
        self.export = export
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),  # H/2 x W/2
            block(32, 32),
            nn.MaxPool2d(2),  # H/4 x W/4
            block(32, 64),
            block(64, 64),
            nn.MaxPool2d(2),  # H/8 x W/8
            block(64, d),
        )
        tokens = (IMG_HEIGHT // 8) * (IMG_WIDTH // 8)
        self.position = nn.Parameter(torch.randn(1, tokens, d) * 0.02)
        self.queries = nn.Parameter(torch.randn(1, MAX_SLOTS, d) * 0.02)
        self.readers = nn.ModuleList(SlotReader(d, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.classify = nn.Linear(d, len(ALPHABET))

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
        return torch.softmax(logits, dim=-1) if self.export else logits


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
    model.eval()
    with torch.no_grad():
        pred = torch.cat(
            [model(images[i : i + 512].float()).argmax(-1) for i in range(0, len(images), 512)]
        )
    model.train()
    pad = ALPHABET.index("_")
    real = labels != pad
    return {
        "exact": float((pred == labels).all(dim=1).float().mean()),
        "char_accuracy": float(((pred == labels) & real).sum() / real.sum()),
    }


def time_lr(done: float, peak: float = 3e-3) -> float:
    """Warm-up over the first 10% of the time budget, then cosine down to 1% of the peak."""
    if done < 0.1:
        return peak * (0.1 + 0.9 * done / 0.1)
    return peak * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * (done - 0.1) / 0.9)))


def export_onnx(model: PlateOCR, out: Path = MODELS) -> Path:
    """The fast-plate-ocr format: uint8 NHWC `input`, softmax `plate`; the config beside it."""
    export = PlateOCR(export=True)
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


def train(
    model: PlateOCR,
    data: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    args: argparse.Namespace,
) -> list[dict[str, float]]:
    """The training loop; one validation per epoch, stopped by the time budget."""
    images, labels = data
    val_images, val_labels = val
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = args.epochs * (len(images) // args.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=args.peak_lr, total_steps=max(1, steps), pct_start=0.15
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    gen = torch.Generator().manual_seed(args.seed)
    train_started, step, history = time.time(), 0, []
    done = 0.0
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
            if args.time_schedule and done >= 1.0:
                break
        figures = evaluate(model, val_images, val_labels)
        history.append({"epoch": epoch + 1, "loss": round(loss.item(), 4), **figures})
        log.info("%s %.0f s", json.dumps(history[-1]), time.time() - train_started)
        if time.time() - train_started > args.minutes * 60:
            log.info("time budget spent")
            break
    return history


def main() -> None:
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
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    started = time.time()
    base = OCR_SEED_BASE + args.seed * 100_000
    x, y, _ = make_crops(
        range(base, base + args.frames),
        args.crops_per_frame,
        workers=args.threads,
        detector=args.detector,
    )
    vx, vy, _ = make_crops(
        range(base + args.frames, base + args.frames + args.val_frames),
        1,
        99,
        workers=args.threads,
        detector=args.detector,
    )
    log.info("%d train crops, %d val crops in %.0f s", len(x), len(vx), time.time() - started)
    images = torch.from_numpy(x).unsqueeze(1)  # uint8; a batch is made float when used
    labels = torch.from_numpy(y)
    val_images = torch.from_numpy(vx).unsqueeze(1)
    val_labels = torch.from_numpy(vy)
    model = PlateOCR()
    if args.init is not None and args.init.suffix == ".onnx":
        state_from_onnx(args.init, model, images[:2048])
    elif args.init is not None:
        model.load_state_dict(torch.load(args.init, weights_only=True))
    history = train(model, (images, labels), (val_images, val_labels), args)
    target = export_onnx(model, args.out)
    params = sum(p.numel() for p in model.parameters())
    result = {
        "train_crops": len(x),
        "val_crops": len(vx),
        "epochs_run": len(history),
        "seed": args.seed,
        "init": None if args.init is None else str(args.init),
        "detector": None if args.detector is None else str(args.detector),
        "parameters": params,
        "val": history[-1],
        "history": history,
        "train_seconds": round(time.time() - started),
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "bytes": target.stat().st_size,
    }
    torch.save(model.state_dict(), args.out / "plate_ocr.pt")
    (args.out / "plate_ocr.metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    log.info("%s", json.dumps(result))


if __name__ == "__main__":
    main()
