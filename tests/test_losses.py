"""Tests for vttwins.losses: `.venv/bin/pytest -q tests/test_losses.py` (about 10 s on 2 cores).

The oracle for the sequence loss is `ref_s2dtw` below: a plain python DP written straight from docs/method.md §3, with
autograd through it (tiny sizes only), checked itself against the spec's reference values.
"""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

import vttwins
from vttwins import alignment as alignment_module
from vttwins import objectives
from vttwins.losses import (
    ClipInfoNCELoss,
    MILNCELoss,
    SequenceContrastiveLoss,
    TemporalDataAugmentation,
    nearest_positions,
    permutation_set,
)


def _variants() -> dict:
    """Objective name -> (smooth, weak, hard), one name per distinct flag set of the registry (the one table)."""
    out = {}
    for name in objectives.names(sequence=True):
        flags = objectives.get(name).alignment
        key = (flags["smooth"], flags["weak"], flags.get("hard", False))
        if key not in out.values():
            out[name] = key
    return out


VARIANTS = _variants()


def flags(name) -> dict:
    return dict(objectives.get(name).alignment)


# ---------------------------------------------------------------------------------------- reference S2DTW
def _softmin(values, gamma):
    values = torch.stack(values)
    if float(torch.as_tensor(gamma).detach()) == 0:
        return values.min()
    return -gamma * torch.logsumexp(-values / gamma, dim=0)


def ref_s2dtw(x, y, gamma=0.1, smooth_gamma=0.1, tau=0.5, smooth=True, weak=True):
    """docs/method.md §3 cell by cell, for one pair x: (N, D), y: (M, D)."""
    n, m = len(x), len(y)
    c = [[-(x[i] * y[j]).sum() for j in range(m)] for i in range(n)]
    ct = c
    if smooth:
        zero = torch.zeros((), dtype=x.dtype)
        ct = [[None] * m for _ in range(n)]
        for i, j in itertools.product(range(n), range(m)):
            if i == j == 0:
                near = [zero, zero, zero]
            else:
                near = (
                    ([c[i][j - 1]] if j else []) + ([c[i - 1][j]] if i else []) + ([c[i - 1][j - 1]] if i and j else [])
                )
            ct[i][j] = c[i][j] + _softmin(near, smooth_gamma)
    if weak:
        rows, cols = 2 * n + 1, 2 * m + 1
        cell = lambda p, q: ct[p // 2][q // 2] if p % 2 and q % 2 else torch.as_tensor(tau, dtype=x.dtype)
    else:
        rows, cols = n, m
        cell = lambda p, q: ct[p][q]
    r = {(0, 0): torch.zeros((), dtype=x.dtype)}
    for p, q in itertools.product(range(1, rows + 1), range(1, cols + 1)):
        prev = [r[k] for k in ((p - 1, q - 1), (p - 1, q), (p, q - 1)) if k in r]  # missing = +inf
        r[(p, q)] = cell(p - 1, q - 1) + _softmin(prev, gamma)
    return r[(rows, cols)]


def ref_matrix(x, y, gamma=0.1, smooth_gamma=0.1, tau=0.5, smooth=True, weak=True, x_lengths=None, y_lengths=None):
    nx = x_lengths.tolist() if x_lengths is not None else [x.shape[1]] * len(x)
    ny = y_lengths.tolist() if y_lengths is not None else [y.shape[1]] * len(y)
    return torch.stack(
        [
            torch.stack(
                [ref_s2dtw(x[c, : nx[c]], y[a, : ny[a]], gamma, smooth_gamma, tau, smooth, weak) for a in range(len(y))]
            )
            for c in range(len(x))
        ]
    )


@pytest.fixture
def ref_alignment(monkeypatch):
    """Route the loss through ref_matrix and record the options of every call."""
    calls = []

    def fake(x, y, **kw):
        calls.append(dict(kw, inputs=(x, y)))
        return ref_matrix(x, y, **kw)

    monkeypatch.setattr(alignment_module, "s2dtw_matrix", fake, raising=False)
    return calls


def unit(*shape, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=g, dtype=dtype), dim=-1)


