"""Benchmarks of the platform against its targets (``make bench`` or ``python -m bench``).

Each benchmark is a module of this package registered in :mod:`bench.__main__`; it runs
against a throwaway PostGIS cluster and writes one JSON file to ``bench/results/``.
"""
