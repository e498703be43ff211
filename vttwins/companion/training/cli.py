"""`python -m vttwins train --config configs/<profile>.yaml [key=value ...]`.

    python -m vttwins train --config configs/smoke.yaml output_dir=runs/smoke train.steps=20
    python -m vttwins train --config configs/default.yaml data_dir=data/synth/default train.resume=true
    torchrun --nproc_per_node=2 -m vttwins train --config configs/smoke.yaml output_dir=runs/ddp

`output_dir=DIR` sets the run directory, `data_dir=DIR` the data root (SynthHowTo is generated there when
missing); any other `section.key=value` overrides the profile. Exit status: 0 done, 2 bad config or missing
data, 128+signal when interrupted (a checkpoint was written; rerun with train.resume=true).
"""

from __future__ import annotations

import argparse
import logging
import sys
from vttwins.errors import USER_ERRORS, debug_requested, report, split_overrides

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vttwins train", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="default", help="profile name (configs/<name>.yaml) or a yaml path")
    p.add_argument("--resume", action="store_true", help="same as train.resume=true")
    p.add_argument(
        "--force",
        action="store_true",
        help="resume even though the config differs from the run's config.json (recorded)",
    )
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="key=value",
        help="e.g. train.steps=100 loss.name=mil_nce output_dir=runs/x data_dir=data/synth/x",
    )
    return p


def cli_main(argv: list[str] | None = None) -> int:
    from vttwins.companion.config import load_config  # deferred: torch
    from vttwins.companion.training.loop import TrainingInterrupted, fit  # deferred: torch

    debug, argv = debug_requested(list(sys.argv[1:] if argv is None else argv))
    argv, given = split_overrides(argv)
    args = _parser().parse_args(argv)
    overrides = given + list(args.overrides) + (["train.resume=true"] if args.resume else [])
    try:
        config = load_config(args.config, overrides)
        run_dir = fit(config, force_resume=args.force)
    except USER_ERRORS as exc:
        if debug:
            raise
        sys.stderr.write(report(exc) + "\n")
        return 2
    except TrainingInterrupted as exc:
        log.warning("%s", exc)
        return 128 + int(exc.signum)
    log.info("done: %s", run_dir)
    return 0