def hand_loss(d, direction="text", temperature=1.0):
    """Per-sample terms from a distance matrix d[c, a], written as explicit sums."""
    b = len(d)
    text = [d[a, a] / temperature + math.log(sum(math.exp(-d[c, a] / temperature) for c in range(b))) for a in range(b)]
    video = [
        d[c, c] / temperature + math.log(sum(math.exp(-d[c, a] / temperature) for a in range(b))) for c in range(b)
    ]
    if direction == "text":
        return torch.tensor(text, dtype=torch.float64)
    if direction == "video":
        return torch.tensor(video, dtype=torch.float64)
    return (torch.tensor(text, dtype=torch.float64) + torch.tensor(video, dtype=torch.float64)) / 2


# -------------------------------------------------------------------------------------- the oracle itself
@pytest.mark.parametrize("cos, expected", [(-0.5, 8.72), (0.0, 3.51), (0.3, -3.07), (0.5, -8.81), (1.0, -23.31)])
def test_reference_s2dtw_matches_spec_values(cos, expected):
    e1, e2 = torch.eye(2, dtype=torch.float64)
    x = e1.repeat(8, 1)
    y = (cos * e1 + math.sqrt(1 - cos**2) * e2).repeat(8, 1)
    assert float(ref_s2dtw(x, y)) == pytest.approx(expected, abs=0.006)


def test_reference_plain_variant_is_soft_dtw_with_hard_limit():
    x, y = unit(3, 4, seed=1), unit(2, 4, seed=2)
    cost = -(x @ y.T)
    # all five monotone paths (steps down, right, diagonal) of a 3x2 grid
    paths = [
        [(0, 0), (1, 0), (2, 0), (2, 1)],
        [(0, 0), (1, 0), (1, 1), (2, 1)],
        [(0, 0), (0, 1), (1, 1), (2, 1)],
        [(0, 0), (1, 1), (2, 1)],
        [(0, 0), (1, 0), (2, 1)],
    ]
    totals = torch.stack([sum(cost[i, j] for i, j in p) for p in paths])
    assert float(ref_s2dtw(x, y, gamma=0.0, smooth=False, weak=False)) == pytest.approx(float(totals.min()))
    soft = -0.3 * torch.logsumexp(-totals / 0.3, 0)
    assert float(ref_s2dtw(x, y, gamma=0.3, smooth=False, weak=False)) == pytest.approx(float(soft))


# ------------------------------------------------------------------------- sequence loss: logic (oracle-routed)
@pytest.mark.parametrize("direction", ["text", "video", "both"])
@pytest.mark.parametrize("temperature", [1.0, 0.3])
def test_direction_and_temperature_semantics(ref_alignment, direction, temperature):
    v, t = unit(3, 3, 4, seed=3), unit(3, 2, 4, seed=4)
    d = ref_matrix(v, t).detach()
    loss = SequenceContrastiveLoss(direction=direction, temperature=temperature, reduction="none")
    terms = loss(v, t)
    assert terms.shape == (3,)
    torch.testing.assert_close(terms, hand_loss(d, direction, temperature))
    mean = SequenceContrastiveLoss(direction=direction, temperature=temperature)(v, t)
    torch.testing.assert_close(mean, terms.mean())
    assert len(ref_alignment) == 2  # exactly one all-pairs call per forward (two forwards above)


def test_text_and_video_directions_differ(ref_alignment):
    v, t = unit(4, 3, 4, seed=5), unit(4, 3, 4, seed=6)
    a = SequenceContrastiveLoss(direction="text")(v, t)
    b = SequenceContrastiveLoss(direction="video")(v, t)
    assert abs(float(a - b)) > 1e-4


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_options_reach_the_alignment(ref_alignment, name):
    smooth, weak, hard = VARIANTS[name]
    v, t = unit(2, 3, 4), unit(2, 3, 4, seed=1)
    vl, tl = torch.tensor([3, 2]), torch.tensor([1, 3])
    SequenceContrastiveLoss(alignment=flags(name), gamma=0.2, smooth_gamma=0.3, tau=0.4)(v, t, vl, tl)
    kw = ref_alignment[-1]
    assert (kw["smooth"], kw["weak"]) == (smooth, weak)
    assert kw["gamma"] == (0.0 if hard else 0.2) and kw["smooth_gamma"] == 0.3 and kw["tau"] == 0.4
    assert kw["x_lengths"].tolist() == [3, 2] and kw["y_lengths"].tolist() == [1, 3]


