"""Export trained weights to the ONNX file the server runs with onnxruntime alone.

    python -m vision.training.export vision/training/runs/seed1/final.pt \
        --out vision/models/wound-seg-1.onnx

The graph takes `image`: float32 N x 3 x H x W, RGB in [0, 1], H and W multiples of 32 (any size:
the network is fully convolutional), and returns `prob`: float32 N x 1 x H x W, the wound
probability. The version and the training input size are stored in the model's metadata.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
import torch

from vision.training.model import ModelConfig, WoundUNet

VERSION = "wound-seg-1.1"


class WithSigmoid(torch.nn.Module):
    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(image))


def load_weights(path: Path) -> WoundUNet:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    state = ckpt["ema"] if "ema" in ckpt else ckpt["model"]
    model = WoundUNet(ModelConfig())
    model.load_state_dict(state)
    return model.eval()


def export(weights: Path, out: Path, size: int = 256, version: str = VERSION) -> None:
    model = WithSigmoid(load_weights(weights)).eval()
    dummy = torch.rand(1, 3, size, size)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (dummy,),
        str(out),
        dynamo=False,
        opset_version=17,
        input_names=["image"],
        output_names=["prob"],
        do_constant_folding=True,
        dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "prob": {0: "n", 2: "h", 3: "w"}},
    )
    proto = onnx.load(str(out))
    meta = {"version": version, "input_size": str(size), "input": "RGB float32 in [0,1], NCHW"}
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "vision.training.export"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))
    # the exported graph must agree with torch
    import onnxruntime as ort

    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = torch.rand(1, 3, size + 64, size)
    with torch.no_grad():
        ref = model(x).numpy()
    got = sess.run(None, {"image": x.numpy()})[0]
    err = float(np.abs(ref - got).max())
    print(f"exported {out} ({out.stat().st_size / 1e6:.2f} MB), max |torch - onnx| = {err:.2e}")
    if err > 1e-3:
        raise SystemExit("ONNX output differs from torch")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("weights", type=Path)
    ap.add_argument("--out", type=Path, default=Path("vision/models/wound-seg-1.onnx"))
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args(argv)
    export(args.weights, args.out, args.size)


if __name__ == "__main__":
    main()
