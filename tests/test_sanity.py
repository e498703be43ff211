"""Sanity rows of the alignment readout against hand-computed precision/recall on toy truth matrices."""

import math

import numpy as np
import pytest

from vttwins.companion.experiments import sanity

TOY = np.array(
    [
        [1, 0, 0],
        [0, 0, 0],  # clip 1: no caption narrates its step (should be skipped)
        [0, 0, 1],
    ],
    bool,
)  # caption 1: filler (no clip shares its step)


def test_diagonal_path_is_the_uniform_warp():
    assert sanity.diagonal_path(3, 3) == [(0, 0), (1, 1), (2, 2)]
    assert sanity.diagonal_path(2, 4) == [(0, 0), (0, 1), (1, 2), (1, 3)]
    assert sanity.diagonal_path(1, 1) == [(0, 0)]
    with pytest.raises(ValueError, match="n and m"):
        sanity.diagonal_path(0, 3)


def test_oracle_path_matches_the_true_pairs_and_skips_the_rest():
    pairs, skip_x, skip_y = sanity.oracle_path(TOY)
    assert pairs == [(0, 0), (2, 2)] and skip_x == [1] and skip_y == [1]
    # crossing truth: a monotone path can take only one of the two true pairs
    pairs, _, _ = sanity.oracle_path(np.array([[0, 1], [1, 0]], bool))
    assert len(pairs) == 1 and pairs[0] in {(0, 1), (1, 0)}


def test_reference_rows_by_hand():
    diag, oracle = sanity.reference_rows([TOY])
    # diagonal: pairs (0,0) (1,1) (2,2), 2 of them true, 2 true pairs; nothing skipped (1 true skip each side)
    assert diag["pair_precision"] == pytest.approx(200 / 3) and diag["pair_recall"] == 100.0
    assert math.isnan(diag["skip_caption_precision"]) and diag["skip_caption_recall"] == 0.0
    assert diag["skip_clip_recall"] == 0.0
    # oracle: the two true pairs, clip 1 and caption 1 skipped
    assert oracle["pair_precision"] == 100.0 and oracle["pair_recall"] == 100.0
    assert oracle["skip_caption_precision"] == 100.0 and oracle["skip_caption_recall"] == 100.0
    assert oracle["skip_clip_precision"] == 100.0 and oracle["skip_clip_recall"] == 100.0
    # two videos: micro-averaged over both (crossing truth: oracle 1 of 2 true pairs)
    _, both = sanity.reference_rows([TOY, np.array([[0, 1], [1, 0]], bool)])
    assert both["pair_recall"] == pytest.approx(100 * 3 / 4) and both["videos"] == 2


def test_alignment_sanity_rows_and_the_median_cost_tau(monkeypatch):
    import torch

    v = torch.eye(3, dtype=torch.float64)
    monkeypatch.setattr(sanity, "embed_sequences", lambda *a: (v, v.clone(), None, None))
    monkeypatch.setattr(sanity, "step_truth", lambda *a: TOY)
    table = sanity.alignment_sanity({"m": None}, None, None, ["a", "b"], taus=(0.1, 1.0), smooth_gamma=0.0)
    assert table["model"].tolist() == ["diagonal (uniform warp)", "oracle (true step match)", "m", "m", "m"]
    assert table["tau_kind"].tolist()[2:] == ["fixed", "fixed", "median cost"]
    # smooth_gamma = 0: smoothed cost = C + min of its (valid) predecessors; C = -I -> by hand, cells are
    # row 0: [-1 - 0 (corner), 0 + -1, 0 + 0], row 1: [0 - 1, -1 - 1, 0 - 1], row 2: [0, 0 - 1, -1 - 1]
    smoothed = [-1, -1, 0, -1, -2, -1, 0, -1, -2]
    assert table["tau"].iloc[-1] == pytest.approx(float(np.median(smoothed)))
    assert (table["videos"] == 2).all()