def test_identical_pairs_give_log_b(ref_alignment):
    for b in (1, 2, 5):
        v = unit(1, 3, 4, seed=7).expand(b, 3, 4)
        t = unit(1, 2, 4, seed=8).expand(b, 2, 4)
        for direction in ("text", "video", "both"):
            loss = SequenceContrastiveLoss(direction=direction)(v, t)
            assert float(loss) == pytest.approx(math.log(b), abs=1e-12)


def test_tda_in_loss_uses_generator_and_only_in_training(ref_alignment, monkeypatch):
    v = F.normalize(unit(1, 1, 8, seed=9) + 1e-4 * unit(3, 4, 8, seed=10), dim=-1)  # near-duplicates: shuffled
    t = F.normalize(unit(1, 1, 8, seed=11) + 1e-4 * unit(3, 5, 8, seed=12), dim=-1)
    loss = SequenceContrastiveLoss(tda=True, reduction="none")
    got = loss(v, t, generator=torch.Generator().manual_seed(5))
    gen = torch.Generator().manual_seed(5)
    pv, permv = TemporalDataAugmentation()(v, generator=gen)
    pt, permt = TemporalDataAugmentation()(t, generator=gen)
    assert not (permv == torch.arange(4)).all() and not (permt == torch.arange(5)).all()
    assert torch.equal(ref_alignment[0]["inputs"][0], pv) and torch.equal(ref_alignment[0]["inputs"][1], pt)
    torch.testing.assert_close(got, SequenceContrastiveLoss(reduction="none")(pv, pt))
    loss.eval()
    torch.testing.assert_close(
        loss(v, t, generator=torch.Generator().manual_seed(5)), SequenceContrastiveLoss(reduction="none")(v, t)
    )


# --------------------------------------------------------------------- sequence loss: through the real core
@pytest.mark.parametrize("name", list(VARIANTS))
def test_loss_matches_hand_computation_with_reference_distances(name):
    smooth, weak, hard = VARIANTS[name]
    v, t = unit(3, 3, 5, seed=12), unit(3, 2, 5, seed=13)
    gamma = 0.0 if hard else 0.1
    d = ref_matrix(v, t, gamma=gamma, smooth=smooth, weak=weak).detach()
    torch.testing.assert_close(SequenceContrastiveLoss(alignment=flags(name), reduction="none")(v, t), hand_loss(d))


def test_released_default_with_lengths_matches_reference():
    v, t = unit(3, 4, 5, seed=14), unit(3, 3, 5, seed=15)
    vl, tl = torch.tensor([4, 2, 3]), torch.tensor([3, 3, 1])
    d = ref_matrix(v, t, x_lengths=vl, y_lengths=tl).detach()
    got = SequenceContrastiveLoss(direction="both", temperature=0.5)(v, t, vl, tl)
    torch.testing.assert_close(got, hand_loss(d, "both", 0.5).mean())


def test_identical_pairs_give_log_b_real_core():
    for dtype in (torch.float32, torch.float64):
        v = unit(1, 8, 16, seed=16, dtype=dtype).expand(6, 8, 16)
        t = unit(1, 8, 16, seed=17, dtype=dtype).expand(6, 8, 16)
        loss = SequenceContrastiveLoss()(v, t)
        assert loss.dtype == dtype
        assert float(loss) == pytest.approx(math.log(6), abs=1e-5 if dtype == torch.float32 else 1e-12)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_gradcheck_through_loss(name):
    v = unit(2, 3, 3, seed=18).requires_grad_()
    t = unit(2, 2, 3, seed=19).requires_grad_()
    loss = SequenceContrastiveLoss(alignment=flags(name), direction="both", temperature=0.7)
    assert torch.isfinite(loss(v, t))
    assert torch.autograd.gradcheck(lambda a, b: loss(a, b), (v, t), eps=1e-6, atol=1e-5)


