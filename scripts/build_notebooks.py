"""Write the analysts' notebooks (notebooks/*.ipynb) from the cell sources kept here.

The sources are in the "percent" format: a line ``# %%`` starts a code cell and
``# %% [markdown]`` a markdown cell (its lines written as ``# text``). The notebooks are
written without outputs and with stable cell ids, so that regenerating them changes only
what was edited. Run ``.venv/bin/python scripts/build_notebooks.py`` after editing a
source; ``--check`` fails if a notebook differs from its source (the notebooks may also be
edited in Jupyter: then this script is no longer their source).

The sources live in ``scripts/notebook_sources/`` (one ``.py`` file per notebook, valid
Python that ruff checks).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "scripts" / "notebook_sources"
NOTEBOOKS = ROOT / "notebooks"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def cells_of(text: str) -> list[tuple[str, str]]:
    """(kind, source) of each cell of a percent-format text."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
    out = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
        source = "\n".join(lines).strip("\n")
        if source:
            out.append((kind, source))
    return out


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook of one percent-format source file."""
    prefix = source.stem.split("_")[0]
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": KERNELSPEC,
                   "language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    for n, (kind, text) in enumerate(cells_of(source.read_text(encoding="utf-8")), start=1):
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = new(text)
        cell["id"] = f"nb{prefix}-{n:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare the notebooks with their sources")
    args = parser.parse_args()
    stale = []
    for source in sorted(SOURCES.glob("[0-9][0-9]_*.py")):
        target = NOTEBOOKS / f"{source.stem}.ipynb"
        text = nbformat.writes(build(source)) + "\n"
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target.name)
        else:
            target.parent.mkdir(exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"{target.relative_to(ROOT)}: {len(build(source).cells)} celdas")
    if stale:
        print("Cuadernos distintos de su fuente: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
