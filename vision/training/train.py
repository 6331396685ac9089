"""Train the wound segmentation model from scratch, resumably.

    python -m vision.training.train --seed 1 --out vision/training/runs/seed1

Checkpoints (`last.pt`, every epoch) and a log go to --out; re-running the same command resumes
from `last.pt`. The final EMA weights are saved as `final.pt`, which `export` turns into ONNX.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vision.training import data
from vision.training.model import ModelConfig, WoundUNet, count_parameters


def dice_bce_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BCE plus a soft Dice over the whole batch (stable with the many tiny wounds)."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum()
    soft_dice = (2 * inter + 1.0) / (prob.sum() + target.sum() + 1.0)
    return bce + (1 - soft_dice)


def dice_score(pred: np.ndarray, truth: np.ndarray) -> float:
    p, t = pred.astype(bool), truth.astype(bool)
    denom = int(p.sum()) + int(t.sum())
    return 1.0 if denom == 0 else 2.0 * float((p & t).sum()) / denom


class Ema:
    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        for e, m in zip(self.model.state_dict().values(), model.state_dict().values(), strict=True):
            if e.dtype.is_floating_point:
                e.mul_(d).add_(m.detach(), alpha=1 - d)
            else:
                e.copy_(m)


def lr_at(step: int, total: int, warmup: int, peak: float, floor: float) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * t))


@torch.no_grad()
def evaluate_coarse(
    model: torch.nn.Module, pairs: list[tuple[np.ndarray, np.ndarray]], size: int
) -> float:
    """Mean Dice of the whole photo seen at size x size (the coarse pass), threshold 0.5."""
    model.eval()
    scores = []
    for image, mask in pairs:
        x = torch.from_numpy(data.plain(image, size))[None]
        x = x.contiguous(memory_format=torch.channels_last)
        prob = torch.sigmoid(model(x))[0, 0].numpy()
        prob = cv2.resize(prob, mask.shape[::-1], interpolation=cv2.INTER_LINEAR)
        scores.append(dice_score(prob > 0.5, mask))
    return float(np.mean(scores))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=140)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=0.02)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="use only N training photos (smoke)")
    ap.add_argument("--data", type=Path, default=data.DATA_DIR)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    log = (args.out / "train.log").open("a")

    def say(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    split = data.read_split()
    train_stems = split["train"][: args.limit] if args.limit else split["train"]
    train_pairs = [data.load_pair(s, args.data) for s in train_stems]
    tune_pairs = [data.load_pair(s, args.data) for s in split["tune"][: args.limit or None]]
    aug = data.AugConfig(size=args.size)

    torch.manual_seed(args.seed)
    model = WoundUNet(ModelConfig()).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    ema = Ema(model, decay=0.998)
    steps_per_epoch = max(1, len(train_pairs) // args.batch)
    total = steps_per_epoch * args.epochs
    warmup = steps_per_epoch * 3
    start_epoch, step = 0, 0
    ckpt_path = args.out / "last.pt"
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ckpt["model"])
        ema.model.load_state_dict(ckpt["ema"])
        opt.load_state_dict(ckpt["opt"])
        start_epoch, step = ckpt["epoch"], ckpt["step"]
        torch.set_rng_state(ckpt["torch_rng"])
        say(f"resumed from epoch {start_epoch}")
    else:
        say(
            f"params={count_parameters(model)} train={len(train_pairs)} tune={len(tune_pairs)} "
            f"args={vars(args)}"
        )

    for epoch in range(start_epoch, args.epochs):
        # one generator per epoch, from the seed: a resumed run sees the same samples
        rng = np.random.default_rng([args.seed, epoch])
        random.seed(args.seed * 1000 + epoch)
        model.train()
        t0 = time.perf_counter()
        order = rng.permutation(len(train_pairs))
        losses = []
        for b in range(steps_per_epoch):
            idx = order[b * args.batch : (b + 1) * args.batch]
            samples = [data.augment(rng, train_pairs[i][0], train_pairs[i][1], aug) for i in idx]
            xs, ys = zip(*samples, strict=True)
            x = torch.from_numpy(np.stack(xs)).contiguous(memory_format=torch.channels_last)
            y = torch.from_numpy(np.stack(ys)).contiguous(memory_format=torch.channels_last)
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, warmup, args.lr, args.lr * 0.01)
            loss = dice_bce_loss(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            ema.update(model, step)
            step += 1
            losses.append(loss.item())
        msg = (
            f"epoch {epoch + 1}/{args.epochs} loss={np.mean(losses):.4f} "
            f"lr={opt.param_groups[0]['lr']:.2e} time={time.perf_counter() - t0:.1f}s"
        )
        if (epoch + 1) % 5 == 0 or epoch + 1 == args.epochs:
            msg += f" tune_dice_coarse(ema)={evaluate_coarse(ema.model, tune_pairs, args.size):.4f}"
        say(msg)
        state = {
            "model": model.state_dict(),
            "ema": ema.model.state_dict(),
            "opt": opt.state_dict(),
            "epoch": epoch + 1,
            "step": step,
            "torch_rng": torch.get_rng_state(),
            "args": {k: str(v) for k, v in vars(args).items()},
        }
        torch.save(state, args.out / "last.tmp")
        (args.out / "last.tmp").replace(ckpt_path)

    torch.save(
        {
            "ema": ema.model.state_dict(),
            "config": ModelConfig().__dict__,
            "args": {k: str(v) for k, v in vars(args).items()},
        },
        args.out / "final.pt",
    )
    (args.out / "done.json").write_text(json.dumps({"epochs": args.epochs, "step": step}))
    say("done")


if __name__ == "__main__":
    main()
