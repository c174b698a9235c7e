"""``python -m bench [NOMBRE ...] [--size N] [--rounds K]``: run the benchmarks (all by
default) on one throwaway PostGIS cluster, write ``bench/results/<name>.json`` each and
print a Spanish summary.

A benchmark is a module of this package with ``NAME``, ``DESCRIPTION``,
``run(db, size, rounds) -> dict`` and ``summary(result) -> list[str]`` (and
``SCALED = False`` when it runs on the demo data whatever ``--size``); add it to
:data:`BENCHMARKS`.
"""

from __future__ import annotations

import argparse
import sys
import time
from types import ModuleType

from bench import analysis, faults, hostile, ingest, load, portfolio, proposals, tiles
from bench.common import RESULTS_DIR, throwaway_database, write_result

BENCHMARKS: dict[str, ModuleType] = {m.NAME: m for m in (ingest, proposals, tiles,
                                                          portfolio, analysis, load,
                                                          faults, hostile)}
DEFAULT_SIZE = 1_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Mide la plataforma frente a sus metas.")
    parser.add_argument("names", nargs="*", metavar="NOMBRE",
                        help=f"pruebas a ejecutar (por omisión todas: {', '.join(BENCHMARKS)})")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE,
                        help="número de predios del catastro generado (por omisión 1.000.000)")
    parser.add_argument("--rounds", type=int, default=3, choices=(1, 2, 3),
                        help="rondas por prueba; se informa la mediana (por omisión 3)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"prueba desconocida: {', '.join(unknown)} "
                     f"(disponibles: {', '.join(BENCHMARKS)})")
    if args.size < 1:
        parser.error("--size debe ser positivo")
    selected = args.names or list(BENCHMARKS)

    failed = []
    print("Iniciando una base PostGIS desechable…", flush=True)
    with throwaway_database() as db:
        for name in selected:
            module = BENCHMARKS[name]
            size = f"{args.size:,}".replace(",", ".")
            scale = (f" ({size} predios, {args.rounds} ronda{'s' if args.rounds > 1 else ''})"
                     if getattr(module, "SCALED", True) else " (datos de demostración)")
            print(f"\n== {name}: {module.DESCRIPTION}{scale}", flush=True)
            start = time.perf_counter()
            result = module.run(db, size=args.size, rounds=args.rounds)
            path = write_result(name, result)
            for line in module.summary(result):
                print(f"  {line}")
            print(f"  Resultado en {path.relative_to(RESULTS_DIR.parent.parent)} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
            if not all(result.get("met", {}).values()):
                failed.append(name)
    if failed:
        print(f"\nNo cumplen sus metas: {', '.join(failed)}.")
        return 1
    print("\nTodas las pruebas cumplen sus metas.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