def test_learnable_parameters_get_reference_gradients():
    v, t = unit(3, 3, 4, seed=20), unit(3, 3, 4, seed=21)
    params = {
        k: torch.nn.Parameter(torch.tensor(val, dtype=torch.float64))
        for k, val in (("gamma", 0.2), ("smooth_gamma", 0.15), ("tau", 0.4))
    }
    loss = SequenceContrastiveLoss(**params)
    assert {n for n, _ in loss.named_parameters()} == set(params)
    loss(v, t).backward()
    ref = {k: p.detach().clone().requires_grad_() for k, p in params.items()}
    d = ref_matrix(v, t, **ref)
    (torch.logsumexp(-d, 0) + d.diagonal()).mean().backward()
    for k in params:
        assert params[k].grad is not None and torch.isfinite(params[k].grad)
        torch.testing.assert_close(params[k].grad, ref[k].grad)


# --------------------------------------------------------------------------------------------------- TDA
def test_permutation_set_size_and_shape():
    perms = permutation_set(8)
    assert perms.shape == (400, 8)
    assert (perms[0] == torch.arange(8)).all()
    assert len({tuple(p) for p in perms.tolist()}) == 400
    assert ((perms - torch.arange(8)).abs() <= 2).all()
    assert (perms.sort(dim=1).values == torch.arange(8)).all()
    brute = sum(all(abs(p[i] - i) <= 2 for i in range(6)) for p in itertools.permutations(range(6)))
    assert len(permutation_set(6)) == brute
    assert len(permutation_set(5, max_shift=1)) == 8  # Fibonacci for adjacent swaps


def test_tda_probabilities_follow_the_formula():
    e = unit(1, 5, 6, seed=22)
    perms, probs = TemporalDataAugmentation(sharpness=3.0).distribution(e)
    s = -(e[0] @ e[0].T)
    delta = torch.tensor(
        [math.sqrt(sum((s[i, j] - s[p[i], p[j]]) ** 2 for i in range(5) for j in range(5))) for p in perms.tolist()],
        dtype=torch.float64,
    )
    w = torch.exp(-3.0 * delta)
    torch.testing.assert_close(probs[0], w / w.sum())


def test_tda_separated_embeddings_stay_in_order():
    e = unit(16, 8, 64, seed=23)
    _, probs = TemporalDataAugmentation().distribution(e)
    assert (probs[:, 0] > 0.99).all()
    out, perms = TemporalDataAugmentation()(e, generator=torch.Generator().manual_seed(0))
    assert (perms == torch.arange(8)).all() and torch.equal(out, e)


def test_tda_near_duplicates_get_shuffled_independently():
    e = F.normalize(unit(1, 1, 64, seed=24) + 1e-4 * unit(32, 8, 64, seed=25), dim=-1)
    tda = TemporalDataAugmentation()
    out, perms = tda(e, generator=torch.Generator().manual_seed(1))
    assert perms.shape == (32, 8) and perms.dtype == torch.long
    assert (perms != torch.arange(8)).any(dim=1).float().mean() > 0.9
    assert len({tuple(p) for p in perms.tolist()}) > 16  # independent draws per sample
    allowed = {tuple(p) for p in permutation_set(8).tolist()}
    assert all(tuple(p) in allowed for p in perms.tolist())
    torch.testing.assert_close(out, torch.stack([e[b, perms[b]] for b in range(32)]))
    again = tda(e, generator=torch.Generator().manual_seed(1))[1]
    other = tda(e, generator=torch.Generator().manual_seed(2))[1]
    assert torch.equal(perms, again) and not torch.equal(perms, other)


