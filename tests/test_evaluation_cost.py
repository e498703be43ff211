"""What makes one grid cell's evaluation cheaper (issue 20) changes no number: the windows gathered at once equal the
per-start reference, the step texts the two CrossTask protocols share are encoded once and to the same bits, the
tables of a fixed model equal those the code before the change wrote, and importing the evaluators loads no scipy.

The identity check at the default profile (trained models, every table and per-item row, exact) is
`benchmarks/bench_eval.py --dump` run with the old and the new code, then `--compare`.
"""

import hashlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from test_evaluation_data import CFG, DIM, WORDS, make_sets
from test_evaluation_items import Noisy

from vttwins.companion.evaluation.common import item_table
from vttwins.companion.evaluation.run import evaluate_model
from vttwins.data.features import feature_window
from vttwins.models import ModelConfig, Tokenizer, build_model
from vttwins.companion.evaluation import EvalConfig, step_localization

SL = sys.modules["vttwins.companion.evaluation.step_localization"]  # the module (the package name is the function)
WINDOWS = pytest.importorskip("vttwins.companion.evaluation.windows")
ALL_VIDEOS = CFG.__class__(**{**CFG.__dict__, "crosstask_split": None})


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    return make_sets(tmp_path_factory.mktemp("sets"))


@pytest.mark.parametrize("window", [1, 4])
def test_feature_windows_equal_the_per_start_reference(window):
    feats = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    starts = np.array([0.0, 0.5, 2.99, 3.0, 5.2, 6.9, 9.0, -0.5])  # fractions, the last rows, past the end, < 0
    got = WINDOWS.feature_windows(feats, starts, window)
    want = np.stack([feature_window(feats, float(s), window) for s in starts])
    assert got.dtype == np.float32 and got.shape == (len(starts), window, 3)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("starts", [[], [1.0, float("nan")], [float("inf")]])
def test_feature_windows_refuse_missing_or_non_finite_starts(starts):
    with pytest.raises(ValueError, match="window starts"):
        WINDOWS.feature_windows(np.zeros((5, 2), np.float32), np.array(starts), 2)


class Counting(torch.nn.Module):
    """A small real model (float32 layers, BLAS) that counts the sentences it encodes."""

    mode = "feature"

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        cfg = ModelConfig(feature_dim=DIM, embed_dim=8, hidden=16, word_dim=8, text_hidden=16)
        self.inner, self.sentences = build_model(cfg, vocab=WORDS).eval(), 0

    def encode_video(self, x, normalize=False):
        return self.inner.encode_video(x, normalize)

    def encode_text(self, tokens, normalize=False):
        self.sentences += len(tokens)
        return self.inner.encode_text(tokens, normalize)


def test_both_crosstask_protocols_share_step_texts_and_give_the_tables_of_separate_calls(sets):
    tok, model = Tokenizer(WORDS), Counting()
    both = step_localization(model, sets, tokenizer=tok, config=ALL_VIDEOS)
    shared = model.sentences
    model.sentences = 0
    alone = [SL.crosstask_standard(model, sets, tok, ALL_VIDEOS), SL.crosstask_ctr(model, sets, tok, ALL_VIDEOS)]
    assert shared == 3 and model.sentences == 6  # one task of 3 steps: encoded once, not once per protocol
    want = pd.concat(alone, ignore_index=True)
    pd.testing.assert_frame_equal(both, want, check_exact=True)
    want_items = pd.concat([item_table(a) for a in alone], ignore_index=True)
    pd.testing.assert_frame_equal(item_table(both), want_items, check_exact=True)


# Written by the code before issue 20's changes (main at 3e3f4ff) for the Noisy model on the hand-made sets:
# (variant, metric, split, value, chance, n) per row; sha256 of the items table as CSV with float_format %.17g.
GOLDEN = {
    "youcook2": (
        [
            ("t2v", "R@1", "val", 100.0, 16.66666666666673, 6),
            ("t2v", "R@5", "val", 100.0, 83.33333333333334, 6),
            ("t2v", "R@10", "val", 100.0, 100.0, 6),
            ("t2v", "MedR", "val", 1.0, 3.499999999999999, 6),
            ("t2v", "MeanR", "val", 1.0, 3.4999999999999987, 6),
            ("v2t", "R@1", "val", 83.33333333333334, 16.66666666666673, 6),
            ("v2t", "R@5", "val", 100.0, 83.33333333333334, 6),
            ("v2t", "R@10", "val", 100.0, 100.0, 6),
            ("v2t", "MedR", "val", 1.0, 3.499999999999999, 6),
            ("v2t", "MeanR", "val", 1.1666666666666667, 3.4999999999999987, 6),
        ],
        "09a325b38ffbd4b4dddc41937e8c8edb4fdd495f4b6aa8c3f855d64350f64916",
    ),
    "crosstask": (
        [
            ("standard", "recall", "777", 16.666666666666668, 14.0, 3),
            ("standard", "recall", "mean", 16.666666666666668, 14.0, 3),
            ("ordered", "recall", "777", 50.0, 21.666666666666668, 3),
            ("ordered", "recall", "mean", 50.0, 21.666666666666668, 3),
            ("ctr", "accuracy", "777", 85.71428571428571, 33.333333333333336, 7),
            ("ctr", "accuracy", "mean", 85.71428571428571, 33.333333333333336, 7),
        ],
        "9a2556457500fa9df19621eef8fab2c3d9f31f3590b40057990009365e70e712",
    ),
}


def test_tables_and_items_equal_those_of_the_code_before(sets):
    tables = evaluate_model(Noisy(), sets, Tokenizer(WORDS), ALL_VIDEOS, ["youcook2", "crosstask"])
    for task, (rows, digest) in GOLDEN.items():
        df = tables[task]
        got = [(r.variant, r.metric, r.split, r.value, r.chance, r.n) for r in df.itertuples()]
        assert [g[:4] + g[5:] for g in got] == [w[:4] + w[5:] for w in rows]  # values exact
        assert [g[4] for g in got] == pytest.approx([w[4] for w in rows], rel=1e-12, abs=0)  # chance: libm
        items = item_table(df)
        # per-item ranks (MeanR) and CTR segments came later (their own tests: test_evaluation_items)
        later = items["metric"].isin(["MeanR", "accuracy"])
        assert later.sum() == (12 if task == "youcook2" else 3)  # 2 directions x 6 queries; 3 videos
        csv = items[~later].to_csv(index=False, float_format="%.17g")
        assert hashlib.sha256(csv.encode()).hexdigest() == digest


def test_importing_the_evaluators_loads_no_scipy():
    code = "import sys, vttwins.companion.evaluation.tasks; print(sorted(m for m in sys.modules if m == 'scipy'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_remembered_feature_file_is_found_again_after_it_moved_and_named_when_gone(tmp_path):
    np.save(tmp_path / "v1.npy", np.ones((3, 2), np.float32))
    assert WINDOWS.WindowSource(EvalConfig(), "feature", features=tmp_path).path("v1", "t") == tmp_path / "v1.npy"
    (tmp_path / "v1.npy").rename(tmp_path / "v1.mp4.npy")  # a new source must not serve the remembered name
    assert WINDOWS.WindowSource(EvalConfig(), "feature", features=tmp_path).path("v1", "t") == tmp_path / "v1.mp4.npy"
    (tmp_path / "v1.mp4.npy").unlink()
    with pytest.raises(FileNotFoundError, match="v1"):
        WINDOWS.WindowSource(EvalConfig(), "feature", features=tmp_path).windows("v1", [0.0], "t")
