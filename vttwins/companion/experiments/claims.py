"""The paper's claims next to what this companion measured: `results/CLAIMS.md` and `results/tables/claims.csv`.

    python -m vttwins claims [--results results]          # reads results/tables/*.csv, writes CLAIMS.md + claims.csv
    table = claims_table("results")                      # one row per claim x world (long form)

Each claim of CLAIMS (id, the paper's statement, where docs/method.md states it, objective A vs B, metric, the
direction the paper expects, the table that tests it) is scored from the committed tables, never by training:

- objective claims: `effects.compare` (paired difference A - B over the seeds both share, from
  `ablation_runs.csv`, the `tuned` rows: each objective at its best val setting, test split; per-item scores of
  `ablation_items.csv` are resampled too when that table exists);
- the skip claim: trained S2DTW's skip recall per seed minus the untrained model's (`ablation_truth_reference.csv`,
  one number per world: a difference to a fixed reference, seeds resampled);
- the stability claim: the share of seeds at the log-B plateau at the released settings (`collapse_runs.csv`).

Verdict of a claim (every world it is measured on counts; "the direction" is the paper's):
    supported    on every world the 95 % interval excludes 0 in the paper's direction AND the Holm-adjusted p
                 (over all claim comparisons of this file) is < 0.05;
    contradicted on every world the interval excludes 0 in the opposite direction AND Holm p < 0.05;
    unresolved   otherwise; `mixed` in the note when worlds disagree (one resolved, another not or opposite).
Stability: contradicted when the plateau share's interval excludes 0 (seeds collapse), supported when no seed
plateaus with >= 5 seeds, else unresolved. Fewer than 5 seeds, or seeds only (no per-item scores): `provisional`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from vttwins.companion.results import atomic_write_text, write_table
from vttwins.companion.stats import holm, mean_interval, paired_difference

from . import effects

log = logging.getLogger(__name__)
MIN_SEEDS = 5
ALPHA = 0.05


@dataclasses.dataclass(frozen=True)
class Claim:
    """One testable statement of the paper; `a` vs `b` are objective labels (vttwins.objectives)."""

    id: str
    statement: str
    where: str  # "docs/method.md §N" or "not stated in docs/method.md"
    a: str
    b: str
    metric: str
    direction: int = +1  # +1: the paper expects a > b
    kind: str = "objectives"  # objectives | skip | stability
    evidence: str = "ablation_runs (table = tuned), figure ablation_tuned"


_NS = "not stated in docs/method.md"
_R10, _CT = "yc2_t2v_R@10", "crosstask_recall"
CLAIMS: tuple[Claim, ...] = (
    Claim(
        "beats_milnce_retrieval",
        "S2DTW pretraining beats MIL-NCE on text-video retrieval",
        _NS + " (§1 motivates S2DTW, §6 defines MIL-NCE)",
        "S2DTW",
        "MIL-NCE",
        _R10,
    ),
    Claim(
        "beats_milnce_steps",
        "S2DTW pretraining beats MIL-NCE on step localization",
        _NS + " (§1, §6)",
        "S2DTW",
        "MIL-NCE",
        _CT,
    ),
    Claim(
        "beats_clipnce_retrieval",
        "S2DTW beats clip-level InfoNCE on retrieval",
        _NS + " (§6 defines it)",
        "S2DTW",
        "clip InfoNCE",
        _R10,
    ),
    Claim(
        "beats_clipnce_steps",
        "S2DTW beats clip-level InfoNCE on step localization",
        _NS + " (§6)",
        "S2DTW",
        "clip InfoNCE",
        _CT,
    ),
    Claim(
        "smoothing_helps_retrieval",
        "local neighbourhood smoothing helps (S2DTW vs its weak-only ablation)",
        _NS + " (§3.2 defines it)",
        "S2DTW",
        "soft-DTW + weak alignment",
        _R10,
    ),
    Claim(
        "smoothing_helps_steps",
        "local neighbourhood smoothing helps (S2DTW vs its weak-only ablation)",
        _NS + " (§3.2)",
        "S2DTW",
        "soft-DTW + weak alignment",
        _CT,
    ),
    Claim(
        "weak_helps_s2dtw_retrieval",
        "the weak-alignment lattice helps (S2DTW vs its smooth-only ablation)",
        "docs/method.md §1, §3.3",
        "S2DTW",
        "soft-DTW + smoothing",
        _R10,
    ),
    Claim(
        "weak_helps_s2dtw_steps",
        "the weak-alignment lattice helps (S2DTW vs its smooth-only ablation)",
        "docs/method.md §1, §3.3",
        "S2DTW",
        "soft-DTW + smoothing",
        _CT,
    ),
    Claim(
        "weak_helps_softdtw_retrieval",
        "the weak-alignment lattice helps (soft-DTW + weak vs soft-DTW)",
        "docs/method.md §1, §3.3",
        "soft-DTW + weak alignment",
        "soft-DTW",
        _R10,
    ),
    Claim(
        "weak_helps_softdtw_steps",
        "the weak-alignment lattice helps (soft-DTW + weak vs soft-DTW)",
        "docs/method.md §1, §3.3",
        "soft-DTW + weak alignment",
        "soft-DTW",
        _CT,
    ),
    Claim(
        "tda_helps_retrieval",
        "temporal data augmentation helps (S2DTW + TDA vs S2DTW)",
        _NS + " (§5 defines TDA, off in the released loss)",
        "S2DTW + TDA",
        "S2DTW",
        _R10,
    ),
    Claim(
        "tda_helps_steps",
        "temporal data augmentation helps (S2DTW + TDA vs S2DTW)",
        _NS + " (§5)",
        "S2DTW + TDA",
        "S2DTW",
        _CT,
    ),
    Claim(
        "skips_captions",
        "the learned alignment skips irrelevant captions (skip recall, trained vs untrained)",
        "docs/method.md §3.3",
        "S2DTW",
        "untrained",
        "skip_caption_recall",
        kind="skip",
        evidence="ablation_runs (tuned) vs ablation_truth_reference (untrained); alignment_truth",
    ),
    Claim(
        "skips_clips",
        "the learned alignment skips clips nobody talks about (skip recall, trained vs untrained)",
        "docs/method.md §3.3",
        "S2DTW",
        "untrained",
        "skip_clip_recall",
        kind="skip",
        evidence="ablation_runs (tuned) vs ablation_truth_reference (untrained); alignment_truth",
    ),
    Claim(
        "stable_released",
        "S2DTW trains stably at the released settings (lr 1e-3, tau 0.5, temperature 1)",
        _NS + " (§7 lists the settings; §10 reports the collapse)",
        "S2DTW",
        "log-B plateau",
        "plateau",
        direction=-1,
        kind="stability",
        evidence="collapse_runs / collapse_phase (notebook 10), figure collapse_phase",
    ),
)
COLUMNS = (
    "claim",
    "statement",
    "where",
    "comparison",
    "metric",
    "direction",
    "world",
    "diff",
    "low",
    "high",
    "p",
    "p_holm",
    "n_seeds",
    "n_items",
    "resampled",
    "source",
    "verdict",
    "provisional",
    "note",
)


def _read(results: Path, name: str) -> pd.DataFrame | None:
    for suffix in (".csv", ".csv.gz"):  # per-item scores are gzipped (results.write_items)
        path = results / "tables" / f"{name}{suffix}"
        if path.is_file():
            return pd.read_csv(path)
    return None


def _headline(runs: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    for table in ("tuned", "defaults"):
        if "table" in runs and (runs["table"] == table).any():
            return runs[runs["table"] == table], table
    return runs, "all"


def _objective_rows(claim: Claim, runs: pd.DataFrame, items, label: str) -> list[dict]:
    rows = []
    for world, g in runs.groupby("world", sort=True):
        a, b = g[g["loss"] == claim.a], g[g["loss"] == claim.b]
        eff = effects.compare(a, b, claim.metric, items) if len(a) and len(b) else None
        if eff is not None:
            rows.append({"world": world, **eff, "source": f"02 {label} (ablation_runs.csv), {eff['resampled']}"})
    return rows


def _skip_rows(claim: Claim, runs: pd.DataFrame, reference: pd.DataFrame | None, label: str) -> list[dict]:
    if reference is None:
        return []
    rows = []
    for world, g in runs[runs["loss"] == claim.a].groupby("world", sort=True):
        ref = reference[(reference["world"] == world) & (reference["loss"] == "untrained")]
        x = g[claim.metric].to_numpy(float)
        if ref.empty or not np.isfinite(x).all():
            continue
        eff = paired_difference(x, np.full_like(x, float(ref[claim.metric].iloc[0])))
        note = "no run skips anything (recall 0 on every seed)" if np.all(x == 0) else ""
        rows.append(
            {
                "world": world,
                **effects.effect_row(eff, "seeds"),
                "note": note,
                "source": f"02 {label} (ablation_runs.csv) minus untrained (ablation_truth_reference.csv), seeds",
            }
        )
    return rows


def _stability_rows(claim: Claim, collapse: pd.DataFrame | None) -> list[dict]:
    if collapse is None:
        return []
    sel = collapse[
        (collapse["loss"] == claim.a)
        & np.isclose(collapse["lr"].astype(float), 1e-3)
        & np.isclose(collapse["tau"].astype(float), 0.5)
        & np.isclose(collapse["temperature"].astype(float), 1.0)
    ]
    if sel.empty:
        return []
    x = sel["plateau"].astype(str).str.lower().eq("true").to_numpy(float)
    low, high = mean_interval(x)
    return [
        {
            "world": "default (10)",
            "diff": 100 * x.mean(),
            "low": 100 * low,
            "high": 100 * high,
            "p": np.nan,
            "n_seeds": len(x),
            "n_items": 0,
            "resampled": "seeds",
            "unresolved": not low > 0,
            "effect": f"{100 * x.mean():.0f} % of seeds at log B [{100 * low:.0f}, {100 * high:.0f}]",
            "source": "10 (collapse_runs.csv, lr 1e-3, tau 0.5, T 1), seeds",
        }
    ]


def claims_table(results: str | os.PathLike = "results") -> pd.DataFrame:
    """One row per claim x world (COLUMNS), Holm-adjusted over every comparison with a p-value, with verdicts."""
    results = Path(results)
    runs = _read(results, "ablation_runs")
    if runs is None:
        raise FileNotFoundError(f"{results / 'tables' / 'ablation_runs.csv'} is missing: run notebook 02 first")
    runs, label = _headline(runs)
    items, reference, collapse = (
        _read(results, "ablation_items"),
        _read(results, "ablation_truth_reference"),
        _read(results, "collapse_runs"),
    )
    rows = []
    for c in CLAIMS:
        if c.kind == "objectives":
            found = _objective_rows(c, runs, items, label)
        elif c.kind == "skip":
            found = _skip_rows(c, runs, reference, label)
        else:
            found = _stability_rows(c, collapse)
        base = {
            "claim": c.id,
            "statement": c.statement,
            "where": c.where,
            "comparison": f"{c.a} vs {c.b}",
            "metric": c.metric,
            "direction": "higher" if c.direction > 0 else "lower",
        }
        missing = {**base, "world": "", "verdict": "not measured", "provisional": False, "note": "its table is missing"}
        rows += [{**base, "note": "", **r} for r in found] or [missing]
    table = pd.DataFrame(rows)
    has_p = table["p"].notna() if "p" in table else pd.Series(False, index=table.index)
    table["p_holm"] = np.nan
    if has_p.any():
        table.loc[has_p, "p_holm"] = holm(table.loc[has_p, "p"].to_numpy(float))
    return _with_verdicts(table)


def _world_sign(r, direction: int) -> int:
    """+1 resolved in the paper's direction, -1 resolved against it, 0 unresolved (interval or Holm)."""
    if r.get("unresolved", True) or (not pd.isna(r["p_holm"]) and r["p_holm"] >= ALPHA):
        return 0
    return int(np.sign(r["diff"])) * direction


