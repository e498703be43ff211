"""Every figure the pipeline writes, built on small synthetic tables shaped like the real ones (no training), passes
the reader's check (`vttwins.companion.figure_check.check_figure`); the check itself catches what issue 22 found."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from vttwins.companion import plots, results  # noqa: E402
from vttwins.companion.figure_check import check_figure  # noqa: E402

LOSSES = ["MIL-NCE", "soft-DTW", "S2DTW"]
RNG = np.random.default_rng(0)


def _runs(**labels):
    rows = [
        {
            "world": w,
            "loss": loss,
            "seed": s,
            **labels,
            "yc2_t2v_R@10": RNG.uniform(1, 30),
            "crosstask_recall": RNG.uniform(0, 40),
            "pair_precision": RNG.uniform(0, 60),
            "skip_caption_recall": RNG.choice([0.0, 90.0]),
        }
        for w in ("default", "seed4242")
        for loss in LOSSES
        for s in (1, 2, 3)
    ]
    return pd.DataFrame(rows)


def _summary(runs, by):
    metrics = ["yc2_t2v_R@10", "crosstask_recall", "pair_precision", "skip_caption_recall"]
    g = runs.groupby(by, sort=False)[metrics]
    out = g.mean().add_suffix("_mean").join(g.std().add_suffix("_std")).reset_index()
    return out.assign(n_seeds=3)


def _world_bars():
    runs = _runs()
    table = _summary(runs, ["world", "loss"])
    chance = pd.DataFrame(
        {
            "world": ["default", "seed4242"],
            "loss": "chance",
            "n_seeds": 0,
            "yc2_t2v_R@10_mean": 7.25,
            "crosstask_recall_mean": 12.0,
            "pair_precision_mean": 18.0,
        }
    )
    reference = pd.DataFrame(
        {
            "world": ["default", "default"],
            "loss": ["chance", "untrained"],
            "pair_precision": [18.4, 51.4],
            "skip_caption_recall": [np.nan, 0.0],
        }
    )
    return plots.world_bars(
        pd.concat([table, chance]),
        ["yc2_t2v_R@10", "crosstask_recall", "pair_precision", "skip_caption_recall"],
        runs=runs,
        reference=reference,
    )


def _knobs():
    runs = pd.concat(
        [
            _runs(knob=k, level=v)
            for k, levels in {"offset_std": (4.0, 8.0), "narrate_prob": (0.8, 0.5)}.items()
            for v in levels
        ]
    ).query("world == 'default'")
    return plots.knob_sweeps(
        _summary(runs, ["loss", "knob", "level"]),
        ["yc2_t2v_R@10", "crosstask_recall"],
        {"offset_std": "caption time shift std (s)", "narrate_prob": "probability narrated"},
        chance={"yc2_t2v_R@10": 7.25},
        runs=runs,
    )


def _curve(n=30, start=2.1):
    return pd.DataFrame(
        {
            "step": np.arange(n),
            "loss": start - 0.01 * np.arange(n) + RNG.normal(0, 0.02, n),
            "skip_share": np.clip(np.linspace(0, 1.2, n), 0, 1),
        }
    )


def _loss_curves():
    return plots.loss_curves(
        {"s2dtw": _curve(), "s2dtw (pixel, S3D)": {"seed 1": _curve(), "seed 2": _curve()}},
        log_b={"s2dtw": 16, "s2dtw (pixel, S3D)": 8},
    )


def _skip_share():
    return plots.skip_share_curves(
        {"S2DTW lr=0.001": _curve(), "S2DTW + warm-up lr=0.001": _curve().assign(skip_share=0.0)}
    )


def _alignment_panels():
    n, m = 5, 4
    truth = np.zeros((n, m), dtype=bool)
    truth[[0, 1, 3], [0, 1, 2]] = True
    row = {
        "cost": RNG.uniform(-1, 1, (n, m)),
        "E_real": RNG.uniform(0, 0.3, (n, m)),
        "truth": truth,
        "path": [(0, 0), (1, 1), (3, 2)],
        "unmatched_x": [2, 4],
        "unmatched_y": [3],
    }
    return plots.alignment_panels(
        [
            {**row, "label": "v1 · readout: S2DTW on the S2DTW-trained model", "weak": True},
            {**row, "label": "v1 · readout: DTW on the S2DTW-trained model", "weak": False},
        ]
    )


def _benchmarks():
    align = pd.DataFrame(
        {
            "case": ["loss B=16", "loss B=16", "soft_dtw 8x17x17", "soft_dtw 8x17x17"],
            "method": ["ours", "released", "vttwins", "tslearn"],
            "ms": [3.0, 20.0, 26.0, 213.0],
            "x_vs_vttwins": [1.0, 6.2, 1.0, np.nan],
        }
    )
    train = pd.DataFrame(
        {
            "what": ["train step", "train step"],
            "mode": ["feature", "feature"],
            "loss": ["s2dtw", "mil_nce"],
            "step_s": [0.092, 0.093],
        }
    )
    return plots.benchmark_overview({"alignment": {"records": align}, "training": {"records": train}})


def _phase():
    rows = [
        {
            "loss": "S2DTW",
            "temperature": 1.0,
            "tau": t,
            "lr": lr,
            "seed": s,
            "plateau": bool(s % 2),
            "late_skip_share": 0.5,
        }
        for t in (0.1, 0.5)
        for lr in (2e-4, 1e-3)
        for s in (1, 2)
    ]
    return plots.phase_diagram(pd.DataFrame(rows))


def _offsets():
    return plots.offset_histogram(
        pd.DataFrame({"kind": ["step"] * 20 + ["filler"] * 5, "offset": RNG.normal(0, 3, 25)})
    )


def _learning_curves():
    runs = pd.concat([_runs().query("world == 'default'").assign(steps=n) for n in (150, 300, 600)])
    return plots.learning_curves(runs, ["yc2_t2v_R@10", "crosstask_recall"], title="learning curve (val)")


FIGURES = {
    "ablation_defaults/tuned": _world_bars,
    "ablation_convergence": _learning_curves,
    "ablation_knobs": _knobs,
    "pretrain_loss_curve": _loss_curves,
    "collapse_detector": _skip_share,
    "alignment_paths": _alignment_panels,
    "benchmarks_overview": _benchmarks,
    "collapse_phase": _phase,
    "data_caption_offsets": _offsets,
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_pipeline_figures_pass_the_reader_check(name):
    fig = FIGURES[name]()
    try:
        assert check_figure(fig) == [], f"figure {name}: {check_figure(fig)}"
    finally:
        plt.close(fig)


def test_world_bars_intervals_stay_in_range_and_come_from_the_bootstrap():
    fig = _world_bars()
    try:
        for ax in fig.axes:
            if "%" in ax.get_xlabel():
                assert ax.get_xlim()[0] >= 0 and ax.get_xlim()[1] <= 100
        runs = _runs()
        stats = plots.intervals(runs[runs.world == "default"], ["loss"], "skip_caption_recall")
        assert (stats["low"] >= 0).all() and (stats["high"] <= 100).all()
        from vttwins.companion.stats import mean_interval

        sel = runs[(runs.world == "default") & (runs.loss == "S2DTW")]["yc2_t2v_R@10"].to_numpy()
        got = plots.intervals(runs[runs.world == "default"], ["loss"], "yc2_t2v_R@10").set_index("loss")
        # the same interval, cut to the metric's natural range 0..100
        assert (got.loc["S2DTW", "low"], got.loc["S2DTW", "high"]) == pytest.approx(np.clip(mean_interval(sel), 0, 100))
    finally:
        plt.close(fig)


def test_the_check_names_what_issue_22_found():
    fig, (a, b) = plt.subplots(1, 2)
    a.bar([0, 1], [10, 40], yerr=[30, 5])  # a symmetric std bar pushing a recall below 0
    a.set(ylabel="pair recall (%)", xlabel="objective", title="S2DTW · after")
    b.plot([0, 1], [1, 2])
    b.plot([0, 1], [2, 1])  # two unlabelled lines, no legend, no labels
    problems = check_figure(fig)
    plt.close(fig)
    assert any("past the natural range" in p and "panel 0" in p for p in problems)
    assert any("trained or read out" in p for p in problems)
    assert any("panel 1" in p and "no x label" in p for p in problems)
    assert any("panel 1" in p and "neither a legend" in p for p in problems)


def test_save_figure_names_a_failing_figure(tmp_path, monkeypatch):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    monkeypatch.setenv(results.STRICT_FIGURES_ENV, "1")
    with pytest.raises(ValueError, match="figure bad_figure: panel 0: no x label"):
        results.save_figure(fig, "bad_figure", tmp_path)
    assert not (tmp_path / "bad_figure.png").exists()
    plt.close(fig)
