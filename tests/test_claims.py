"""CLAIMS.md from small hand-made tables: verdicts by their definition, Holm over the family, the CLI."""

import pandas as pd
import pytest
import torch

from vttwins import objectives
from vttwins.__main__ import main
from vttwins.companion.experiments import claims, tda

OFFSETS = {  # objective -> (R@10 offset, CrossTask offset) from S2DTW, per world
    "default": {
        "MIL-NCE": (-8, 9),
        "clip InfoNCE": (9, 9),
        "soft-DTW + weak alignment": (-9, -9),
        "soft-DTW + smoothing": (-9, -9),
        "soft-DTW": (-18, -18),
        "S2DTW + TDA": (0, 0),
    },
    "other": {
        "MIL-NCE": (-8, -9),
        "clip InfoNCE": (9, 9),
        "soft-DTW + weak alignment": (-9, -9),
        "soft-DTW + smoothing": (-9, -9),
        "soft-DTW": (-18, -18),
        "S2DTW + TDA": (0, 0),
    },
}
NOISE = [0.5, -0.5, 0.25, -0.25, 0.0]


def _results(tmp_path, seeds=5):
    rows = []
    for world, offsets in OFFSETS.items():
        for s in range(1, seeds + 1):
            base = 20.0 + 3 * s
            rows.append(
                {
                    "run": f"s2-{world}-{s}",
                    "world": world,
                    "loss": "S2DTW",
                    "seed": s,
                    "table": "tuned",
                    "yc2_t2v_R@10": base,
                    "crosstask_recall": base + 10,
                    "skip_caption_recall": 0.0,
                    "skip_clip_recall": 5.0 + s,
                }
            )
            for loss, (r, c) in offsets.items():
                e = NOISE[s - 1] if r == 0 else 0.0
                rows.append(
                    {
                        "run": f"{loss}-{world}-{s}",
                        "world": world,
                        "loss": loss,
                        "seed": s,
                        "table": "tuned",
                        "yc2_t2v_R@10": base + r + e,
                        "crosstask_recall": base + 10 + c + e,
                        "skip_caption_recall": 0.0,
                        "skip_clip_recall": 0.0,
                    }
                )
    tables = tmp_path / "results" / "tables"
    tables.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(tables / "ablation_runs.csv", index=False)
    pd.DataFrame(
        [{"world": w, "loss": "untrained", "skip_caption_recall": 0.0, "skip_clip_recall": 0.0} for w in OFFSETS]
    ).to_csv(tables / "ablation_truth_reference.csv", index=False)
    pd.DataFrame(
        [{"loss": "S2DTW", "lr": 0.001, "tau": 0.5, "temperature": 1.0, "seed": s, "plateau": True} for s in (1, 2)]
    ).to_csv(tables / "collapse_runs.csv", index=False)
    return tmp_path / "results"


def test_verdicts_follow_their_definition(tmp_path):
    table = claims.claims_table(_results(tmp_path))
    verdict = table.groupby("claim")["verdict"].first()
    assert verdict["beats_clipnce_retrieval"] == "contradicted"  # clip InfoNCE 9 above on both worlds
    assert verdict["weak_helps_softdtw_steps"] == "supported"  # S2DTW-weak - soft-DTW = +9 on both
    assert verdict["tda_helps_retrieval"] == "unresolved"  # zero mean difference
    assert verdict["beats_milnce_steps"] == "unresolved"  # the worlds disagree
    note = table[table.claim == "beats_milnce_steps"]["note"].iloc[0]
    assert "mixed: default contradicted, other supported" in note  # MIL-NCE +9 on default, -9 on other
    assert verdict["skips_captions"] == "unresolved" and verdict["skips_clips"] == "supported"
    assert verdict["stable_released"] == "contradicted"  # both seeds at log B
    assert table.loc[table.claim == "stable_released", "provisional"].all()  # 2 seeds < 5


def test_holm_is_over_every_comparison_and_seeds_only_is_said(tmp_path):
    table = claims.claims_table(_results(tmp_path))
    with_p = table[table["p"].notna()]
    assert len(with_p) == 14 * 2  # 14 claims with a p-value x 2 worlds
    assert (with_p["p_holm"] >= with_p["p"]).all()
    assert (table.loc[table["p"].notna(), "resampled"] == "seeds").all()
    assert "seeds only" in table[table.claim == "beats_clipnce_steps"]["note"].iloc[0]