def test_tda_respects_lengths_and_passes_gradients():
    e = F.normalize(unit(1, 1, 16, seed=26) + 1e-4 * unit(20, 6, 16, seed=27), dim=-1).requires_grad_()
    lengths = torch.tensor([1, 2, 3, 4, 5, 6] * 3 + [3, 3])
    out, perms = TemporalDataAugmentation()(e, generator=torch.Generator().manual_seed(3), lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        assert (perms[b, n:] == torch.arange(n, 6)).all()
        assert sorted(perms[b, :n].tolist()) == list(range(n))
        assert (perms[b, :n] - torch.arange(n)).abs().max() <= 2
    weights = torch.randn(20, 6, 16, dtype=torch.float64)
    (out * weights).sum().backward()
    torch.testing.assert_close(e.grad, torch.stack([weights[b, perms[b].argsort()] for b in range(20)]))


# ---------------------------------------------------------------------------------------- clip baselines
def test_nearest_positions_table():
    assert nearest_positions(8, 4).tolist() == [
        [0, 1, 2, 3],
        [1, 0, 2, 3],
        [2, 1, 3, 0],
        [3, 2, 4, 1],
        [4, 3, 5, 2],
        [5, 4, 6, 3],
        [6, 5, 7, 4],
        [7, 6, 5, 4],
    ]
    assert nearest_positions(3, 1).tolist() == [[0], [1], [2]]


@pytest.mark.parametrize("k, temperature", [(1, 1.0), (2, 0.5), (3, 1.0), (4, 2.0)])
def test_milnce_matches_hand_loop(k, temperature):
    g = torch.Generator().manual_seed(k)
    v = torch.randn(2, 4, 3, generator=g, dtype=torch.float64)
    t = torch.randn(2, 4, 3, generator=g, dtype=torch.float64)
    s = lambda x, y: math.exp(float(x @ y) / temperature)
    clips = [(b, i) for b in range(2) for i in range(4)]
    expected = []
    for b, i in clips:
        pos = sorted(range(4), key=lambda j: (abs(j - i), j))[:k]
        num = sum(s(v[b, i], t[b, p]) for p in pos)
        den = sum(s(v[b, i], t[c, j]) for c, j in clips) + sum(s(v[c, j], t[b, p]) for c, j in clips for p in pos)
        expected.append(-math.log(num) + math.log(den))
    got = MILNCELoss(num_candidates=k, temperature=temperature, reduction="none")(v, t)
    torch.testing.assert_close(got.flatten(), torch.tensor(expected, dtype=torch.float64))
    torch.testing.assert_close(MILNCELoss(k, temperature)(v, t), got.mean())


def test_milnce_minimum_is_log2():
    v = unit(3, 4, 8, seed=28)
    assert float(MILNCELoss()(v, unit(3, 4, 8, seed=29))) > math.log(2)
    onehot = 30.0 * torch.eye(12, dtype=torch.float64).reshape(3, 4, 12)
    assert float(MILNCELoss(num_candidates=1)(onehot, onehot)) == pytest.approx(math.log(2), abs=1e-9)


def test_clip_infonce_matches_cross_entropy():
    v, t = unit(3, 4, 6, seed=30), unit(3, 4, 6, seed=31)
    logits = torch.einsum("bid,cjd->bicj", v, t).reshape(12, 12) / 0.07
    labels = torch.arange(12)
    expected = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
    torch.testing.assert_close(ClipInfoNCELoss()(v, t), expected)
    per = ClipInfoNCELoss(reduction="none")(v, t)
    assert per.shape == (3, 4)
    both = F.cross_entropy(logits, labels, reduction="none") + F.cross_entropy(logits.T, labels, reduction="none")
    torch.testing.assert_close(per.flatten(), both / 2)


# ------------------------------------------------------------------------------------------------ inputs
def test_public_names_resolve():
    assert vttwins.SequenceContrastiveLoss is SequenceContrastiveLoss
    assert vttwins.TemporalDataAugmentation is TemporalDataAugmentation


@pytest.mark.parametrize(
    "make, call, match",
    [
        (SequenceContrastiveLoss, lambda f: f(torch.zeros(2, 3), torch.zeros(2, 3, 4)), "video must be a 3-D"),
        (SequenceContrastiveLoss, lambda f: f(torch.zeros(2, 3, 4), torch.zeros(3, 3, 4)), r"\(2, 3, 4\).*\(3, 3, 4\)"),
        (SequenceContrastiveLoss, lambda f: f(torch.zeros(2, 3, 4), torch.zeros(2, 3, 5)), "text"),
        (SequenceContrastiveLoss, lambda f: f(torch.zeros(2, 0, 4), torch.zeros(2, 3, 4)), "non-empty"),
        (
            SequenceContrastiveLoss,
            lambda f: f(torch.zeros(2, 3, 4, dtype=torch.long), torch.zeros(2, 3, 4)),
            "floating",
        ),
        (
            SequenceContrastiveLoss,
            lambda f: f(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), torch.tensor([1, 4])),
            r"video_lengths must lie in \[1, 3\]",
        ),
        (
            SequenceContrastiveLoss,
            lambda f: f(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), None, torch.tensor([1])),
            "text_lengths must be an integer tensor of shape",
        ),
        (
            SequenceContrastiveLoss,
            lambda f: f(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), torch.tensor([1.0, 2.0])),
            "video_lengths",
        ),
        (MILNCELoss, lambda f: f(torch.zeros(2, 3, 4), torch.zeros(2, 2, 4)), r"\(B, n, D\) and \(B, n, D\)"),
        (MILNCELoss, lambda f: f(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4)), "num_candidates must lie in"),
        (ClipInfoNCELoss, lambda f: f(torch.zeros(3, 4), torch.zeros(3, 4)), "video must be a 3-D"),
        (TemporalDataAugmentation, lambda f: f(torch.zeros(2, 3, 4), lengths=torch.tensor([0, 3])), "lengths"),
        (TemporalDataAugmentation, lambda f: f(torch.full((2, 3, 4), float("nan"))), "non-finite"),
        (SequenceContrastiveLoss, lambda f: f(torch.full((2, 3, 4), float("inf")), torch.zeros(2, 3, 4)), "finite"),
    ],
)
def test_bad_inputs_raise(make, call, match):
    with pytest.raises(ValueError, match=match):
        call(make())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alignment": "fast_dtw"}, "alignment"),
        ({"alignment": "soft_dtw"}, "mapping of the flags"),
        ({"alignment": {"smooth": True}}, "smooth, weak"),
        ({"alignment": {"smooth": 1, "weak": 1, "fast": 1}}, "flags"),
        ({"direction": "clip"}, "direction"),
        ({"reduction": "max"}, "reduction"),
        ({"temperature": 0.0}, "temperature"),
        ({"gamma": -1.0}, "gamma"),
        ({"tau": float("nan")}, "tau"),
        ({"smooth_gamma": torch.ones(2)}, "smooth_gamma"),
    ],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SequenceContrastiveLoss(**kwargs)


