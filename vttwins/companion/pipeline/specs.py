"""The companion's declared outputs: the ordered notebooks and the tables and figures each one must write.

    from vttwins.companion.pipeline.specs import NOTEBOOKS, spec
    spec("03_retrieval_youcook2").tables[0].name   # -> "retrieval_youcook2"

A leaf of the pipeline package: the runner checks these outputs, the README writer lists them, and the
reproduction check compares them; nothing here runs a notebook. The downstream benchmarks' notebooks (03-06) are
declared by their `Task` (vttwins/companion/benchmarks/) and read from the task registry.
"""

from __future__ import annotations

from collections.abc import Sequence

from vttwins.companion.benchmarks.registry import TASKS
from vttwins.companion.outputs import Figure, NotebookSpec, Table


_M = ("yc2_t2v_R@10", "crosstask_recall")  # ablation metrics every grid table must carry
_STATS = tuple(f"{m}_{s}" for m in _M for s in ("mean", "std"))
# one seed -> no std: the std of every ablation metric may be NaN (yc2 R@10/MedR, CrossTask recall/ordered/CTR)
_STD = tuple(
    f"{m}_std" for m in ("yc2_t2v_R@10", "yc2_t2v_MedR", "crosstask_recall", "crosstask_ordered", "crosstask_ctr")
)
_TRUTH = ("pair_precision_mean", "pair_recall_mean", "skip_caption_recall_mean", "skip_clip_recall_mean")
# the truth metrics of alignment_truth (precision and recall of matched pairs, skipped captions, skipped clips)
_TRUTH_M = tuple(f"{what}_{m}" for what in ("pair", "skip_caption", "skip_clip") for m in ("precision", "recall"))
_TRUTH_NULL = tuple(f"{m}_{s}" for m in _TRUTH_M for s in ("mean", "std")) + _TRUTH_M
# the paired difference to the world's best row (`<m>_vs_best`): undefined where the metric is (nothing skipped)
_VS_BEST = tuple(f"{m}_vs_best" for m in _TRUTH_M)
_KNOBS = ("gamma", "smooth_gamma", "tau")  # tuned knobs only some objectives have (NaN for the others)
# The notebooks that are not a downstream benchmark's; each benchmark's notebook spec is its Task's (`Task.spec`).
_OWN: list[NotebookSpec] = [
    NotebookSpec(
        "00_data",
        "SynthHowTo: the data and its weak alignment",
        tables=(
            Table("data_summary", "SynthHowTo counts per set and the measured narration noise", ("quantity", "value")),
        ),
        figures=(
            Figure(
                "data_weak_alignment",
                "frames, true step segments and shifted narration of example videos: what weak alignment looks like",
                caption="captions start before or after their step, some steps are never narrated, grey captions are filler: the weak alignment S2DTW is built for",
            ),
            Figure(
                "data_caption_offsets",
                "distribution of caption-minus-step offsets",
                caption="the spread of narration around its step: how far a caption may sit from what it describes",
            ),
        ),
    ),
    NotebookSpec(
        "01_pretrain",
        "VT-TWINS pretraining (S2DTW), feature mode and a pixel-mode run",
        tables=(
            Table(
                "pretrain_runs",
                "the pretraining runs: mode, loss, steps, batch, first and last logged loss",
                ("run", "mode", "loss", "steps", "first_loss", "last_loss"),
            ),
            Table(
                "pretrain_pixel_eval",
                "the pixel-mode S2DTW runs against their untrained models "
                "and chance, mean and std over seeds (YouCook2 t2v retrieval, CrossTask)",
                (
                    "benchmark",
                    "variant",
                    "metric",
                    "n_seeds",
                    "trained_mean",
                    "trained_std",
                    "untrained_mean",
                    "untrained_std",
                    "chance",
                ),
                ("trained_std", "untrained_std"),
            ),
        ),
        figures=(
            Figure(
                "pretrain_loss_curve",
                "training loss per step of each pretraining run",
                caption="whether each run moves away from log B (the dashed line, where a contrastive loss that tells no pair apart sits); every pixel seed is drawn",
            ),
        ),
    ),
    NotebookSpec(
        "02_ablation_dtw_variants",
        "A fair ablation: objectives on two worlds, alignment against the truth, one noise knob at a time",
        tables=(
            Table(
                "ablation_defaults",
                "(a) each objective at its own defaults: test split, both "
                "worlds, mean and std over seeds, alignment-vs-truth columns",
                ("world", "loss", "n_seeds", *_STATS, *_TRUTH),
                (*_STD, *_TRUTH_NULL, *_VS_BEST),
            ),
            Table(
                "ablation_tuned",
                "(b) each objective at its best setting of its own knobs on val: test split, both worlds",
                ("world", "loss", "temperature", "normalize", "n_seeds", *_STATS, *_TRUTH),
                (*_STD, *_TRUTH_NULL, *_VS_BEST, "temperature", *_KNOBS),
            ),  # chance rows: no setting
            Table(
                "ablation_tuning",
                "the tuning search on the val split: the same number of random "
                "trials per objective over its own knobs, an extension round at a range edge, the "
                "chosen trial per world",
                (
                    "world",
                    "loss",
                    "round",
                    "trial",
                    "temperature",
                    "normalize",
                    "n_seeds",
                    *_STATS,
                    "val_score",
                    "chosen",
                ),
                (*_STD, *_KNOBS, "extension"),
            ),
            Table(
                "ablation_truth_reference",
                "chance and untrained rows of the alignment-vs-truth columns",
                ("world", "loss", *(c.removesuffix("_mean") for c in _TRUTH)),
                _TRUTH_NULL,
            ),
            Table(
                "ablation_knobs",
                "one-knob narration sweeps (time shift, filler rate, narrated steps) per objective",
                ("loss", "knob", "level", "n_seeds", *_STATS),
                _STD,
            ),
            Table(
                "ablation_knob_effects",
                "change of each metric when one narration knob moves from "
                "the world's value, per objective (std of the difference; ~ = unresolved)",
                ("loss", "knob", "from", "to", "n_seeds", *(f"delta_{m}_{s}" for m in _M for s in ("mean", "std"))),
                tuple(
                    f"delta_{s.removesuffix('_std')}_{b}"
                    for s in _STD  # one seed: no spread
                    for b in ("std", "low", "high")
                ),
            ),
            Table(
                "ablation_runs",
                "every reported ablation run with its table, world, cell, seed and metrics",
                ("table", "seed", *_M),
                ("world", "temperature", "normalize", "knob", "level", *_KNOBS, *_TRUTH_NULL),
                keys=("table", "world", "loss", "temperature", "normalize", "knob", "level", "seed"),
                volatile=("run",),
            ),
            Table(
                "ablation_convergence",
                "learning curve on the val split: the headline objectives at "
                "their tuned settings at 1x, 2x, 4x the steps, mean and std over seeds",
                ("world", "loss", "factor", "steps", "n_seeds", *_STATS),
                _STD,
            ),
            Table(
                "ablation_convergence_order",
                "each pair of headline objectives: paired difference "
                "over seeds at the shortest and longest length; agrees = the same sign",
                (
                    "world",
                    "loss_a",
                    "loss_b",
                    "metric",
                    "n_seeds",
                    "steps_short",
                    "steps_long",
                    "diff_short",
                    "diff_long",
                    "low_long",
                    "high_long",
                    "p_long",
                    "agrees",
                ),
            ),
        ),
        figures=(
            Figure(
                "ablation_defaults",
                "(a) defaults per objective and world, with truth columns",
                caption="bars against the chance (dashed) and untrained (dotted) lines: a pair precision below the untrained line is worse than no training",
            ),
            Figure(
                "ablation_tuned",
                "(b) tuned per objective and world",
                caption="the verdict plot: which objective leads once each is tuned, and whether its 95 % interval separates it from the next",
            ),
            Figure(
                "ablation_knobs",
                "metric vs one narration knob at a time",
                caption="how each objective's score moves when one narration knob gets noisier (to the right); overlapping intervals are no effect",
            ),
            Figure(
                "ablation_convergence",
                "val metrics vs training steps of the headline objectives",
                caption="does the ordering of the headline objectives hold at 2x and 4x the steps? crossing lines = it flips",
            ),
        ),
    ),
    NotebookSpec(
        "07_alignment_paths",
        "Alignment paths: DTW vs soft-DTW vs S2DTW, before and after training",
        tables=(
            Table(
                "alignment_paths",
                "hard paths on held-out videos: matched pairs on a true step, skipped clips and captions",
                ("video_id", "stage", "method", "precision"),
            ),
            Table(
                "alignment_truth",
                "pair and skip precision/recall vs the true step match over every held-out video, per stage and method",
                ("stage", "method", "pair_precision", "pair_recall", "videos"),
                (
                    "pair_precision",
                    "pair_recall",
                    "skip_caption_precision",
                    "skip_caption_recall",
                    "skip_clip_precision",
                    "skip_clip_recall",
                ),
            ),
            Table(
                "alignment_sanity",
                "the readout's sanity rows: diagonal (uniform warp), oracle (true "
                "step match), untrained and trained S2DTW at tau 0.1/0.3/0.5/1 and its median cost",
                ("model", "tau_kind", "pair_precision", "pair_recall", "videos"),
                (
                    "tau",
                    "pair_precision",
                    "pair_recall",
                    "skip_caption_precision",
                    "skip_caption_recall",
                    "skip_clip_precision",
                    "skip_clip_recall",
                ),
            ),
        ),
        figures=(
            Figure(
                "alignment_paths_before",
                "cost, soft alignment E (with skip-mass bars for the weak "
                "lattice) and hard path against the truth on held-out videos, untrained model",
                caption="the readouts (DTW, soft-DTW, S2DTW) on the untrained model: the hard path against the true step match (grey)",
            ),
            Figure(
                "alignment_paths_after",
                "the same after S2DTW pretraining",
                caption="the same readouts on the S2DTW-trained model: more path points on grey cells = alignment closer to the truth",
            ),
        ),
    ),
    NotebookSpec(
        "08_benchmarks",
        "Speed and memory against the peers",
        tables=(
            Table(
                "benchmarks_index",
                "the benchmark files and the revision they measured",
                ("benchmark", "title", "records"),
                volatile=("git_revision",),
            ),
        ),
        figures=(
            Figure(
                "benchmarks_overview",
                "time per case of every benchmark",
                caption="each implementation's time relative to the package's own (the line at 1): right of 1 is slower",
            ),
            Figure(
                "benchmarks_alignment",
                "S2DTW loss time vs batch and soft-DTW throughput vs "
                "sequence length, against tslearn, pysdtw and a naive autograd loop",
                caption="the loss time vs batch and soft-DTW throughput vs length against tslearn, pysdtw and a naive loop",
            ),
        ),
    ),
    NotebookSpec(
        "09_bring_your_own_data",
        "Bring your own data: a third-party set (Trace) in the real layouts",
        tables=(
            Table(
                "byod_trace",
                "Trace (tslearn) converted with vttwins.data.formats: a feature-mode "
                "S2DTW run vs its untrained model and chance",
                ("task", "protocol", "variant", "metric", "value", "untrained", "chance"),
            ),
        ),
    ),
    NotebookSpec(
        "10_s2dtw_collapse",
        "The S2DTW collapse: where the log-B plateau happens, and why",
        tables=(
            Table(
                "collapse_phase",
                "share of seeds at the log-B plateau per objective x temperature x "
                "tau x lr, with the detector's read-outs",
                ("loss", "temperature", "tau", "lr", "plateau_share", "late_skip_share"),
            ),
            Table(
                "collapse_runs",
                "every collapse run with its plateau flag and detector read-outs",
                ("loss", "lr", "tau", "temperature", "seed", "final_loss", "gap_to_logB"),
            ),
        ),
        figures=(
            Figure(
                "collapse_phase",
                "share of seeds stuck at log B over lr x tau",
                caption="the lr x tau cells where S2DTW sits at log B (dark) and where the skip-cost warm-up avoids it",
            ),
            Figure(
                "collapse_detector",
                "skip share per step of the highest-lr, highest-tau runs",
                caption="the skip share of the collapsing run goes to 1 while the warm-up run's stays at 0",
            ),
        ),
    ),
]


def notebooks() -> list[NotebookSpec]:
    """Every notebook in pipeline order (by its number): this module's and each registered benchmark's spec."""
    benchmarks = [task.spec for task in TASKS.values() if task.spec is not None]
    return sorted([*_OWN, *benchmarks], key=lambda nb: nb.name)


class _Notebooks(Sequence):
    """A live, read-only view of `notebooks()`: a benchmark registered after import is listed too."""

    def __getitem__(self, i):
        return notebooks()[i]

    def __len__(self) -> int:
        return len(notebooks())

    def __repr__(self) -> str:
        return repr(notebooks())


NOTEBOOKS: Sequence[NotebookSpec] = _Notebooks()


def all_tables() -> dict[str, Table]:
    """Every declared table by name, in pipeline order."""
    return {t.name: t for nb in NOTEBOOKS for t in nb.tables}


def spec(name: str) -> NotebookSpec:
    for nb in NOTEBOOKS:
        if nb.name == name:
            return nb
    raise ValueError(f"unknown notebook {name!r}; known: {[nb.name for nb in NOTEBOOKS]}")
