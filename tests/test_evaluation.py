"""Downstream metrics and chance levels on hand-made inputs with known answers (vttwins.companion.evaluation)."""

import itertools
import math

import numpy as np
import pytest

from vttwins.companion.evaluation import chance, metrics


# ------------------------------------------------------------------------------------------- retrieval
def test_ranks_known_matrix():
    s = np.array(
        [
            [0.9, 0.1, 0.0],
            [0.8, 0.5, 0.7],  # positive 0.5 beaten by 0.8 and 0.7 -> rank 3
            [0.0, 0.9, 0.3],
        ]
    )  # positive 0.3 beaten by 0.9 -> rank 2
    assert metrics.retrieval_ranks(s).tolist() == [1, 3, 2]
    summary = metrics.rank_summary([1, 3, 2], ks=(1, 2))
    assert summary == pytest.approx({"R@1": 100 / 3, "R@2": 200 / 3, "MedR": 2.0, "MeanR": 2.0})


def test_ties_are_pessimistic_and_order_free():
    s = np.array([[0.5, 0.5, 0.5], [0.2, 0.7, 0.7], [0.1, 0.1, 0.0]])
    # query 0: two negatives tie the positive -> rank 3; query 1: one tie -> 2; query 2: 0.0 < both -> 3
    assert metrics.retrieval_ranks(s).tolist() == [3, 2, 3]
    perm = [2, 0, 1]  # permuting candidates does not change any rank
    assert metrics.retrieval_ranks(s[:, perm], np.argsort(perm)).tolist() == [3, 2, 3]
    # a collapsed model (all scores equal) is ranked last, not first
    assert set(metrics.retrieval_ranks(np.ones((4, 4))).tolist()) == {4}


def test_several_positives_use_the_best_one():
    s = np.array([[0.1, 0.9, 0.5, 0.3]])
    mask = np.array([[True, False, False, True]])  # best positive 0.3, beaten by 0.9 and 0.5
    assert metrics.retrieval_ranks(s, mask).tolist() == [3]
    assert metrics.retrieval_ranks(s, np.array([[True, True, False, False]])).tolist() == [1]


def test_video_to_text_is_the_transpose():
    rng = np.random.default_rng(0)
    s = rng.standard_normal((6, 6))
    assert metrics.retrieval_ranks(s.T).tolist() == [1 + int((s[:, j] >= s[j, j]).sum() - 1) for j in range(6)]


