"""A compact U-Net for wound segmentation, sized for CPU training and inference.

Encoder: a stride-2 stem, then five stages (strides 2 to 32). The two high-resolution stages use
"fused" inverted residuals (a full 3x3 expansion conv, cheap when channels are few); the deeper
stages use depthwise-separable inverted residuals (MobileNetV2 style). A global-context branch
(image-level pooling) is added at the bottleneck so that the network can tell skin from
background at scale. Decoder: bilinear upsampling, concatenation with the skip, then one
depthwise-separable block per level. The head predicts logits at half resolution; they are
upsampled bilinearly to the input size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn_act(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


def conv_bn(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))


class FusedMBConv(nn.Module):
    """3x3 expansion conv then 1x1 projection, with a residual when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.body = nn.Sequential(conv_bn_act(cin, hidden, 3, stride), conv_bn(hidden, cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.body(x)
        return x + y if self.residual else y


class MBConv(nn.Module):
    """1x1 expansion, 3x3 depthwise, 1x1 projection (MobileNetV2 inverted residual)."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.body = nn.Sequential(
            conv_bn_act(cin, hidden, 1),
            conv_bn_act(hidden, hidden, 3, stride, groups=hidden),
            conv_bn(hidden, cout),
        )
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.body(x)
        return x + y if self.residual else y


class DecoderBlock(nn.Module):
    """Upsample x2, concatenate the skip, fuse with 1x1 then a depthwise-separable 3x3."""

    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.fuse = conv_bn_act(cin + cskip, cout, 1)
        self.refine = nn.Sequential(
            conv_bn_act(cout, cout, 3, groups=cout),
            conv_bn_act(cout, cout, 1),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        x = self.fuse(torch.cat([x, skip], dim=1))
        y: torch.Tensor = self.refine(x)
        return x + y


@dataclass(frozen=True)
class ModelConfig:
    # channels at strides 2, 4, 8, 16, 32
    widths: tuple[int, ...] = (16, 24, 48, 96, 160)
    depths: tuple[int, ...] = (1, 2, 3, 3, 2)
    expand: tuple[int, ...] = (1, 4, 4, 4, 4)
    fused: tuple[bool, ...] = (True, True, False, False, False)
    decoder: tuple[int, ...] = (96, 64, 32, 24)
    extra: dict[str, int] = field(default_factory=dict)


class WoundUNet(nn.Module):
    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        cfg = config or ModelConfig()
        self.config = cfg
        self.stem = conv_bn_act(3, cfg.widths[0], 3, 2)
        stages: list[nn.Module] = []
        cin = cfg.widths[0]
        for i, (w, d, e, fused) in enumerate(
            zip(cfg.widths, cfg.depths, cfg.expand, cfg.fused, strict=True)
        ):
            block = FusedMBConv if fused else MBConv
            layers: list[nn.Module] = []
            for j in range(d):
                stride = 2 if (j == 0 and i > 0) else 1
                layers.append(block(cin, w, stride, e))
                cin = w
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        top = cfg.widths[-1]
        self.context = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(top, top, 1), nn.ReLU6())
        decoders: list[nn.Module] = []
        cprev = top
        for skip_c, out_c in zip(reversed(cfg.widths[:-1]), cfg.decoder, strict=True):
            decoders.append(DecoderBlock(cprev, skip_c, out_c))
            cprev = out_c
        self.decoders = nn.ModuleList(decoders)
        self.head = nn.Conv2d(cprev, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        x = self.stem(x)
        skips: list[torch.Tensor] = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
        x = skips.pop()
        x = x + self.context(x)
        for decoder in self.decoders:
            x = decoder(x, skips.pop())
        logits = self.head(x)
        return F.interpolate(logits, size=size, mode="bilinear", align_corners=False)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
