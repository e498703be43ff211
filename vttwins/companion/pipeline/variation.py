"""How much do the tables move when nothing but the machine's choices change? Writes `results/REPRODUCIBILITY.md`.

    python -m vttwins reproduce --variation --profile smoke --only 00_data 01_pretrain 03_retrieval_youcook2
    python -m vttwins reproduce --variation                   # every notebook, default profile (about 4x reproduce)

The chosen notebooks run four times, each into its own `runs/variation-<profile>/<variant>/` (results and run cache
apart, so nothing is reused between variants): `a` and `b` identical (two runs on one machine), `threads1` with one
BLAS/OpenMP thread instead of two, `workers2` with two data-loader processes. Each table of a variant is compared
with `a` by `vttwins.companion.pipeline.check` (bit-identical csv, within the spread the table measured, or outside).

    python -m vttwins reproduce --variation --only 01_pretrain 02_ablation_dtw_variants --variants threads1 \
        --variant-results a=results                  # reuse results/ as run `a`, run only `threads1`

`REPRODUCIBILITY.md` holds one part per set of notebooks; a study adds its part or replaces the part of the same
notebooks and keeps the others, so the expensive notebooks can be studied on their own.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import yaml

from vttwins.companion import results as _results
from vttwins.paths import DEFAULT_RESULTS_DIR, REPO_ROOT, RUNS_DIR, profile_name, profile_path
from vttwins.companion.pipeline import check
from vttwins.companion.pipeline.context import results_root
from vttwins.companion.pipeline.runner import chosen_notebooks, kernel_environment, run_pipeline

log = logging.getLogger(__name__)
RUNS_ENV = "VTTWINS_RUNS"
# variant -> (environment of its kernels, config changes); every variant differs from `a` in one thing only
VARIANTS = {
    "a": ({"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}, {}),
    "b": ({"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}, {}),
    "threads1": ({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}, {}),
    "workers2": ({"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}, {"num_workers": 2}),
}
COMPARISONS = [
    ("two runs on one machine", "b"),
    ("threads 1 vs 2", "threads1"),
    ("data loader num_workers 2 vs 0", "workers2"),
]


def variant_profile(profile: str, data_changes: dict, folder: Path) -> Path:
    """The profile file with `data.<key>` changes, saved under the same stem (so its name, runs and data match)."""
    source = profile_path(profile)
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    config.setdefault("data", {}).update(data_changes)
    return _results.atomic_write_text(folder / source.name, yaml.safe_dump(config, sort_keys=False))


def input_tables(profile: str, only: Sequence[str] | None) -> dict[str, list[str]]:
    """{notebook left out of `only`: its tables present in the profile's results} (`results/` for the default
    profile); empty without `only`."""
    if not only:
        return {}
    source = results_root(profile) / "tables"
    found = {
        nb.name: [t.name for t in nb.tables if (source / f"{t.name}.csv").is_file()]
        for nb in chosen_notebooks(None)
        if nb.name not in only
    }
    return {name: tables for name, tables in found.items() if tables}


def copy_inputs(profile: str, only: Sequence[str] | None, results: Path) -> list[str]:
    """Copy the tables of the notebooks left out of `only` from the profile's results into a variant's results
    folder, replacing older copies: a notebook that reads an earlier notebook's table (03-06 read 02's
    `ablation_tuning`) then reads in every variant what it reads in the reproduction. Returns those notebooks."""
    inputs = input_tables(profile, only)
    source, dest = results_root(profile) / "tables", results / "tables"
    for name in (t for tables in inputs.values() for t in tables):
        dest.mkdir(parents=True, exist_ok=True)
        for suffix in (".csv", ".md", ".meta.json"):
            if (source / f"{name}{suffix}").is_file():
                shutil.copyfile(source / f"{name}{suffix}", dest / f"{name}{suffix}")
    return list(inputs)


def run_variant(profile: str, variant: str, only: Sequence[str] | None, timeout_s: int | None) -> Path:
    folder = RUNS_DIR / f"variation-{profile_name(profile)}" / variant
    env, data_changes = VARIANTS[variant]
    copied = copy_inputs(profile, only, folder / "results")
    if copied:
        log.info("variant %s reads the tables of %s from %s", variant, ", ".join(copied), results_root(profile))
    yaml_path = variant_profile(profile, data_changes, folder)
    with kernel_environment(**env, **{RUNS_ENV: str(folder / "runs")}):
        run_pipeline(str(yaml_path), folder / "results", only=only, timeout_s=timeout_s, write_readme=False)
    return folder / "results"


def _bit_identical(a: Path, b: Path, name: str) -> bool:
    x, y = a / "tables" / f"{name}.csv", b / "tables" / f"{name}.csv"
    return x.is_file() and y.is_file() and x.read_bytes() == y.read_bytes()


TITLE = "# Reproducibility: how far the tables move when only the machine's choices change"
PART = "<!-- variation part: {key} -->"
NOT_RUN = "not run for these notebooks"


def report(
    profile: str,
    notebooks: Sequence[str],
    dirs: dict[str, Path],
    names: Sequence[str],
    given: dict[str, str] | None = None,
    flags: str = "",
    inputs: Sequence[str] = (),
    inputs_from: str = "results",
) -> str:
    """One part of REPRODUCIBILITY.md: each comparison of `COMPARISONS` whose variant is in `dirs` (others are
    listed as not run). `given`: variant -> where its tables came from, for folders compared as they are;
    `flags`: the command's `--variants`/`--variant-results`, quoted in the part; `inputs`: the notebooks whose
    tables the variants run here read from `inputs_from` (`copy_inputs`)."""
    given = given or {}
    key = " ".join(notebooks)
    command = f"python -m vttwins reproduce --variation --profile {profile_name(profile)} --only {key}{flags}"
    lines = [
        PART.format(key=key),
        f"## Notebooks {', '.join(notebooks)}",
        "",
        f"Generated by `{command}` at revision `{_results.git_revision()}`. Profile **{profile_name(profile)}**"
        + (
            " (a small CPU profile, not the committed default results: run the command with "
            "`--profile default` and no `--only` for the full study)"
            if profile_name(profile) != "default"
            else ""
        )
        + f"; notebooks: {', '.join(notebooks)}.",
        "",
    ]
    lines += [f"- `{v}`: {src}" for v, src in given.items()] + ([""] if given else [])
    if inputs:
        lines += [
            f"The variants run here read the tables of {', '.join(inputs)} (not part of this study) from "
            f"`{inputs_from}`, as a reproduction does (03-06 train at the settings in 02's `ablation_tuning`).",
            "",
        ]
    lines += [
        "Each variant differs from run `a` (2 threads, `data.num_workers` 0) in one thing and has its own run "
        "cache. Tolerances as in `reproduce --check`: 2·std·sqrt(2/n) for a mean over n seeds, "
        "2·std/sqrt(n-1) for its std, exact for chance rows and counts, the printed precision for single-run "
        "values.",
        "",
    ]
    for title, variant in COMPARISONS:
        if variant not in dirs:
            lines += [f"### {title}", "", f"{NOT_RUN} (`--variants` left `{variant}` out).", ""]
            continue
        checks = check.check_tables(dirs[variant], dirs["a"], names)
        lines += [
            f"### {title}",
            "",
            "| table | result | largest deviation | where | tolerance there |",
            "|---|---|---|---|---|",
        ]
        for c in checks:
            status = "bit-identical" if _bit_identical(dirs["a"], dirs[variant], c.table) else c.status
            lines.append(f"| {c.table} | {status} | {c.deviation:.4g} | {c.where} | {c.tolerance:.4g} |")
        lines.append("")
    return "\n".join(lines)


def split_parts(text: str) -> dict[str, str]:
    """{notebooks key: part text} of a REPRODUCIBILITY.md; a file written before parts existed (one report, `#`
    title and `##` comparisons) becomes one part, its headings one level down."""
    if not text.strip():
        return {}
    if PART.split("{")[0] not in text:
        head, _, _ = text.partition("\n\n")
        key = text.split("--only ", 1)[1].split("`", 1)[0].strip() if "--only " in text else "all"
        body = text[len(head) :].strip("\n").replace("\n## ", "\n### ")
        return {key: "\n".join([PART.format(key=key), f"## Notebooks {', '.join(key.split())}", "", body, ""])}
    parts = {}
    for chunk in text.split(PART.split("{")[0])[1:]:
        key = chunk.split(" -->", 1)[0].strip()
        parts[key] = (PART.format(key=key) + chunk.split(" -->", 1)[1]).rstrip("\n") + "\n"
    return parts


def merge_report(existing: str, part: str, order: Sequence[str]) -> str:
    """REPRODUCIBILITY.md with `part` added or replacing the part of the same notebooks; parts in notebook order
    (`order`: every notebook name in pipeline order)."""
    parts = split_parts(existing)
    new = split_parts(part)
    parts.update(new)
    rank = {name: i for i, name in enumerate(order)}
    keys = sorted(parts, key=lambda k: min((rank.get(n, len(rank)) for n in k.split()), default=len(rank)))
    intro = (
        "Each part below ran its notebooks in several variants that differ only in what the machine chooses "
        "(a second run, BLAS threads, data-loader workers) and compares every table with run `a`."
    )
    return "\n".join([TITLE, "", intro, ""] + [parts[k].rstrip("\n") + "\n" for k in keys])


def run_variation_study(
    profile: str = "default",
    only: Sequence[str] | None = None,
    *,
    timeout_s: int | None = None,
    out: str | os.PathLike | None = None,
    variants: Sequence[str] | None = None,
    given: dict[str, str] | None = None,
) -> int:
    """Run the variants (all of `VARIANTS`, or `a` + `variants`), then add their part to REPRODUCIBILITY.md
    (default `results/REPRODUCIBILITY.md`; the parts of other notebooks stay). `given`: variant -> a results
    folder (or `git:<rev>`) compared as it is instead of running that variant."""
    chosen = chosen_notebooks(only)
    wanted = ["a", *[v for v in (variants or VARIANTS) if v != "a"]]
    given = dict(given or {})
    unknown = sorted(set(wanted) - set(VARIANTS)) + sorted(set(given) - set(VARIANTS))
    if unknown:
        raise ValueError(f"variants {unknown} are not known; choose from {sorted(VARIANTS)}")
    with tempfile.TemporaryDirectory(prefix="vttwins-variation-") as scratch:
        dirs = {}
        for variant in dict.fromkeys([*wanted, *given]):
            if variant in given:
                dirs[variant] = check.resolve_reference(given[variant], Path(scratch) / variant)
            else:
                dirs[variant] = run_variant(profile, variant, only, timeout_s)
        names = [t.name for nb in chosen for t in nb.tables]
        sources = {v: f"tables compared as they are from `{given[v]}` (not run by this command)" for v in given}
        flags = (f" --variants {' '.join(variants)}" if variants else "") + (
            f" --variant-results {' '.join(f'{v}={d}' for v, d in given.items())}" if given else ""
        )
        ran = [v for v in dirs if v not in given]
        inputs = list(input_tables(profile, only)) if ran else []  # what run_variant copied
        source = results_root(profile)
        where = source.relative_to(REPO_ROOT) if source.is_relative_to(REPO_ROOT) else source
        part = report(profile, [nb.name for nb in chosen], dirs, names, sources, flags, inputs, str(where))
    path = Path(out) if out else DEFAULT_RESULTS_DIR / "REPRODUCIBILITY.md"
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    text = merge_report(existing, part, [nb.name for nb in chosen_notebooks(None)])
    _results.atomic_write_text(path, text)
    log.info("variation study written to %s", path)
    return 0
