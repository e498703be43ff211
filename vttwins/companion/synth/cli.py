"""`python -m vttwins data synth [--profile smoke|default] [--out DIR] [--noise clean|default|weak]
[--set key=value ...] [--workers N] [--force | --no-regenerate]`

`--set` takes config keys (`howto_videos=100`) and noise knobs (`noise.offset_std=8`), values parsed as YAML.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import yaml

from .config import NOISE_PRESETS, PROFILES
from .generate import ensure_synth, generate

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vttwins data synth", description="Generate SynthHowTo.")
    p.add_argument("--profile", default="default", choices=sorted(PROFILES))
    p.add_argument("--out", default=None, help="output folder (default data/synth/<profile>)")
    p.add_argument("--noise", default=None, choices=sorted(NOISE_PRESETS), help="noise preset")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument(
        "--force",
        action="store_true",
        help="regenerate even if meta.json matches (only a folder this generator wrote; see manifest.py)",
    )
    p.add_argument(
        "--no-regenerate",
        action="store_true",
        help="never replace an existing folder: a folder of other settings is an error",
    )
    return p


def build_config(profile: str, noise: str | None = None, overrides: list[str] = (), seed: int | None = None):
    config = PROFILES[profile]
    if noise is not None:
        config = config.with_noise(noise)
    top, knobs = {}, {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        (knobs if key.startswith("noise.") else top)[key.removeprefix("noise.")] = yaml.safe_load(value)
    if seed is not None:
        top["seed"] = seed
    config = config.replace(**top) if top else config
    return config.with_noise(**knobs) if knobs else config


def cli_main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    config = build_config(args.profile, args.noise, args.overrides, args.seed)
    out = args.out or f"data/synth/{args.profile}"
    t0 = time.perf_counter()
    if args.force:
        paths = generate(out, config, workers=args.workers)
    else:  # a folder made here is the user's (managed=False): ensure_synth never replaces it behind their back
        paths = ensure_synth(out, config, workers=args.workers, regenerate=not args.no_regenerate, managed=False)
    meta = json.loads(paths.meta.read_text())
    log.info("SynthHowTo ready in %s (%.1f s): %s", paths.root, time.perf_counter() - t0, json.dumps(meta["counts"]))
    return 0
