"""Per-item scores of the evaluators: the reported aggregates recomputed from them exactly, and their cache file."""

import numpy as np
import pandas as pd
import pytest
import torch
from test_evaluation_data import CFG, WORDS, Oracle, make_sets

from vttwins.companion.evaluation import action_recognition, retrieval, step_localization
from vttwins.companion.evaluation.common import ITEM_COLUMNS, item_table
from vttwins.models import Tokenizer


class Noisy(Oracle):
    """The oracle with fixed noise on the video side, so that some queries and steps are missed."""

    def encode_video(self, x, normalize=False):
        v = super().encode_video(x)
        g = torch.Generator().manual_seed(int(1000 * float(v.sum())) % 2**31)
        return v + 2.0 * torch.randn(v.shape, generator=g)


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    return make_sets(tmp_path_factory.mktemp("sets"))


def test_retrieval_items_give_back_r_at_k_exactly(sets):
    df = retrieval(Noisy(), sets, "youcook2", tokenizer=Tokenizer(WORDS), config=CFG)
    items = item_table(df)
    assert list(items.columns) == ITEM_COLUMNS
    assert set(items["metric"]) == {"R@1", "R@5", "R@10", "MeanR"}  # MedR, a median, has no per-item form
    for (variant, metric), g in items.groupby(["variant", "metric"]):
        reported = df[(df.variant == variant) & (df.metric == metric)]["value"].item()
        if metric == "MeanR":  # the ranks themselves; mean rank = their mean, recounted from the 0/100 R@k items
            assert float(g["score"].mean()) == reported
            assert (g["score"] >= 1).all() and (g["score"] == g["score"].round()).all()
            r10 = items[(items.variant == variant) & (items.metric == "R@10")].set_index("item")["score"]
            assert ((g.set_index("item")["score"] <= 10) == (r10 == 100.0)).all()
        else:
            assert 100.0 * float((g["score"].to_numpy() == 100.0).mean()) == reported  # exact, as rank_summary
        assert len(g) == df[(df.variant == variant) & (df.metric == metric)]["n"].item()
    means = items[items.metric != "MeanR"].groupby(["variant", "metric"])["score"].mean()
    assert ((means > 0) & (means < 100)).any()  # the noisy model misses some queries: the test can fail
    assert items[(items.variant == "t2v") & (items.metric == "R@1")]["item"].is_unique


def _pooled_mean(g: pd.DataFrame) -> float:
    task = g["item"].str.split("/").str[0]
    per_task = g.groupby(task).agg(h=("hits", "sum"), t=("total", "sum"))
    per_task = per_task[per_task.t > 0]
    return float(np.mean(list(100.0 * per_task.h / per_task.t)))


def test_crosstask_items_give_back_the_mean_recall_exactly(sets):
    cfg = CFG.__class__(**{**CFG.__dict__, "crosstask_split": None})
    df = step_localization(Noisy(), sets, tokenizer=Tokenizer(WORDS), config=cfg)
    items = item_table(df)
    assert set(items["variant"]) == {"standard", "ordered", "ctr"}
    for variant, g in items.groupby("variant"):
        reported = df[(df.variant == variant) & (df.split == "mean")]["value"].item()
        assert _pooled_mean(g) == pytest.approx(reported, abs=1e-12)  # hits / totals
        w = g["weight"].to_numpy()
        assert float((w * g["score"]).sum() / w.sum()) == pytest.approx(reported, abs=1e-9)
        n = df[(df.variant == variant) & (df.split == "mean")]["n"].item()  # videos; CTR: segments
        assert (g["total"].sum() if variant == "ctr" else len(g)) == n
        assert g["item"].is_unique  # one item per video, for CTR too (its segments are not independent)
    assert not (items["score"] == 100).all()  # the noisy model misses some steps


def test_action_items_give_back_top1_per_split_and_their_mean(sets):
    df = action_recognition(Noisy(), sets, tokenizer=Tokenizer(WORDS), config=CFG)
    items = item_table(df)
    assert list(items.columns) == ITEM_COLUMNS and set(items["metric"]) == {"top1"}
    assert {(v, s) for v, s in zip(items.variant, items.split)} == {(v, s) for v, s in zip(df.variant, df.split)}
    for (variant, split), g in items.groupby(["variant", "split"]):
        row = df[(df.variant == variant) & (df.split == split)]
        w = g["weight"].to_numpy()
        assert float((w * g["score"]).sum() / w.sum()) == pytest.approx(row["value"].item(), abs=1e-9)
        assert g["item"].is_unique  # one item per video, also in `mean` where a video is tested by several splits
        if split != "mean":
            assert len(g) == row["n"].item() and set(g["score"]) <= {0.0, 100.0} and (w == 1.0).all()
            assert (g["hits"] == (g["score"] == 100.0)).all()
    mean = items[items.split == "mean"]
    per_split = items[items.split != "mean"]
    # a video's `mean` weight counts 1 / (test videos of the split) for each split that tests it
    n_split = per_split.groupby(["variant", "split"])["item"].transform("size")
    expect = (1.0 / n_split).groupby([per_split["variant"], per_split["item"]]).sum()
    got = mean.set_index(["variant", "item"])["weight"]
    assert np.allclose(got.sort_index().to_numpy(), expect.sort_index().to_numpy())
    assert 0 < (per_split["score"] == 100.0).mean() < 1  # the noisy model gets some videos wrong: the test can fail


def test_evaluate_writes_items_beside_its_cache(tmp_path, monkeypatch):
    from vttwins.companion.experiments import runs

    fake = pd.DataFrame(
        {
            "task": ["retrieval"],
            "protocol": ["youcook2"],
            "variant": ["t2v"],
            "metric": ["R@10"],
            "split": ["val"],
            "value": [50.0],
            "chance": [1.0],
            "n": [2],
        }
    )
    items = pd.DataFrame(
        {
            "task": "retrieval",
            "protocol": "youcook2",
            "variant": "t2v",
            "metric": "R@10",
            "split": "val",
            "item": ["a", "b"],
            "score": [100.0, 0.0],
            "weight": 1.0,
        }
    )
    from vttwins.companion.evaluation.common import with_items

    monkeypatch.setattr(runs, "load_trained", lambda d: (None, None, None))
    monkeypatch.setattr(runs, "eval_config", lambda c, **k: None)
    monkeypatch.setattr(runs, "run_dataset", lambda c: None)
    monkeypatch.setattr(runs, "evaluate_model", lambda *a: {"youcook2": with_items(fake.copy(), items)})
    out = runs.evaluate(tmp_path, ["youcook2"])
    assert out["value"].tolist() == [50.0]
    got = runs.evaluate_items(tmp_path, ["youcook2"])
    assert got["item"].tolist() == ["a", "b"] and got["score"].mean() == out["value"].item()
    assert len(list((tmp_path / "eval").glob("*.items.csv"))) == 1
