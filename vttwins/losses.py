"""Video-text losses: the VT-TWINS sequence-contrastive loss and its baselines (docs/method.md §4–§6).

    import torch, vttwins
    v = torch.nn.functional.normalize(torch.randn(16, 8, 512), dim=-1)   # (B, n, D) clip embeddings
    t = torch.nn.functional.normalize(torch.randn(16, 8, 512), dim=-1)   # (B, m, D) caption embeddings
    loss = vttwins.SequenceContrastiveLoss()(v, t)                        # released loss: S2DTW, text-anchored

- `SequenceContrastiveLoss`: S2DTW (or a DTW-family ablation) as the distance inside a contrastive loss over the
  B x B sequence pairs of a batch; all distances come from one `vttwins.alignment.s2dtw_matrix` call.
- `TemporalDataAugmentation` (TDA): samples a local permutation that preserves the self-similarity structure.
- `MILNCELoss`, `ClipInfoNCELoss`: clip-level baselines.

Every loss takes embeddings as given (the caller normalises) and returns a scalar, or per-sample terms with
`reduction="none"`. This module only calls into `vttwins.alignment`; it runs no dynamic programme itself.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn

from vttwins import alignment as _alignment  # attribute lookup at call time: tests may substitute a reference
from vttwins.alignment.checks import check_any_scalar, check_lengths, check_pair_inputs, check_scalar, check_seq

__all__ = [
    "SequenceContrastiveLoss",
    "SkipCostWarmupLoss",
    "TemporalDataAugmentation",
    "MILNCELoss",
    "ClipInfoNCELoss",
    "permutation_set",
]

# The per-variant flag table (which DTW-family member sets which flag) lives only in the objective registry
# (vttwins.objectives, which sits above this module): a caller passes a member's flags, e.g.
# `SequenceContrastiveLoss(alignment=vttwins.objectives.get("soft_dtw").alignment)`. Without them the loss is the
# released S2DTW (smoothing + weak lattice).
ALIGNMENT_FLAGS = ("smooth", "weak", "hard")
DIRECTIONS = ("text", "video", "both")
REDUCTIONS = ("mean", "sum", "none")
MAX_PERMUTATIONS = 100_000  # |Π| grows ~2.3x per extra position at max_shift=2 (n=14: 64,554)
_GATHER_BUDGET = 1 << 22  # elements per chunk of the (B, |Π|, n, n) permuted self-similarity tensor


# ----------------------------------------------------------------------------------------------- validation
def _alignment_flags(alignment) -> dict:
    """A mapping of the flags smooth, weak (and optionally hard) -> {smooth, weak, hard}; None = released S2DTW."""
    if alignment is None:
        return {"smooth": True, "weak": True, "hard": False}
    if not hasattr(alignment, "items"):
        raise ValueError(
            f"alignment must be a mapping of the flags {', '.join(ALIGNMENT_FLAGS)} (a registered "
            f"objective's, e.g. vttwins.objectives.get('soft_dtw').alignment) or None, got {alignment!r}"
        )
    unknown = sorted(set(alignment) - set(ALIGNMENT_FLAGS))
    if unknown or not {"smooth", "weak"} <= set(alignment):
        raise ValueError(f"alignment flags must be smooth, weak (and optionally hard); got {dict(alignment)!r}")
    return {
        "smooth": bool(alignment["smooth"]),
        "weak": bool(alignment["weak"]),
        "hard": bool(alignment.get("hard", False)),
    }


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def _check_lengths(name: str, lengths, x):
    """None, or `lengths` checked against x (B, n, D) by the alignment's rule: int64 (B,) in [1, n] on x's device."""
    return None if lengths is None else check_lengths(lengths, name, x.shape[0], x.shape[1], x.device)


def _reduce(terms: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "none":
        return terms
    return terms.sum() if reduction == "sum" else terms.mean()


# ------------------------------------------------------------------------------------- temporal augmentation
@functools.lru_cache(maxsize=64)
def _permutations(n: int, max_shift: int) -> tuple[tuple[int, ...], ...]:
    out, perm, used = [], [0] * n, [False] * n

    def place(i: int) -> None:
        if i == n:
            out.append(tuple(perm))
            if len(out) > MAX_PERMUTATIONS:
                raise ValueError(
                    f"TDA permutation set for n={n}, max_shift={max_shift} has more than "
                    f"{MAX_PERMUTATIONS} elements; use shorter sequences or a smaller max_shift"
                )
            return
        # value i - max_shift cannot go anywhere later, so when still free it is forced here (prunes dead ends)
        forced = i - max_shift
        candidates = [forced] if forced >= 0 and not used[forced] else range(max(0, forced), min(n, i + max_shift + 1))
        for v in candidates:
            if not used[v]:
                used[v], perm[i] = True, v
                place(i + 1)
                used[v] = False

    place(0)
    return tuple(out)


def permutation_set(n: int, max_shift: int = 2) -> torch.Tensor:
    """All permutations π of {0..n-1} with |π(i) - i| <= max_shift, as int64 `(|Π|, n)`, identity first.

    Lexicographic order; cached per (n, max_shift). |Π| = 400 for n = 8, max_shift = 2.
    """
    if n < 1 or max_shift < 0:
        raise ValueError(f"permutation_set needs n >= 1 and max_shift >= 0, got n={n}, max_shift={max_shift}")
    return torch.tensor(_permutations(int(n), int(max_shift)), dtype=torch.long)


class TemporalDataAugmentation(nn.Module):
    """TDA (docs/method.md §5): per sample, draw π ~ softmax(-sharpness · ||S - S[π, π]||_F), S = -E Eᵀ (E detached).

    `forward(seq (B, n, D), generator=None, lengths=None) -> (seq[:, π] (B, n, D), perms (B, n) int64)`.
    Each sample draws independently; with `lengths`, only the valid prefix is permuted (padding stays in place).
    The gather is differentiable, the sampling distribution is not (it is built from the detached sequence).
    """

    def __init__(self, max_shift: int = 2, sharpness: float = 50.0):
        super().__init__()
        if int(max_shift) != max_shift or max_shift < 0:
            raise ValueError(f"max_shift must be an integer >= 0, got {max_shift!r}")
        if not math.isfinite(sharpness) or sharpness < 0:
            raise ValueError(f"sharpness must be a finite number >= 0, got {sharpness!r}")
        self.max_shift, self.sharpness = int(max_shift), float(sharpness)

    def extra_repr(self) -> str:
        return f"max_shift={self.max_shift}, sharpness={self.sharpness}"

    def distribution(self, seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (Π `(P, n)` on seq's device, probabilities `(B, P)`) for full-length sequences `seq (B, n, D)`."""
        check_seq(seq, "seq", finite=False)
        perms = permutation_set(seq.shape[1], self.max_shift).to(seq.device)
        e = seq.detach().to(torch.promote_types(seq.dtype, torch.float32))
        sim = -e @ e.transpose(1, 2)  # (B, n, n)
        delta = torch.cat([self._distances(sim, chunk) for chunk in perms.split(self._chunk(sim))], dim=1)
        if not torch.isfinite(delta).all():
            raise ValueError(
                f"seq of shape {tuple(seq.shape)} has non-finite values (or overflows its self-similarity)"
            )
        return perms, torch.softmax(-self.sharpness * delta, dim=1)

    @staticmethod
    def _chunk(sim: torch.Tensor) -> int:
        b, n, _ = sim.shape
        return max(1, _GATHER_BUDGET // (b * n * n))

    @staticmethod
    def _distances(sim: torch.Tensor, perms: torch.Tensor) -> torch.Tensor:
        """||S - S[π, π]||_F for each sample and each π in `perms (P, n)` -> `(B, P)`."""
        b, n, _ = sim.shape
        flat = sim.reshape(b, n * n)
        cells = (perms[:, :, None] * n + perms[:, None, :]).reshape(-1)  # S[π, π] as flat indices, (P*n*n,)
        # index_select on the flat matrix: ~15x faster on CPU than advanced indexing sim[:, π[:, None], π[None]]
        permuted = flat.index_select(1, cells).view(b, len(perms), n * n)
        return (permuted - flat[:, None]).norm(dim=2)

    def _sample(self, seq: torch.Tensor, generator) -> torch.Tensor:
        perms, probs = self.distribution(seq)
        if generator is not None and generator.device != probs.device:
            probs = probs.to(generator.device)  # torch.multinomial needs the generator on the tensor's device
        idx = torch.multinomial(probs, 1, generator=generator).squeeze(1).to(perms.device)
        return perms[idx]

    def forward(
        self, seq: torch.Tensor, generator: torch.Generator | None = None, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_seq(seq, "seq", finite=False)
        lengths = _check_lengths("lengths", lengths, seq)
        b, n, d = seq.shape
        perms = torch.arange(n, device=seq.device).repeat(b, 1)
        if lengths is None:
            perms = self._sample(seq, generator)
        else:
            for length in sorted(set(lengths.tolist())):  # sorted: the generator is consumed in a fixed order
                rows = (lengths == length).nonzero().squeeze(1)
                perms[rows, :length] = self._sample(seq[rows, :length], generator)
        return seq.gather(1, perms[:, :, None].expand(b, n, d)), perms


# ------------------------------------------------------------------------------- sequence-contrastive loss
class SequenceContrastiveLoss(nn.Module):
    """Contrastive loss over whole sequences with a DTW-family distance (docs/method.md §4).

    With d[c, a] = S2DTW(V_c, T_a) / temperature for all pairs of the batch, the per-sample terms are
        direction="text"  (released default): d[a, a] + log Σ_c exp(-d[c, a])   (anchor: text a)
        direction="video":                     d[c, c] + log Σ_a exp(-d[c, a])   (anchor: video c)
        direction="both":                      the mean of the two,
    reduced by `reduction` ("mean" | "sum" | "none" -> (B,)). The defaults give exactly the released loss.

    alignment: None (the released S2DTW: smoothing + weak lattice) or a mapping of the flags {smooth, weak, hard}
    (hard: gamma is forced to 0) -- every DTW-family member's flags are in `vttwins.objectives`, e.g.
    `vttwins.objectives.get("soft_dtw").alignment`. gamma, smooth_gamma, tau (and temperature) may
    be floats or scalar tensors; an `nn.Parameter` is registered on the module so optimisers see it.
    tda=True applies `TemporalDataAugmentation(max_shift, sharpness)` independently to video and text before the
    alignment, in training mode only (like dropout: `.eval()` turns it off).

    forward(video (B, n, D), text (B, m, D), video_lengths=None, text_lengths=None, generator=None)
    """

    def __init__(
        self,
        alignment: dict | None = None,
        gamma=0.1,
        smooth_gamma=0.1,
        tau=0.5,
        direction: str = "text",
        temperature=1.0,
        tda: bool = False,
        reduction: str = "mean",
        max_shift: int = 2,
        sharpness: float = 50.0,
    ):
        super().__init__()
        self.alignment_options = _alignment_flags(alignment)
        _check_choice("direction", direction, DIRECTIONS)
        _check_choice("reduction", reduction, REDUCTIONS)
        check_scalar(gamma, "gamma")
        check_scalar(smooth_gamma, "smooth_gamma")
        check_any_scalar(tau, "tau")
        check_scalar(temperature, "temperature", allow_zero=False)
        self.alignment, self.direction, self.reduction = alignment, direction, reduction
        self.gamma, self.smooth_gamma, self.tau, self.temperature = gamma, smooth_gamma, tau, temperature
        self.tda = TemporalDataAugmentation(max_shift, sharpness) if tda else None

    def extra_repr(self) -> str:
        return f"alignment={self.alignment!r}, direction={self.direction!r}, reduction={self.reduction!r}"

    def distances(self, video: torch.Tensor, text: torch.Tensor, video_lengths=None, text_lengths=None):
        """`(B, B)` matrix d[c, a] = distance(video[c], text[a]) (before temperature), one s2dtw_matrix call."""
        options = self.alignment_options
        gamma = 0.0 if options.get("hard") else self.gamma
        return _alignment.s2dtw_matrix(
            video,
            text,
            gamma=gamma,
            smooth_gamma=self.smooth_gamma,
            tau=self.tau,
            smooth=options["smooth"],
            weak=options["weak"],
            x_lengths=video_lengths,
            y_lengths=text_lengths,
        )

    def forward(
        self,
        video: torch.Tensor,
        text: torch.Tensor,
        video_lengths=None,
        text_lengths=None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        check_pair_inputs(video, text, paired=True, names=("video", "text"), same_length=False, finite=False)
        video_lengths = _check_lengths("video_lengths", video_lengths, video)
        text_lengths = _check_lengths("text_lengths", text_lengths, text)
        if self.tda is not None and self.training:
            video, _ = self.tda(video, generator=generator, lengths=video_lengths)
            text, _ = self.tda(text, generator=generator, lengths=text_lengths)
        distances = self.distances(video, text, video_lengths, text_lengths)
        self.diagnostics = _collapse_diagnostics(video, text, distances, self.tau)
        logits = -distances / self.temperature  # [c, a]
        positive = logits.diagonal()
        if self.direction == "text":
            terms = torch.logsumexp(logits, dim=0) - positive
        elif self.direction == "video":
            terms = torch.logsumexp(logits, dim=1) - positive
        else:
            terms = 0.5 * (torch.logsumexp(logits, dim=0) + torch.logsumexp(logits, dim=1)) - positive
        return _reduce(terms, self.reduction)


class SkipCostWarmupLoss(SequenceContrastiveLoss):
    """Opt-in collapse remedy: S2DTW whose skip cost starts at `tau_start` and moves linearly to `tau` over the
    first `warmup_steps` training calls (then stays at `tau`; `.eval()` always uses `tau`).

    Why: the log-B plateau is the lattice skipping every real cell (all costs -<x, y> > tau), which leaves no
    gradient through the content. With tau_start > 1 >= every cosine cost, skipping is dearer than any match at the
    start, so early steps must align content. The call counter is not checkpointed: a resumed run restarts the
    warm-up. Not the released behaviour (that is `SequenceContrastiveLoss`).
    """

    def __init__(self, *args, tau_start: float = 2.0, warmup_steps: int = 50, **kwargs):
        super().__init__(*args, **kwargs)
        if torch.is_tensor(self.tau) and self.tau.requires_grad:
            raise ValueError("a skip-cost warm-up with a learnable tau (loss.learn_tau) is ambiguous; use one")
        check_any_scalar(tau_start, "tau_start")
        if int(warmup_steps) != warmup_steps or warmup_steps < 1:
            raise ValueError(f"warmup_steps must be an integer >= 1, got {warmup_steps!r}")
        self.tau_final, self.tau_start, self.warmup_steps, self.calls = (
            float(self.tau),
            float(tau_start),
            int(warmup_steps),
            0,
        )

    def forward(self, *args, **kwargs):
        frac = min(1.0, self.calls / self.warmup_steps) if self.training else 1.0
        self.tau = self.tau_start + (self.tau_final - self.tau_start) * frac
        self.calls += int(self.training)
        return super().forward(*args, **kwargs)


def _collapse_diagnostics(video, text, distances, tau) -> dict[str, float]:
    """Why a sequence loss stalls at log B (detached, cheap): `skip_share` = share of the positive pairs' cells
    whose cost -<x, y> exceeds the skip cost tau (there the lattice prefers skipping: at 1.0 the path skips all
    content and the gradient through real cells vanishes); `distance_spread` = std of the B x B distances (0 when
    every pair is equally far, i.e. the loss is exactly log B); `cosine_max` = the largest positive-pair cosine."""
    with torch.no_grad():
        cost = -(video.detach() @ text.detach().transpose(1, 2))  # (B, n, m) of the positive pairs
        t = float(tau.detach()) if torch.is_tensor(tau) else float(tau)
        return {
            "skip_share": float((cost > t).float().mean()),
            "distance_spread": float(distances.detach().std()),
            "cosine_max": float(-cost.min()),
        }


# ---------------------------------------------------------------------------------------- clip baselines
def _flatten_pair(video, text, temperature):
    """Check shapes; return clip-by-caption scores `(B*n, B*n)`, s[u, w] = <video_u, text_w> / temperature."""
    check_pair_inputs(video, text, paired=True, names=("video", "text"), same_length=True, finite=False)
    d = video.shape[-1]
    return video.reshape(-1, d) @ text.reshape(-1, d).T / temperature


def nearest_positions(n: int, k: int) -> torch.Tensor:
    """`(n, k)` int64: for each position i the k positions nearest to i (itself first), ties to the earlier one.

    Near the ends the window shifts inwards, so every clip has exactly k candidates.
    """
    if not 1 <= k <= n:
        raise ValueError(f"num_candidates must lie in [1, n={n}], got {k}")
    return torch.tensor([sorted(range(n), key=lambda j: (abs(j - i), j))[:k] for i in range(n)], dtype=torch.long)


class MILNCELoss(nn.Module):
    """MIL-NCE (Miech et al. 2020; docs/method.md §6) with every clip of every video as an anchor.

    For clip i of video b, P = captions of video b at the `num_candidates` positions nearest to i
    (`nearest_positions`). With s = <x, y> / temperature, the term is
        -log Σ_{p∈P} e^{s(x, y_p)}
        + log( Σ_{all B·n captions y} e^{s(x, y)} + Σ_{all B·n clips x', p∈P} e^{s(x', y_p)} ),
    so the positives appear twice in the denominator and the minimum is log 2.
    forward(video (B, n, D), text (B, n, D)) -> scalar, or `(B, n)` with reduction="none".
    """

    def __init__(self, num_candidates: int = 4, temperature=1.0, reduction: str = "mean"):
        super().__init__()
        if int(num_candidates) != num_candidates or num_candidates < 1:
            raise ValueError(f"num_candidates must be an integer >= 1, got {num_candidates!r}")
        check_scalar(temperature, "temperature", allow_zero=False)
        _check_choice("reduction", reduction, REDUCTIONS)
        self.num_candidates, self.temperature, self.reduction = int(num_candidates), temperature, reduction

    def forward(self, video: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        scores = _flatten_pair(video, text, self.temperature)  # (B*n, B*n)
        b, n = video.shape[:2]
        near = nearest_positions(n, self.num_candidates).to(video.device)
        positives = (torch.arange(b, device=video.device)[:, None, None] * n + near).reshape(b * n, -1)
        numerator = torch.logsumexp(scores.gather(1, positives), dim=1)
        # Σ_{x', p∈P} e^{s(x', y_p)} = Σ_{p∈P} exp(logsumexp over clips of column p): no (B·n)^2·K tensor
        column = torch.logsumexp(scores, dim=0)[positives]  # (B*n, K)
        denominator = torch.logaddexp(torch.logsumexp(scores, dim=1), torch.logsumexp(column, dim=1))
        return _reduce((denominator - numerator).reshape(b, n), self.reduction)


class ClipInfoNCELoss(nn.Module):
    """Symmetric clip-level InfoNCE: the B·n (clip, caption) pairs at equal positions are the positives, every
    other clip / caption of the batch a negative. Term per pair = mean of the clip->caption and caption->clip
    cross-entropies; forward(video (B, n, D), text (B, n, D)) -> scalar, or `(B, n)` with reduction="none".
    """

    def __init__(self, temperature=0.07, reduction: str = "mean"):
        super().__init__()
        check_scalar(temperature, "temperature", allow_zero=False)
        _check_choice("reduction", reduction, REDUCTIONS)
        self.temperature, self.reduction = temperature, reduction

    def forward(self, video: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        scores = _flatten_pair(video, text, self.temperature)
        positive = scores.diagonal()
        terms = 0.5 * (torch.logsumexp(scores, dim=1) + torch.logsumexp(scores, dim=0)) - positive
        return _reduce(terms.reshape(video.shape[:2]), self.reduction)
