"""S3D-G with MIL-NCE's sentence encoder, state-dict compatible with the public `s3d_howto100m.pth`.

    model = S3D(space_to_depth=True).eval()
    model.load_state_dict(torch.load("s3d_howto100m.pth"), strict=True)
    v = model.encode_video(frames)          # frames: (B, 3, T, H, W) float in [0, 1] -> (B, 512), raw fc output
    t = model.encode_text(tokens)           # tokens: (B, L) int64 ids, 0 = padding -> (B, 512)

Architecture (docs/method.md §2, key layout in docs/formats.md §6): stem conv1 -> TF-SAME
max-pool -> conv_2b (1x1x1) -> conv_2c (separable 3x3x3) -> self-gating -> max-pool -> Inception 3b, 3c ->
max-pool -> 4b..4f -> max-pool -> 5b, 5c -> mean over (T, H, W) -> fc. `width` scales every channel count of the
video tower (for CPU-sized experiments); only width 1.0 matches the public checkpoints.
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from vttwins.models.text import SentenceEncoder

# Inception channel table: (b0 1x1, b1 reduce, b1 3x3, b2 reduce, b2 3x3, b3 pool-proj), in block order.
INCEPTION = {
    "mixed_3b": (64, 96, 128, 16, 32, 32),
    "mixed_3c": (128, 128, 192, 32, 96, 64),
    "mixed_4b": (192, 96, 208, 16, 48, 64),
    "mixed_4c": (160, 112, 224, 24, 64, 64),
    "mixed_4d": (128, 128, 256, 24, 64, 64),
    "mixed_4e": (112, 144, 288, 32, 64, 64),
    "mixed_4f": (256, 160, 320, 32, 128, 128),
    "mixed_5b": (256, 160, 320, 32, 128, 128),
    "mixed_5c": (384, 192, 384, 48, 128, 128),
}
# Max-pools (kernel, stride) placed *before* the named block.
POOLS = {
    "maxpool_2a": ((1, 3, 3), (1, 2, 2)),
    "maxpool_3a": ((1, 3, 3), (1, 2, 2)),
    "maxpool_4a": ((3, 3, 3), (2, 2, 2)),
    "maxpool_5a": ((2, 2, 2), (2, 2, 2)),
}


class ConvBNReLU3d(nn.Module):
    """Conv3d (no bias) -> BatchNorm3d -> ReLU; `separable` splits a k x k x k kernel into (1,k,k) then (k,1,1).

    Parameter names (conv1/bn1, conv2/bn2) are those of the released checkpoint.
    """

    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0, separable: bool = False):
        super().__init__()
        k, s, p = (_triple(v) for v in (kernel, stride, padding))
        self.separable = separable
        if separable:
            self.conv1 = nn.Conv3d(cin, cout, (1, k[1], k[2]), (1, s[1], s[2]), (0, p[1], p[2]), bias=False)
            self.bn1 = nn.BatchNorm3d(cout)
            self.conv2 = nn.Conv3d(cout, cout, (k[0], 1, 1), (s[0], 1, 1), (p[0], 0, 0), bias=False)
            self.bn2 = nn.BatchNorm3d(cout)
        else:
            self.conv1 = nn.Conv3d(cin, cout, k, s, p, bias=False)
            self.bn1 = nn.BatchNorm3d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        if self.separable:
            x = F.relu(self.bn2(self.conv2(x)))
        return x


class SelfGating(nn.Module):
    """S3D-G feature gating: `x * sigmoid(fc(mean_{T,H,W}(x)))`, one weight per channel and sample."""

    def __init__(self, channels: int):
        super().__init__()
        self.fc = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.fc(x.mean(dim=(2, 3, 4))))
        return x * gate[:, :, None, None, None]


def tf_same_padding(kernel, stride) -> tuple[int, ...]:
    """Fixed zero padding the released model uses to emulate TF "SAME" pooling, in F.pad order (W, H, T).

    Per axis the total is max(k - s, 0), split with the smaller half first (TF puts the extra cell at the end).
    """
    pads = []
    for k, s in zip(reversed(kernel), reversed(stride)):
        total = max(k - s, 0)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


class MaxPool3dSame(nn.Module):
    """Max-pool with zero padding at the end (see `tf_same_padding`) and ceil_mode, as released.

    Zero padding is harmless for a max because every input here follows a ReLU (values >= 0).
    """

    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = tuple(kernel), tuple(stride)
        self.padding = tf_same_padding(self.kernel, self.stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(F.pad(x, self.padding), self.kernel, self.stride, ceil_mode=True)


class InceptionBlock(nn.Module):
    """Four branches (1x1; 1x1 -> sep 3x3; 1x1 -> sep 3x3; max-pool 3x3x3 -> 1x1), each self-gated, concatenated."""

    def __init__(self, cin: int, c0: int, c1a: int, c1b: int, c2a: int, c2b: int, c3: int):
        super().__init__()
        self.conv_b0 = ConvBNReLU3d(cin, c0, 1)
        self.conv_b1_a = ConvBNReLU3d(cin, c1a, 1)
        self.conv_b1_b = ConvBNReLU3d(c1a, c1b, 3, padding=1, separable=True)
        self.conv_b2_a = ConvBNReLU3d(cin, c2a, 1)
        self.conv_b2_b = ConvBNReLU3d(c2a, c2b, 3, padding=1, separable=True)
        self.conv_b3_b = ConvBNReLU3d(cin, c3, 1)
        self.gating_b0, self.gating_b1 = SelfGating(c0), SelfGating(c1b)
        self.gating_b2, self.gating_b3 = SelfGating(c2b), SelfGating(c3)
        self.out_channels = c0 + c1b + c2b + c3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b0 = self.gating_b0(self.conv_b0(x))
        b1 = self.gating_b1(self.conv_b1_b(self.conv_b1_a(x)))
        b2 = self.gating_b2(self.conv_b2_b(self.conv_b2_a(x)))
        # PyTorch's own padding for this stride-1 pool (implicit -inf) equals zero padding on ReLU outputs
        b3 = self.gating_b3(self.conv_b3_b(F.max_pool3d(x, 3, 1, 1)))
        return torch.cat((b0, b1, b2, b3), dim=1)


def space_to_depth(x: torch.Tensor) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, 8C, T/2, H/2, W/2); new channel = ((dt*2 + dh)*2 + dw)*C + c."""
    b, c, t, h, w = x.shape
    x = x.reshape(b, c, t // 2, 2, h // 2, 2, w // 2, 2)
    return x.permute(0, 3, 5, 7, 1, 2, 4, 6).reshape(b, 8 * c, t // 2, h // 2, w // 2)


def _triple(v) -> tuple[int, int, int]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v, v)


def scaled(channels: int, width: float) -> int:
    """Channel count at a width multiplier (at least 1)."""
    return max(1, int(round(channels * width)))


class S3D(nn.Module):
    """S3D-G video tower + `text_module` (word2vec sentence encoder), as released by MIL-NCE."""

    def __init__(
        self,
        embed_dim: int = 512,
        space_to_depth: bool = False,
        vocab_size: int = 66250,
        word_dim: int = 300,
        width: float = 1.0,
        text_hidden: int = 2048,
    ):
        super().__init__()
        if not 0 < width <= 4:
            raise ValueError(f"width must be in (0, 4], got {width}")
        self.width, self.embed_dim = float(width), int(embed_dim)
        c64, c192 = scaled(64, width), scaled(192, width)
        self.space_to_depth = space_to_depth
        self.conv1 = self._stem(space_to_depth, c64)
        self.conv_2b = ConvBNReLU3d(c64, c64, 1)
        self.conv_2c = ConvBNReLU3d(c64, c192, 3, padding=1, separable=True)
        self.gating = SelfGating(c192)
        cin = c192
        for name, table in INCEPTION.items():
            block = InceptionBlock(cin, *(scaled(c, width) for c in table))
            setattr(self, name, block)  # registration order = the released key order
            cin = block.out_channels
        self.feature_dim = cin
        self.fc = nn.Linear(cin, embed_dim)
        self.text_module = SentenceEncoder(vocab_size, word_dim, text_hidden, embed_dim)
        self.pools = {name: MaxPool3dSame(*kernel_stride) for name, kernel_stride in POOLS.items()}
        self.reset_video_parameters()

    def reset_video_parameters(self) -> None:
        """Kaiming-normal (fan-in, ReLU) video convolutions; BatchNorm at weight 1, bias 0, fresh statistics.

        Why not PyTorch's default conv init: a fresh BatchNorm in eval mode is the identity, and the default init
        shrinks the activation scale at every one of the ~30 conv layers, so an untrained S3D's Mixed_5c features
        are ~1e-11 and the fc bias alone makes every video's embedding (the "untrained" baseline would be a
        constant, tied everywhere, and beaten by any model). Kaiming fan-in keeps the conv scale (the self-gates
        still halve it once a block), and a zero fc bias makes the embedding's direction, which is all a ranking
        sees, come from the video: the untrained model is then a real random network. Loading a checkpoint
        overwrites all of this.
        """
        for name, module in self.named_modules():
            if name.startswith("text_module"):
                continue
            if isinstance(module, nn.Conv3d):
                nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm3d):
                module.reset_parameters()
        nn.init.zeros_(self.fc.bias)

    @staticmethod
    def _stem(space_to_depth: bool, channels: int) -> ConvBNReLU3d:
        if space_to_depth:  # 2x2x2 blocks already folded into 24 channels; kernel (2,4,4) ~ (4,8,8) on pixels
            return ConvBNReLU3d(24, channels, (2, 4, 4), stride=1, padding=(1, 2, 2))
        return ConvBNReLU3d(3, channels, (3, 7, 7), stride=2, padding=(1, 3, 3))

    def set_stem(self, space_to_depth: bool) -> None:
        """Switch between the plain and the space-to-depth stem (fresh stem weights; used by load_pretrained)."""
        if space_to_depth != self.space_to_depth:
            ref = self.conv1.conv1.weight
            stem = self._stem(space_to_depth, ref.shape[0]).to(device=ref.device, dtype=ref.dtype)
            self.conv1 = stem.train(self.training)  # a fresh module would otherwise be in training mode
            self.space_to_depth = space_to_depth

    def check_video(self, video: torch.Tensor) -> None:
        """Raise ValueError unless `video` is (B, 3, T, H, W) and large enough for every pooling stage."""
        if video.dim() != 5 or video.shape[1] != 3:
            raise ValueError(f"video must be (B, 3, T, H, W), got shape {tuple(video.shape)}")
        t, h, w = video.shape[2:]
        if self.space_to_depth and (t % 2 or h % 2 or w % 2):
            raise ValueError(f"space_to_depth stem needs even T, H, W; got T={t}, H={h}, W={w}")
        try:
            stage_sizes((t, h, w), self.space_to_depth)
        except ValueError as err:
            raise ValueError(f"video of shape {tuple(video.shape)} is too small for S3D: {err}") from None

    def feature_map(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) float in [0, 1] (or uint8) -> the Mixed_5c map (B, 1024*width, T', H', W')."""
        self.check_video(video)
        if video.dtype == torch.uint8:
            video = video.to(self.fc.weight.dtype) / 255.0
        x = space_to_depth(video) if self.space_to_depth else video
        x = self.conv1(x)
        if self.space_to_depth:
            x = x[:, :, 1:, 1:, 1:]  # kernel 2 with padding 1 leaves one extra leading cell per axis (TF SAME)
        x = self.conv_2b(self.pools["maxpool_2a"](x))
        x = self.gating(self.conv_2c(x))
        x = self.pools["maxpool_3a"](x)
        for name in INCEPTION:
            if name == "mixed_4b":
                x = self.pools["maxpool_4a"](x)
            elif name == "mixed_5b":
                x = self.pools["maxpool_5a"](x)
            x = getattr(self, name)(x)
        return x

    def video_features(self, video: torch.Tensor) -> torch.Tensor:
        """Pooled Mixed_5c, (B, 1024) at width 1 — the linear-probe feature."""
        return self.feature_map(video).mean(dim=(2, 3, 4))

    def encode_video(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) float in [0, 1] -> (B, embed_dim), the raw fc output (not normalised)."""
        return self.fc(self.video_features(video))

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, L) int64 ids -> (B, embed_dim), raw."""
        return self.text_module(tokens)

    def forward(self, video: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encode_video(video), self.encode_text(tokens)


def _pool_size(n: int, k: int, s: int) -> int:
    """Output length of MaxPool3dSame along one axis, by PyTorch's ceil_mode rule."""
    n += max(k - s, 0)  # the zero padding of tf_same_padding (both halves)
    out = int((n - k + s - 1) / s) + 1  # C-style truncating division, as in ATen's pooling_output_shape
    if (out - 1) * s >= n:  # the last window must start inside the input
        out -= 1
    if out < 1:
        raise ValueError(f"a max-pool with kernel {k}, stride {s} gets only {n} cells")
    return out


def stage_sizes(thw: tuple[int, int, int], space_to_depth: bool) -> dict[str, tuple[int, int, int]]:
    """Analytic (T, H, W) after each stage; raises ValueError when a stage would get an empty input."""
    if min(thw) < 1:
        raise ValueError(f"T, H, W must be positive, got {thw}")
    if space_to_depth:  # fold 2x2x2, conv k=2 pad 1 (n+1 cells), crop the first: n/2
        size = tuple(n // 2 for n in thw)
    else:
        size = tuple((n + 2 * p - k) // 2 + 1 for n, k, p in zip(thw, (3, 7, 7), (1, 3, 3)))
    if min(size) < 1:
        raise ValueError(f"the stem output would be {size}")
    sizes = {"conv1": size}
    for stage, block in (
        ("maxpool_2a", "conv_2c"),
        ("maxpool_3a", "mixed_3c"),
        ("maxpool_4a", "mixed_4f"),
        ("maxpool_5a", "mixed_5c"),
    ):
        kernel, stride = POOLS[stage]
        size = tuple(_pool_size(n, k, s) for n, k, s in zip(size, kernel, stride))
        sizes[stage] = sizes[block] = size
    return sizes