def test_three_seeds_make_every_verdict_provisional(tmp_path):
    table = claims.claims_table(_results(tmp_path, seeds=3))
    assert table["provisional"].all() and "n=3 < 5: provisional" in table["note"].iloc[0]


def test_cli_writes_claims_md_and_csv(tmp_path):
    results = _results(tmp_path)
    assert main(["claims", "--results", str(results), "--no-tda"]) == 0
    text = (results / "CLAIMS.md").read_text()
    assert "| `beats_clipnce_retrieval` |" in text and "**contradicted**" in text
    assert "docs/method.md §3.3" in text and "not stated in docs/method.md" in text
    assert pd.read_csv(results / "tables" / "claims.csv")["claim"].nunique() == len(claims.CLAIMS)


def test_cli_names_a_missing_results_folder(tmp_path, capsys):
    assert main(["claims", "--results", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_tda_is_a_no_op_at_the_released_sharpness_and_the_strong_variant_permutes():
    g = torch.Generator().manual_seed(0)
    seq = torch.nn.functional.normalize(torch.randn(32, 8, 128, generator=g), dim=-1)
    released = tda.tda_statistics(seq, 2, 50.0)
    strong = tda.tda_statistics(seq, 2, objectives.get("s2dtw_tda_strong").options["sharpness"])
    assert released["share"] < 0.01  # documents the no-op: the identity keeps > 99 % of the mass
    assert strong["share"] > 0.1 and strong["mean_displacement"] > 0.05
    # a batch actually drawn at the strong setting is changed
    from vttwins.losses import TemporalDataAugmentation

    _, perms = TemporalDataAugmentation(2, 10.0)(seq, generator=torch.Generator().manual_seed(1))
    assert (perms != torch.arange(8)).any()


def test_tda_statistics_by_hand_on_two_identical_items():
    # n = 2, max_shift = 1: perms {id, swap}; identical items -> delta = 0 for both -> probability 1/2 each
    seq = torch.ones(1, 2, 4)
    stats = tda.tda_statistics(seq, 1, 50.0)
    assert stats["share"] == pytest.approx(0.5) and stats["mean_displacement"] == pytest.approx(0.5)


def test_strong_variant_refuses_a_sharpness_it_would_ignore():
    from vttwins.companion.config import load_config

    cfg = load_config("smoke", ["loss.name=s2dtw_tda_strong", "loss.tda_sharpness=20"])
    with pytest.raises(ValueError, match="tda_sharpness"):
        objectives.build(cfg.loss)
    ok = load_config("smoke", ["loss.name=s2dtw_tda_strong"])
    assert objectives.build(ok.loss).tda.sharpness == 10.0


def test_readme_block_leads_with_the_claims(tmp_path):
    from vttwins.companion.experiments import reports
    from vttwins.companion.pipeline import runner, specs

    results = _results(tmp_path)
    assert runner.write_claims_step(results)
    assert (results / "tables" / "tda_permutations.csv").is_file()
    block = reports.readme_results_block(specs.NOTEBOOKS, results)
    assert block.startswith("**The paper's claims") and "| `stable_released` |" in block
    assert "**contradicted** (provisional)" in block  # 2 collapse seeds
    assert not runner.write_claims_step(tmp_path / "empty")  # before notebook 02: nothing to read


def test_claims_say_which_orderings_flip_with_more_training():
    import pandas as pd
    from vttwins.companion.experiments.claims import convergence_markdown

    order = pd.DataFrame(
        {
            "world": ["default"] * 2,
            "loss_a": ["S2DTW", "MIL-NCE"],
            "loss_b": ["clip InfoNCE"] * 2,
            "metric": ["crosstask_recall"] * 2,
            "steps_short": [150] * 2,
            "steps_long": [600] * 2,
            "diff_short": [-6.8, 2.0],
            "diff_long": [12.1, 1.0],
            "low_long": [7.1, -2.0],
            "high_long": [17.2, 4.0],
            "p_long": [0.001, 0.5],
            "resolved_long": [True, False],
            "agrees": [False, True],
        }
    )
    text = convergence_markdown(order)
    assert "**1 of 2 orderings change sign between 150 and 600 steps**" in text
    assert "| S2DTW vs clip InfoNCE (default) | crosstask_recall | -6.8 | +12.1 [+7.1, +17.2] | < 0.01 | yes |" in text
    assert "MIL-NCE vs" not in text
    assert "same sign at 600" in convergence_markdown(order.assign(agrees=True))