def test_bad_baseline_options_raise():
    with pytest.raises(ValueError, match="num_candidates"):
        MILNCELoss(num_candidates=0)
    with pytest.raises(ValueError, match="temperature"):
        ClipInfoNCELoss(temperature=-1.0)
    with pytest.raises(ValueError, match="max_shift"):
        TemporalDataAugmentation(max_shift=-1)


@pytest.mark.parametrize(
    "bad", [torch.zeros(2, 3), torch.zeros(2, 0, 4), torch.zeros(2, 3, 4, dtype=torch.long), [[[0.0]]]]
)
def test_the_losses_check_sequences_by_the_alignment_rule(bad):
    """One rule for a (B, n, D) input: every loss raises the message of `alignment.checks.check_seq`."""
    from vttwins.alignment.checks import check_lengths, check_seq

    with pytest.raises(ValueError) as rule:
        check_seq(bad, "video")
    good = torch.zeros(2, 3, 4)
    for loss in (SequenceContrastiveLoss(), MILNCELoss(num_candidates=1), ClipInfoNCELoss()):
        with pytest.raises(ValueError) as got:
            loss(bad, good)
        assert str(got.value) == str(rule.value)
    with pytest.raises(ValueError) as got:
        SequenceContrastiveLoss()(good, good, torch.tensor([1, 4]))
    with pytest.raises(ValueError) as rule:
        check_lengths(torch.tensor([1, 4]), "video_lengths", 2, 3, "cpu")
    assert str(got.value) == str(rule.value)