def _verdict(g: pd.DataFrame, claim: Claim) -> tuple[str, str]:
    if claim.kind == "stability":
        r = g.iloc[0]
        if r["low"] > 0:
            return "contradicted", "seeds collapse to the log-B plateau at the released settings"
        if r["high"] == 0 and r["n_seeds"] >= MIN_SEEDS:
            return "supported", ""
        return "unresolved", ""
    signs = [_world_sign(r, claim.direction) for r in g.to_dict("records")]
    if all(s == 1 for s in signs):
        return "supported", ""
    if all(s == -1 for s in signs):
        return "contradicted", ""
    names = {1: "supported", -1: "contradicted", 0: "unresolved"}
    mixed = len(set(signs)) > 1
    return "unresolved", ("mixed: " + ", ".join(f"{w} {names[s]}" for w, s in zip(g["world"], signs))) if mixed else ""


def _with_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    by_id = {c.id: c for c in CLAIMS}
    out = []
    for cid, g in table.groupby("claim", sort=False):
        g = g.copy()
        if g["world"].eq("").all():
            out.append(g)
            continue
        verdict, note = _verdict(g, by_id[cid])
        strength = []
        if g["n_seeds"].min() < MIN_SEEDS:
            strength.append(f"n={int(g['n_seeds'].min())} < {MIN_SEEDS}: provisional")
        if (g["resampled"] == "seeds").any():
            strength.append("seeds only")
        g["verdict"] = verdict
        g["provisional"] = bool(strength)
        g["note"] = ["; ".join(x for x in (n, note, ", ".join(strength)) if x) for n in g["note"]]
        out.append(g)
    return pd.concat(out, ignore_index=True).reindex(columns=list(COLUMNS) + ["effect"])