def test_bad_scores_raise():
    with pytest.raises(ValueError, match="NaN"):
        metrics.retrieval_ranks(np.array([[np.nan, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        metrics.retrieval_ranks(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="positive indices"):
        metrics.retrieval_ranks(np.zeros((2, 3)), [0, 3])


def test_top1_ties_count_as_wrong():
    s = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.3, 0.2, 0.1]])
    assert metrics.top1_correct(s, [0, 1, 2]).tolist() == [False, True, False]
    assert metrics.accuracy(s, [0, 1, 0]) == pytest.approx(200 / 3)


# ------------------------------------------------------------------------------------------- CrossTask
def test_interval_mask_follows_floor_ceil_and_keeps_both_intervals():
    y = metrics.interval_mask(10, 3, [(0, 1.2, 3.0), (2, 5.5, 6.2), (0, 7.0, 8.9)])
    assert np.flatnonzero(y[:, 0]).tolist() == [1, 2, 7, 8]  # step 0 annotated twice
    assert np.flatnonzero(y[:, 2]).tolist() == [5, 6]
    assert not y[:, 1].any()  # step 1 never annotated
    with pytest.raises(ValueError, match="step 3"):
        metrics.interval_mask(10, 3, [(3, 0.0, 1.0)])


def test_crosstask_hits_double_annotation_and_missing_step():
    y = metrics.interval_mask(10, 3, [(0, 1.0, 3.0), (0, 7.0, 9.0), (2, 5.0, 6.0)])
    scores = np.zeros((10, 3))
    scores[8, 0] = 1.0  # inside the second interval of step 0 -> hit
    scores[2, 1] = 1.0  # step 1 not annotated: not counted
    scores[0, 2] = 1.0  # outside step 2's interval -> miss
    instants = metrics.crosstask_predict(scores)
    assert instants.tolist() == [8, 2, 0]
    assert metrics.crosstask_hits(instants, y) == (1, 2)
    # argmax ties pick the earliest second
    assert metrics.crosstask_predict(np.zeros((5, 2))).tolist() == [0, 0]


def test_pooled_recall_is_per_task_sum_then_mean_later():
    rec = metrics.pooled_recall([("a", 1, 2), ("a", 3, 3), ("b", 0, 4), ("c", 0, 0)])
    assert rec == pytest.approx({"a": 80.0, "b": 0.0})  # c has no annotated step


def _brute_force_best_path(s):
    """Enumerate every monotone path on a small grid (moves (1,0), (0,1), (1,1))."""
    t_len, k_len = s.shape
    best, best_path = -np.inf, None

    def walk(t, k, acc, path):
        nonlocal best, best_path
        acc = acc + s[t, k]
        path = path + [(t, k)]
        if (t, k) == (t_len - 1, k_len - 1):
            if acc > best:
                best, best_path = acc, path
            return
        for dt, dk in ((1, 1), (1, 0), (0, 1)):
            if t + dt < t_len and k + dk < k_len:
                walk(t + dt, k + dk, acc, path)

    walk(0, 0, 0.0, [])
    return best, best_path


@pytest.mark.parametrize("shape", [(5, 3), (4, 4), (3, 5), (6, 2)])
def test_monotone_path_is_the_best_path(shape):
    rng = np.random.default_rng(sum(shape))
    s = rng.standard_normal(shape)
    best, brute_path = _brute_force_best_path(s)
    path = metrics.monotone_paths(s)[0]
    assert sum(s[t, k] for t, k in path) == pytest.approx(best)
    assert path == brute_path
    inst = metrics.ordered_instants(s)
    assert (np.diff(inst) >= 0).all()  # steps decoded in task order


def test_ordered_instants_respect_order_where_argmax_does_not():
    s = np.full((6, 2), -1.0)
    s[1, 1], s[4, 0] = 1.0, 1.0  # step 1's best second comes before step 0's
    s[2, 0], s[5, 1] = 0.5, 0.5
    assert metrics.crosstask_predict(s).tolist() == [4, 1]
    inst = metrics.ordered_instants(s)
    assert inst[0] <= inst[1]


def test_monotone_path_matches_alignment_hard_path():
    torch = pytest.importorskip("torch")
    alignment = pytest.importorskip("vttwins.alignment")
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((1, 12, 8)), rng.standard_normal((1, 4, 8))
    scores = x[0] @ y[0].T
    hp = alignment.hard_path(torch.tensor(x), torch.tensor(y), smooth=False, weak=False)[0]
    assert [tuple(p) for p in hp.pairs.tolist()] == metrics.monotone_paths(scores)[0]


# ------------------------------------------------------------------------------------------- chance
@pytest.mark.parametrize("c,p", [(5, 1), (7, 2), (6, 3)])
def test_rank_pmf_matches_enumeration(c, p):
    counts = np.zeros(c)
    for perm in itertools.permutations(range(c)):  # positives are items 0..p-1
        counts[min(perm.index(i) for i in range(p))] += 1
    assert chance.rank_pmf(c, p) == pytest.approx(counts / counts.sum())
    assert (np.arange(1, c + 1) * chance.rank_pmf(c, p)).sum() == pytest.approx((c + 1) / (p + 1))


def test_retrieval_chance_closed_form_and_simulation():
    ch = chance.retrieval_chance(20, num_queries=20, ks=(1, 5, 10))
    assert ch["R@1"] == pytest.approx(5.0) and ch["R@5"] == pytest.approx(25.0)
    assert ch["R@10"] == pytest.approx(50.0) and ch["MeanR"] == pytest.approx(10.5)
    rng = np.random.default_rng(0)
    meds = [np.median(metrics.retrieval_ranks(rng.standard_normal((20, 20)))) for _ in range(4000)]
    assert ch["MedR"] == pytest.approx(np.mean(meds), abs=0.15)
    # k beyond the candidate count is capped
    assert chance.retrieval_chance(3, num_queries=3, ks=(10,))["R@10"] == pytest.approx(100.0)


def test_expected_sample_median_even_and_odd():
    pmf = np.full(4, 0.25)
    for q in (1, 2, 3):
        draws = itertools.product(range(1, 5), repeat=q)
        exact = np.mean([np.median(d) for d in draws])
        assert chance.expected_sample_median(pmf, q) == pytest.approx(exact)


def test_crosstask_chance_is_the_uniform_instant_expectation():
    y1 = metrics.interval_mask(10, 3, [(0, 1.0, 3.0), (0, 7.0, 9.0), (2, 5.0, 6.0)])  # 4/10 and 1/10
    y2 = metrics.interval_mask(5, 3, [(1, 0.0, 5.0)])  # 5/5
    ch = chance.crosstask_chance([("a", y1), ("a", y2)])
    assert ch == pytest.approx({"a": 100 * (0.4 + 0.1 + 1.0) / 3})
    # brute force: average over every instant of every step
    hits = (
        sum(metrics.crosstask_hits([t0, t1, t2], y1)[0] for t0 in range(10) for t1 in range(10) for t2 in range(10))
        / 1000
    )
    assert hits == pytest.approx(0.5)


def test_ordered_chance_monte_carlo_is_reproducible_and_sane():
    y = metrics.interval_mask(20, 3, [(0, 0.0, 5.0), (1, 8.0, 12.0), (2, 15.0, 20.0)])
    a = chance.ordered_crosstask_chance([("t", y)], draws=200, seed=1)
    b = chance.ordered_crosstask_chance([("t", y)], draws=200, seed=1)
    assert a == b and 0.0 < a["t"] < 100.0
    # steps in their true order at the true positions: a random monotone decoder beats a random instant
    assert a["t"] > chance.crosstask_chance([("t", y)])["t"]


def test_classification_chance():
    assert chance.classification_chance([0, 1, 2, 3], 4) == pytest.approx(25.0)
    # majority class of the training set (class 1) covers half of the test set
    assert chance.classification_chance([1, 1, 0, 2], 3, train_labels=[1, 1, 1, 0, 2]) == pytest.approx(50.0)
    # ties in the training counts pick the lowest index (class 0): 1/4 < 1/3 -> uniform wins
    assert chance.classification_chance([0, 1, 1, 2], 3, train_labels=[0, 1]) == pytest.approx(100 / 3)
    assert math.isclose(chance.classification_chance([0], 2, train_labels=[0]), 100.0)


def test_standardized_ordered_decoding_ignores_step_offsets():
    rng = np.random.default_rng(5)
    s = rng.standard_normal((30, 4))
    shifted = s * np.array([1.0, 3.0, 0.5, 2.0]) + np.array([10.0, -4.0, 0.0, 7.0])  # per-step scale + offset
    a = metrics.ordered_instants(s, metrics.monotone_paths(metrics.standardize_steps(s))[0])
    b = metrics.ordered_instants(shifted, metrics.monotone_paths(metrics.standardize_steps(shifted))[0])
    assert a.tolist() == b.tolist()
    # without standardising, the step with the big offset swallows the video
    raw = metrics.monotone_paths(shifted)[0]
    assert sum(k == 0 for _, k in raw) > 20
    assert metrics.standardize_steps(np.ones((5, 2))).tolist() == np.zeros((5, 2)).tolist()


def test_ordered_path_via_hard_path_equals_numpy_reference():
    pytest.importorskip("vttwins.alignment")
    from vttwins.companion.evaluation.step_localization import ordered_path

    rng = np.random.default_rng(7)
    emb, steps = rng.standard_normal((25, 6)) + 2.0, rng.standard_normal((5, 6))
    assert ordered_path(emb, steps) == metrics.monotone_paths(metrics.standardize_steps(emb @ steps.T))[0]
