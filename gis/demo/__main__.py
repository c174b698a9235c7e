"""Command line: ``python -m gis.demo [RAW_DIR] [--parcels N] [--seed S] [--only a,b]``."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from gis.demo import CONCERNS, generate


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, generate, and list the files written with their sizes."""
    parser = argparse.ArgumentParser(prog="python -m gis.demo",
                                     description="Genera los datos de demostración.")
    parser.add_argument("raw_dir", nargs="?", default="data/raw", type=Path)
    parser.add_argument("--parcels", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--only", default=None,
                        help=f"claves separadas por comas: {', '.join(CONCERNS)}")
    args = parser.parse_args(argv)
    log = logging.getLogger("gis.demo")
    log.setLevel(logging.INFO)
    log.addHandler(logging.StreamHandler())
    only = set(args.only.split(",")) if args.only else None
    start = time.perf_counter()
    files = generate(args.raw_dir, parcels=args.parcels, seed=args.seed, only=only)
    for path in files:
        print(f"{path.stat().st_size / 1e6:8.2f} MB  {path}")
    print(f"{len(files)} archivos en {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