HEADER = """# Claims of the paper and what this companion measured

Generated by `python -m vttwins claims` (`vttwins/companion/experiments/claims.py`) from the tables in `results/tables/`; do
not edit by hand. The long form, one row per claim and world, is [`tables/claims.csv`](tables/claims.csv).

**Effect**: objective A minus objective B (percentage points), the mean over the training seeds both share, with
its 95 % paired-bootstrap interval (`vttwins.companion.stats.paired_difference`): seeds, and the test items
(YouCook2 queries, CrossTask videos) when per-item scores exist; the `source` says which were resampled.
`p_H` is the Holm-adjusted two-sided p over every comparison in this file.

**Verdict** (every world the claim is measured on counts):
*supported* = on every world the interval excludes 0 in the paper's direction and p_H < 0.05;
*contradicted* = on every world the interval excludes 0 in the opposite direction and p_H < 0.05;
*unresolved* = anything else (`mixed` in the note when the worlds disagree).
Stability: *contradicted* when the share of seeds stuck at the log-B plateau has an interval above 0, *supported*
when no seed of at least 5 plateaus. A verdict from fewer than 5 seeds, or from seeds only, is **provisional**.
"""


def _cell(r) -> str:
    if r["world"] == "":
        return "–"
    eff = r["effect"] if isinstance(r["effect"], str) else ""
    p = "" if pd.isna(r["p_holm"]) else f", p_H={r['p_holm']:.3f}"
    return f"{r['world']}: {eff} (n={int(r['n_seeds'])}{p})"


