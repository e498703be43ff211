"""The companion's declared outputs: the ordered notebooks and the tables and figures each one must write.

    from vttwins.pipeline.specs import NOTEBOOKS, spec
    spec("03_retrieval_youcook2").tables[0].name   # -> "retrieval_youcook2"

A leaf of the pipeline package: the runner checks these outputs, the README writer lists them, and the
reproduction check compares them; nothing here runs a notebook.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[str, ...] = ()
    nullable: tuple[str, ...] = ()   # numeric columns allowed to hold NaN (e.g. a metric undefined for chance)
    keys: tuple[str, ...] = ()       # columns naming a row for `reproduce --check` (default: the text columns)
    volatile: tuple[str, ...] = ()   # columns naming the code or run (hashes): not compared by the check


@dataclass(frozen=True)
class Figure:
    name: str
    description: str


@dataclass(frozen=True)
class NotebookSpec:
    name: str
    title: str
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()


_M = ("yc2_t2v_R@10", "crosstask_recall")  # ablation metrics every grid table must carry
_STATS = tuple(f"{m}_{s}" for m in _M for s in ("mean", "std"))
_STD = tuple(c for c in _STATS if c.endswith("_std"))  # one seed -> no std
_RETRIEVAL = ("model", "direction", "R@1", "R@5", "R@10", "MedR", "MeanR")
NOTEBOOKS: list[NotebookSpec] = [
    NotebookSpec("00_data", "SynthHowTo: the data and its weak alignment",
                 tables=(Table("data_summary", "SynthHowTo counts per set and the measured narration noise",
                               ("quantity", "value")),),
                 figures=(Figure("data_weak_alignment", "frames, true step segments and shifted narration of "
                                 "example videos: what weak alignment looks like"),
                          Figure("data_caption_offsets", "distribution of caption-minus-step offsets"))),
    NotebookSpec("01_pretrain", "VT-TWINS pretraining (S2DTW), feature mode and a pixel-mode run",
                 tables=(Table("pretrain_runs", "the pretraining runs: mode, loss, steps, batch, first and last "
                               "logged loss", ("run", "mode", "loss", "steps", "first_loss", "last_loss")),
                         Table("pretrain_pixel_eval", "the pixel-mode S2DTW runs against their untrained models "
                               "and chance, mean and std over seeds (YouCook2 t2v retrieval, CrossTask)",
                               ("benchmark", "variant", "metric", "n_seeds", "trained_mean", "trained_std",
                                "untrained_mean", "untrained_std", "chance"), ("trained_std", "untrained_std"))),
                 figures=(Figure("pretrain_loss_curve", "training loss per step of each pretraining run"),)),
    NotebookSpec("02_ablation_dtw_variants", "Ablation: losses, DTW variants, gamma, tau and narration noise",
                 tables=(Table("ablation_dtw_variants", "the DTW-variant ablation: eight objectives, mean and std "
                               "over seeds", ("loss", "n_seeds", *_STATS), _STD),
                         Table("ablation_gamma", "S2DTW gamma sweep, mean and std over seeds",
                               ("gamma", "n_seeds", *_STATS), _STD),
                         Table("ablation_tau", "S2DTW tau sweep, mean and std over seeds",
                               ("tau", "n_seeds", *_STATS), _STD),
                         Table("ablation_noise", "narration-noise sweep (offset spread, filler rate) for MIL-NCE, "
                               "soft-DTW and S2DTW", ("loss", "offset_std", "filler_rate", "n_seeds", *_STATS), _STD),
                         Table("ablation_runs", "every ablation run with its cell, seed and metrics",
                               ("seed", *_M), ("gamma", "tau", "offset_std", "filler_rate"),
                               keys=("loss", "gamma", "tau", "offset_std", "filler_rate", "seed"),
                               volatile=("run",))),
                 figures=(Figure("ablation_dtw_variants", "the ablation as bars (mean, std, chance)"),
                          Figure("ablation_gamma_tau", "metric vs gamma and tau of S2DTW"),
                          Figure("ablation_noise", "metric vs narration noise for MIL-NCE, soft-DTW and S2DTW"))),
    NotebookSpec("03_retrieval_youcook2", "YouCook2-style text-video retrieval",
                 tables=(Table("retrieval_youcook2", "YouCook2-style retrieval, text->video and video->text, "
                               "per model with computed chance", _RETRIEVAL),)),
    NotebookSpec("04_retrieval_msrvtt", "MSR-VTT-style text-video retrieval",
                 tables=(Table("retrieval_msrvtt", "MSR-VTT-style retrieval, text->video and video->text, "
                               "per model with computed chance", _RETRIEVAL),)),
    NotebookSpec("05_step_localization_crosstask", "CrossTask step localization, both protocols",
                 tables=(Table("step_localization_crosstask", "CrossTask standard and ordered recall and CTR "
                               "accuracy, mean over tasks", ("model", "protocol", "metric", "value", "chance")),
                         Table("step_localization_crosstask_per_task", "CrossTask metrics per task",
                               ("model", "protocol", "task", "value", "chance")))),
    NotebookSpec("06_action_recognition", "Action recognition: linear probe and zero-shot",
                 tables=(Table("action_recognition", "action recognition top-1: linear probe and zero-shot, per "
                               "split and mean", ("model", "protocol", "mean")),)),
    NotebookSpec("07_alignment_paths", "Alignment paths: DTW vs soft-DTW vs S2DTW, before and after training",
                 tables=(Table("alignment_paths", "hard paths on held-out videos: matched pairs on a true step, "
                               "skipped clips and captions", ("video_id", "stage", "method", "precision")),),
                 figures=(Figure("alignment_paths_before", "cost, smoothed cost, soft alignment E, hard path and "
                                 "truth on held-out videos before training"),
                          Figure("alignment_paths_after", "the same after S2DTW pretraining"))),
    NotebookSpec("08_benchmarks", "Speed and memory against the peers",
                 tables=(Table("benchmarks_index", "the benchmark files and the revision they measured",
                               ("benchmark", "title", "records"), volatile=("git_revision",)),),
                 figures=(Figure("benchmarks_overview", "time per case of every benchmark"),
                          Figure("benchmarks_alignment", "S2DTW loss time vs batch and soft-DTW throughput vs "
                                 "sequence length, against tslearn, pysdtw and a naive autograd loop"))),
    NotebookSpec("09_bring_your_own_data", "Bring your own data: a third-party set (Trace) in the real layouts",
                 tables=(Table("byod_trace", "Trace (tslearn) converted with vttwins.data.formats: a feature-mode "
                               "S2DTW run vs its untrained model and chance",
                               ("task", "protocol", "variant", "metric", "value", "untrained", "chance")),)),
]


def all_tables() -> dict[str, Table]:
    """Every declared table by name, in pipeline order."""
    return {t.name: t for nb in NOTEBOOKS for t in nb.tables}


def spec(name: str) -> NotebookSpec:
    for nb in NOTEBOOKS:
        if nb.name == name:
            return nb
    raise ValueError(f"unknown notebook {name!r}; known: {[nb.name for nb in NOTEBOOKS]}")
