"""Command line: `python -m vttwins <command> ...`.

    python -m vttwins data synth --out data/synth/smoke --profile smoke
    python -m vttwins train --config configs/default.yaml output_dir=runs/x
    python -m vttwins evaluate --run runs/x
    python -m vttwins reproduce --profile default
    python -m vttwins claims --results results

Each command lives next to the code it drives (a `cli_main(argv) -> int` function); this file dispatches and
reports user errors (`vttwins.errors.USER_ERRORS`: a bad config key, a missing or malformed file) as one line on
stderr with exit status 2. `--debug` anywhere (or VTTWINS_DEBUG=1) shows the traceback instead.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

from vttwins.errors import DEBUG_ENV, USER_ERRORS, debug_requested, report

COMMANDS = {
    ("data", "synth"): "vttwins.companion.synth",
    ("data", "check"): "vttwins.companion.evaluation.check",
    ("train",): "vttwins.companion.training",
    ("evaluate",): "vttwins.companion.evaluation",
    ("reproduce",): "vttwins.companion.pipeline",
    ("claims",): "vttwins.companion.experiments.claims",
}


def _usage() -> str:
    lines = ["usage: python -m vttwins <command> [options] [--debug]", "", "commands:"]
    lines += ["  " + " ".join(words) for words in COMMANDS]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    debug, argv = debug_requested(list(sys.argv[1:] if argv is None else argv))
    if debug:
        os.environ[DEBUG_ENV] = "1"  # the commands' own error handling (train) sees it too
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for words, module in COMMANDS.items():
        if tuple(argv[: len(words)]) == words:
            try:
                return int(importlib.import_module(module).cli_main(argv[len(words) :]) or 0)
            except USER_ERRORS as exc:
                if debug:
                    raise
                sys.stderr.write(report(exc) + "\n")
                return 2
    sys.stderr.write(_usage() + "\n")
    return 0 if argv[:1] in (["-h"], ["--help"]) else 2


if __name__ == "__main__":
    raise SystemExit(main())