def claims_markdown(
    table: pd.DataFrame, tda: pd.DataFrame | None = None, convergence: pd.DataFrame | None = None
) -> str:
    """CLAIMS.md: the header, one row per claim (its worlds in one cell), then the convergence check."""
    head = (
        "| claim | the paper says | where | A vs B | metric | expected | effect per world | verdict | evidence | note |"
    )
    lines = [HEADER, head, "|" + "---|" * 10]
    by_id = {c.id: c for c in CLAIMS}
    for cid, g in table.groupby("claim", sort=False):
        r, c = g.iloc[0], by_id[cid]
        note = "; ".join(dict.fromkeys(n for n in g["note"].fillna("") if n))
        if cid.startswith("tda_") and tda is not None and (tda["setting"] == "released").any():
            share = 100 * tda.loc[tda["setting"] == "released", "share"].max()
            note += (
                f"{'; ' if note else ''}at the released sharpness 50 TDA keeps the identity: at most "
                f"{share:.1f} % of sequences draw another permutation (tables/tda_permutations.md), so this "
                f"row tests a near no-op; `s2dtw_tda_strong` (sharpness 10) is the variant that permutes"
            )
        expected = f"A {'>' if c.direction > 0 else '<'} B" if c.kind != "stability" else "no seed at log B"
        lines.append(
            f"| `{cid}` | {c.statement} | {c.where} | {r['comparison']} | {r['metric']} | {expected} | "
            + "<br>".join(_cell(x) for x in g.to_dict("records"))
            + f" | **{r['verdict']}**{' (provisional)' if r['provisional'] else ''} | {c.evidence}; "
            f"{'; '.join(dict.fromkeys(g['source'].dropna()))} | {note} |"
        )
    return "\n".join(lines) + "\n" + (convergence_markdown(convergence) if convergence is not None else "")


