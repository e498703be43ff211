"""Command line: `python -m vttwins <command> ...`.

    python -m vttwins data synth --out data/synth/smoke --profile smoke
    python -m vttwins train --config configs/default.yaml output_dir=runs/x
    python -m vttwins evaluate --run runs/x
    python -m vttwins reproduce --profile default

Each command lives next to the code it drives (a `cli_main(argv) -> int` function); this file only dispatches.
"""
from __future__ import annotations

import importlib
import logging
import sys

COMMANDS = {
    ("data", "synth"): "vttwins.data.synth",
    ("data", "check"): "vttwins.evaluation.check",
    ("train",): "vttwins.training",
    ("evaluate",): "vttwins.evaluation",
    ("reproduce",): "vttwins.pipeline",
}


def _usage() -> str:
    lines = ["usage: python -m vttwins <command> [options]", "", "commands:"]
    lines += ["  " + " ".join(words) for words in COMMANDS]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for words, module in COMMANDS.items():
        if tuple(argv[: len(words)]) == words:
            return int(importlib.import_module(module).cli_main(argv[len(words):]) or 0)
    sys.stderr.write(_usage() + "\n")
    return 0 if argv[:1] in (["-h"], ["--help"]) else 2


if __name__ == "__main__":
    raise SystemExit(main())
