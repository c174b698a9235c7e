"""Running a registered analysis (:data:`gis.analysis.ANALYSES`) by its name with the text
parameters a command line or a web request brings: the area (sector, census zone or
polygon), the version or date, and the analysis's own options, checked and converted to
the types of the analysis function's keyword arguments. New analyses added to the
registry are offered by the CLI and the API without any change here.

Examples
--------
>>> tabla = run_analysis(settings, "cumplimiento_resumen", area=choose_area(sector="S-01"),
...                      options={"por": "sector"})                     # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

from gis.analysis import ANALYSES, Analysis
from gis.analysis.common import AnalysisInputError, AreaInput, Connectable
from gis.errors import NotFoundError

YES = {"si", "sí", "s", "true", "1", "yes", "verdadero"}
NO = {"no", "n", "false", "0", "falso"}
GEOCODIGO = re.compile(r"^\d{11}$")


class UnknownAnalysisError(NotFoundError):
    """A name that is not in the registry."""

    def __init__(self, name: str) -> None:
        super().__init__(f"No existe el análisis «{name[:60]}».",
                         hint=f"Análisis disponibles: {', '.join(ANALYSES)}.")


def get_analysis(name: str) -> Analysis:
    """The registered analysis ``name``; :class:`UnknownAnalysisError` listing the valid
    names otherwise."""
    try:
        return ANALYSES[name]
    except KeyError:
        raise UnknownAnalysisError(name) from None


def analysis_catalog() -> list[dict[str, Any]]:
    """Every registered analysis as JSON-friendly data: ``nombre``, ``titulo``,
    ``descripcion``, ``capa_versionada`` (what ``version`` / ``fecha`` choose, or None),
    ``opciones`` (option → Spanish description) and ``geometria``."""
    return [{"nombre": a.name, "titulo": a.title, "descripcion": a.description,
             "capa_versionada": a.capa_versionada, "opciones": dict(a.opciones),
             "geometria": a.geometria} for a in ANALYSES.values()]


def choose_area(*, sector: str | None = None, zona_censal: str | None = None,
                poligono: AreaInput | None = None) -> AreaInput | None:
    """The ``area`` of an analysis from at most one of a planning sector (code or name),
    a census zone (11-digit geocódigo) or a polygon; None (the whole comuna) without any.
    """
    given = [n for n, v in (("sector", sector), ("zona censal", zona_censal),
                            ("polígono", poligono)) if v is not None]
    if len(given) > 1:
        raise AnalysisInputError(f"Indique una sola área; llegaron {' y '.join(given)}.",
                                 hint="Use un sector, una zona censal o un polígono.")
    if zona_censal is not None:
        code = zona_censal.strip()
        if not GEOCODIGO.match(code):
            raise AnalysisInputError(
                f"«{code[:40]}» no es un geocódigo de zona censal.",
                hint="El geocódigo tiene 11 dígitos (comuna, distrito, área y zona), "
                "p. ej. 05601011001.")
        return code
    if sector is not None:
        code = sector.strip()
        if not code or GEOCODIGO.match(code):
            raise AnalysisInputError(
                f"«{code[:40]}» no es un sector de planificación.",
                hint="Indique el código (p. ej. S-01) o el nombre del sector; para una "
                "zona censal use zona_censal.")
        return code
    return poligono


def parse_options(analysis: Analysis, raw: Mapping[str, str]) -> dict[str, Any]:
    """The analysis's options (:attr:`Analysis.opciones`) from text, converted to the type
    of the function's default for each (yes/no, integer, number, comma-separated list or
    text). An option the analysis does not take is refused, naming the valid ones."""
    params = inspect.signature(analysis.function).parameters
    out: dict[str, Any] = {}
    for key, text in raw.items():
        if key not in analysis.opciones:
            valid = (", ".join(f"{k} ({v})" for k, v in analysis.opciones.items())
                     or "ninguna")
            raise AnalysisInputError(
                f"El análisis «{analysis.name}» no tiene la opción «{key[:40]}».",
                hint=f"Opciones de este análisis: {valid}.")
        default = params[key].default if key in params else None
        out[key] = _convert(analysis, key, str(text), default)
    return out


def _convert(analysis: Analysis, key: str, text: str, default: Any) -> Any:
    value = text.strip()
    where = f"La opción «{key}» del análisis «{analysis.name}»"
    if isinstance(default, bool):
        if value.lower() in YES:
            return True
        if value.lower() in NO:
            return False
        raise AnalysisInputError(f"{where} debe ser sí o no; llegó «{value[:40]}».")
    if isinstance(default, int | float):
        try:
            return type(default)(value)
        except ValueError:
            raise AnalysisInputError(f"{where} debe ser un número; llegó «{value[:40]}».",
                                     hint=analysis.opciones.get(key)) from None
    if isinstance(default, tuple | list):
        items = tuple(v.strip() for v in value.split(",") if v.strip())
        if not items:
            raise AnalysisInputError(f"{where} está vacía.", hint=analysis.opciones.get(key))
        return items
    return value


def run_analysis(source: Connectable, name: str, *, area: AreaInput | None = None,
                 version: int | None = None, fecha: date | datetime | str | None = None,
                 options: Mapping[str, str] | None = None, geometria: bool = True
                 ) -> pd.DataFrame:
    """Run the registered analysis ``name`` on ``area`` with ``version`` or ``fecha`` (of
    its versioned layer) and its text ``options``; ``geometria`` is passed to the
    analyses that can return geometries.

    Raises :class:`UnknownAnalysisError` (404) for an unknown name and
    :class:`~gis.analysis.common.AnalysisInputError` (400) for parameters it cannot use;
    the analysis raises its own errors (unknown area, version...)."""
    analysis = get_analysis(name)
    kwargs = parse_options(analysis, options or {})
    if analysis.capa_versionada is None and (version is not None or fecha is not None):
        raise AnalysisInputError(f"El análisis «{name}» no usa versiones ni fechas.",
                                 hint="Quite la versión o la fecha.")
    if analysis.geometria:
        kwargs["geometria"] = geometria
    return analysis.function(source, area=area, version=version, fecha=fecha, **kwargs)


__all__ = ["UnknownAnalysisError", "analysis_catalog", "choose_area", "get_analysis",
           "parse_options", "run_analysis"]