def convergence_markdown(order: pd.DataFrame) -> str:
    """Whether the orderings behind the claims hold at the longest training length (`ablation_convergence_order`):
    every pair whose paired difference at the longest length excludes 0 with the other sign than at 1x, or whose
    sign changed at all, is listed; the verdicts above come from the default length."""
    flips = order[~order["agrees"].astype(bool)]
    short, long = int(order["steps_short"].max()), int(order["steps_long"].max())
    text = (
        f"\n## Do the orderings hold with more training?\n\nThe verdicts above are measured at {short} steps. "
        f"`tables/ablation_convergence_order.md` trains the headline objectives (at their tuned settings, on "
        f"the first world's **validation** split) for up to {long} steps. "
    )
    if flips.empty:
        return text + f"Every pairwise ordering at {short} steps has the same sign at {long}.\n"
    rows = [
        "| A vs B | metric | A - B at {s} steps | A - B at {l} steps [95 % interval] | raw p | resolved |".format(
            s=short, l=long
        ),
        "|---|---|---|---|---|---|",
    ]
    for r in flips.to_dict("records"):
        rows.append(
            f"| {r['loss_a']} vs {r['loss_b']} ({r['world']}) | {r['metric']} | {r['diff_short']:+.1f} | "
            f"{r['diff_long']:+.1f} [{r['low_long']:+.1f}, {r['high_long']:+.1f}] | "
            f"{'< 0.01' if r['p_long'] < 0.01 else format(r['p_long'], '.2f')} | "
            f"{'yes' if r.get('resolved_long') else 'no'} |"
        )
    return (
        text + f"**{len(flips)} of {len(order)} orderings change sign between {short} and {long} steps** "
        "(no multiple-comparison correction; validation split, one world): the 150-step verdicts are about "
        "short training, not about converged models.\n\n" + "\n".join(rows) + "\n"
    )


def write_claims(results: str | os.PathLike = "results") -> tuple[Path, Path]:
    """Write `results/CLAIMS.md` and `results/tables/claims.{csv,md}` from the tables in `results`."""
    results = Path(results)
    table = claims_table(results)
    tda = _read(results, "tda_permutations")
    csv, _ = write_table(
        table.drop(columns=["effect"]),
        "claims",
        results / "tables",
        sort_by=[],
        float_format="%.3f",
        description="the paper's claims, the paired effects per world and the verdicts (results/CLAIMS.md)",
    )
    md = atomic_write_text(
        results / "CLAIMS.md", claims_markdown(table, tda, _read(results, "ablation_convergence_order"))
    )
    log.info("wrote %s", md)
    return md, csv


def cli_main(argv: list[str] | None = None) -> int:
    """`python -m vttwins claims [--results results] [--tda]`."""
    parser = argparse.ArgumentParser(prog="python -m vttwins claims", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default="results", help="results folder holding tables/ (default: results)")
    parser.add_argument("--no-tda", action="store_true", help="do not (re)measure tables/tda_permutations")
    args = parser.parse_args(argv)
    if not (Path(args.results) / "tables").is_dir():
        raise FileNotFoundError(f"--results {args.results}: no tables/ folder there")
    if not args.no_tda:
        from .tda import write_tda_table  # deferred: torch

        write_tda_table(Path(args.results) / "tables")
    write_claims(args.results)
    return 0


def summary_markdown(table: pd.DataFrame) -> str:
    """The README's compact form of claims.csv: claim, A vs B, metric, effect per world, verdict."""
    lines = [
        "| claim | A vs B | metric | effect per world (95 % interval, n seeds) | verdict |",
        "|---|---|---|---|---|",
    ]
    for cid, g in table.groupby("claim", sort=False):
        r = g.iloc[0]
        unit = " % of seeds at log B" if r["metric"] == "plateau" else ""
        cells = [
            f"{x['world']}: {x['diff']:+.1f}{unit} [{x['low']:+.1f}, {x['high']:+.1f}] (n={int(x['n_seeds'])})"
            for x in g.to_dict("records")
            if isinstance(x["world"], str) and x["world"]
        ]
        prov = " (provisional)" if bool(g["provisional"].fillna(False).any()) else ""
        lines.append(
            f"| `{cid}` | {r['comparison']} | {r['metric']} | {'<br>'.join(cells) or '–'} | **{r['verdict']}**{prov} |"
        )
    return "\n".join(lines) + "\n"
