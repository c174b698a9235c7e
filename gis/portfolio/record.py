"""One project of the registry as entered by a planner (API, form, CLI or a portfolio
file), checked field by field with Spanish messages.

:func:`parse_project` turns a plain mapping (JSON values, or the text cells of a CSV or
Excel row) into a :class:`Project`, or raises :class:`ProjectInputError` listing every
problem at once (field and message). Warnings (an executed amount above the approved
one) do not block: they are returned with the project.

The fields are those of ``layers.projects`` (declared once there) except the summaries
derived from the funding (:data:`DERIVED_FIELDS`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry

from gis.errors import PlatformError
from gis.ingest.attributes import fold
from gis.portfolio.codes import CODE_HINT, code_problem
from layers.base import Field, FieldType
from layers.projects import FUNDING_CODES, LAYER, STAGES

DERIVED_FIELDS = ("fuentes", "monto_clp", "monto_ejecutado_clp", "anio")
"""Fields of the layer computed from the funding rows, never entered."""
INPUT_FIELDS: tuple[Field, ...] = tuple(f for f in LAYER.fields
                                        if f.name not in DERIVED_FIELDS)
AMOUNTS = ("solicitado", "aprobado", "comprometido", "ejecutado")
"""Amounts (CLP) of one funding row: requested, approved, committed, executed."""
MAX_AMOUNT = 10**15
"""A single amount above a thousand trillion pesos is a typing error."""
MAX_TEXT = 5_000
MAX_FUNDING_ROWS = 500


class ProjectInputError(PlatformError):
    """A project that cannot be saved as given; ``problems`` lists each field's problem."""

    http_status = 422

    def __init__(self, problems: list[dict[str, str]], *, where: str = "") -> None:
        self.problems = problems
        listed = "; ".join(f"{p['campo']}: {p['mensaje']}" for p in problems[:20])
        more = f" (y {len(problems) - 20} más)" if len(problems) > 20 else ""
        super().__init__(f"{where}El proyecto no se guardó: {listed}{more}.",
                         hint="Corrija los campos indicados y vuelva a enviarlo; no se "
                              "guardó ningún cambio.")


@dataclass
class Funding:
    """Amounts of one funding source in one year."""

    fuente: str
    anio: int
    solicitado: int = 0
    aprobado: int = 0
    comprometido: int = 0
    ejecutado: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"fuente": self.fuente, "anio": self.anio,
                **{a: getattr(self, a) for a in AMOUNTS}}


@dataclass
class Project:
    """A checked project: its layer attributes, funding rows and geometry (storage CRS)."""

    attributes: dict[str, Any]
    financiamiento: list[Funding] = field(default_factory=list)
    geometry: BaseGeometry | None = None
    warnings: list[str] = field(default_factory=list)
    note: str | None = None
    """Why the stage changed (kept in the stage history)."""

    @property
    def codigo(self) -> str:
        return str(self.attributes["codigo"])

    def summary(self) -> dict[str, Any]:
        """The derived fields of the layer: sources, total cost, executed, first year."""
        rows = self.financiamiento
        return {
            "fuentes": sorted({r.fuente for r in rows}, key=FUNDING_CODES.index) or None,
            "monto_clp": sum(r.aprobado or r.solicitado for r in rows) if rows else None,
            "monto_ejecutado_clp": sum(r.ejecutado for r in rows) if rows else None,
            "anio": min(r.anio for r in rows) if rows else None,
        }


def parse_project(data: Mapping[str, Any], *, geometry: BaseGeometry | None = None,
                  where: str = "") -> Project:
    """Check a project given as plain values; raise :class:`ProjectInputError` if any
    field is wrong.

    ``data`` holds the fields of ``layers.projects`` (see :data:`INPUT_FIELDS`) by name,
    and ``financiamiento``: a list of ``{fuente, anio, solicitado, aprobado,
    comprometido, ejecutado}``. Values may be JSON values or text as typed in a
    spreadsheet (``$ 1.500.000``, ``45,5 %``, ``31-12-2025``). ``where`` prefixes the
    message (e.g. ``"Fila 12: "``).

    Examples
    --------
    >>> p = parse_project({"codigo": "MUN-2025-001", "nombre": "Plaza Llolleo",
    ...                    "sector": "áreas verdes", "etapa": "diseño",
    ...                    "financiamiento": [{"fuente": "PMU", "anio": 2025,
    ...                                        "aprobado": "$ 59.000.000"}]})
    >>> p.summary()["monto_clp"]
    59000000
    """
    problems: list[dict[str, str]] = []
    unknown = [k for k in data if k not in {f.name for f in INPUT_FIELDS}
               and k not in ("financiamiento", "geometria", "nota")]
    for key in unknown[:10]:
        problems.append({"campo": str(key)[:60], "mensaje": "no es un campo de un proyecto"})
    attributes: dict[str, Any] = {}
    for fld in INPUT_FIELDS:
        value, problem = field_value(fld, data.get(fld.name))
        if problem:
            problems.append({"campo": fld.name, "mensaje": problem})
        attributes[fld.name] = value
    if attributes.get("codigo"):
        attributes["codigo"], problem = code_problem(attributes["codigo"])
        if problem:
            problems.append({"campo": "codigo", "mensaje": f"{problem}. {CODE_HINT}"})
    _check_dates(attributes, problems)
    funding, warnings = parse_funding(data.get("financiamiento"), problems)
    if problems:
        raise ProjectInputError(problems, where=where)
    note = data.get("nota")
    return Project(attributes, funding, geometry, warnings,
                   str(note)[:MAX_TEXT] if isinstance(note, str) and note.strip() else None)


def field_value(fld: Field, raw: Any) -> tuple[Any, str | None]:
    """The value of ``fld`` from ``raw`` and, when it is not acceptable, why."""
    if raw is None or (isinstance(raw, str) and not raw.strip()) or (
            isinstance(raw, float) and math.isnan(raw)):
        return None, "es obligatorio" if fld.required else None
    try:
        value = _convert(fld, raw)
    except (ValueError, TypeError) as exc:
        return None, str(exc)
    if fld.choices and fld.type is FieldType.TEXT:
        match = _choice(fld, value)
        if match is None:
            return None, f"«{str(value)[:60]}» no es un valor válido ({', '.join(fld.choices)})"
        value = match
    if fld.type in (FieldType.INTEGER, FieldType.FLOAT):
        if fld.minimum is not None and value < fld.minimum:
            return None, f"{value:g} es menor que el mínimo {fld.minimum:g}"
        if fld.maximum is not None and value > fld.maximum:
            return None, f"{value:g} supera el máximo {fld.maximum:g}"
    return value, None


def _convert(fld: Field, raw: Any) -> Any:
    if fld.type is FieldType.TEXT:
        if not isinstance(raw, str | int):
            raise ValueError("debe ser un texto")
        text = str(raw).strip()
        if len(text) > MAX_TEXT:
            raise ValueError(f"tiene {len(text):,} caracteres; el máximo es {MAX_TEXT:,}")
        return text
    if fld.type is FieldType.INTEGER:
        number = parse_number(raw)
        if number != int(number):
            raise ValueError(f"«{raw}» no es un número entero")
        return int(number)
    if fld.type is FieldType.FLOAT:
        return parse_number(raw)
    if fld.type is FieldType.DATE:
        return parse_date(raw)
    raise TypeError(f"tipo no admitido: {fld.type}")


def _choice(fld: Field, value: str) -> str | None:
    """The declared code matching ``value`` (case and accents ignored; a label too)."""
    folded = fold(value)
    for code in fld.choices or ():
        if fold(code) == folded:
            return code
    for code, label in fld.labels:
        if fold(label) == folded:
            return code
    return None


NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


def parse_number(raw: Any) -> float:
    """A number typed as in Chile: ``1.500.000``, ``$ 1.500.000``, ``45,5``, ``45,5 %``.

    >>> parse_number("$ 1.500.000"), parse_number("45,5 %"), parse_number(12)
    (1500000.0, 45.5, 12.0)
    """
    if isinstance(raw, bool):
        raise ValueError("debe ser un número, no verdadero/falso")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError("debe ser un número finito")
        return float(raw)
    if not isinstance(raw, str):
        raise ValueError("debe ser un número")
    text = raw.strip().replace("$", "").replace("%", "").replace(" ", "").replace("\u00a0", "")
    if "," in text:  # 1.234.567,89
        text = text.replace(".", "").replace(",", ".")
    elif THOUSANDS.match(text):
        text = text.replace(".", "")
    if not NUMBER.match(text):
        raise ValueError(f"«{raw.strip()[:40]}» no es un número")
    return float(text)


def parse_date(raw: Any) -> date:
    """A date as ``AAAA-MM-DD``, ``DD-MM-AAAA`` or ``DD/MM/AAAA`` (or a date object)."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str):
        raise ValueError("debe ser una fecha (AAAA-MM-DD)")
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(raw.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"«{raw.strip()[:40]}» no es una fecha (use AAAA-MM-DD o DD-MM-AAAA)")


def _check_dates(attributes: dict[str, Any], problems: list[dict[str, str]]) -> None:
    start, end = attributes.get("fecha_inicio"), attributes.get("fecha_termino")
    if start and end and end < start:
        problems.append({"campo": "fecha_termino", "mensaje":
                         f"la fecha de término ({end:%d-%m-%Y}) es anterior a la de inicio "
                         f"({start:%d-%m-%Y})"})


def parse_funding(raw: Any, problems: list[dict[str, str]]) -> tuple[list[Funding], list[str]]:
    """The funding rows, their problems appended to ``problems``, and the warnings."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        problems.append({"campo": "financiamiento",
                         "mensaje": "debe ser una lista de {fuente, anio, montos}"})
        return [], []
    if len(raw) > MAX_FUNDING_ROWS:
        problems.append({"campo": "financiamiento", "mensaje":
                         f"tiene {len(raw)} filas; el máximo es {MAX_FUNDING_ROWS}"})
        return [], []
    rows: dict[tuple[str, int], Funding] = {}
    warnings: list[str] = []
    for i, item in enumerate(raw, start=1):
        where = f"financiamiento[{i}]"
        if not isinstance(item, Mapping):
            problems.append({"campo": where, "mensaje": "debe ser un objeto con fuente, "
                             "anio y montos"})
            continue
        row = _funding_row(item, where, problems)
        if row is None:
            continue
        key = (row.fuente, row.anio)
        if key in rows:
            problems.append({"campo": where, "mensaje": f"la fuente {row.fuente} del año "
                             f"{row.anio} aparece dos veces; sume sus montos en una fila"})
            continue
        rows[key] = row
        if row.ejecutado > row.aprobado:
            warnings.append(f"{row.fuente} {row.anio}: el monto ejecutado "
                            f"({money(row.ejecutado)}) supera el aprobado "
                            f"({money(row.aprobado)}).")
    return sorted(rows.values(), key=lambda r: (r.anio, FUNDING_CODES.index(r.fuente))), \
        warnings


def _funding_row(item: Mapping[str, Any], where: str, problems: list[dict[str, str]]
                 ) -> Funding | None:
    before = len(problems)
    source = item.get("fuente")
    code = next((c for c in FUNDING_CODES if isinstance(source, str)
                 and fold(c) == fold(source)), None)
    if code is None:
        problems.append({"campo": f"{where}.fuente", "mensaje":
                         f"«{str(source)[:40]}» no es una fuente de financiamiento conocida "
                         f"({', '.join(FUNDING_CODES)})"})
    year: int | None = None
    try:
        number = parse_number(item.get("anio"))
        if number != int(number) or not 1990 <= number <= 2100:
            raise ValueError
        year = int(number)
    except (ValueError, TypeError):
        problems.append({"campo": f"{where}.anio", "mensaje":
                         f"«{str(item.get('anio'))[:20]}» no es un año entre 1990 y 2100"})
    amounts: dict[str, int] = {}
    for name in AMOUNTS:
        raw = item.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            amounts[name] = 0
            continue
        try:
            value = parse_number(raw)
        except ValueError as exc:
            problems.append({"campo": f"{where}.{name}", "mensaje": str(exc)})
            continue
        if value < 0:
            problems.append({"campo": f"{where}.{name}", "mensaje":
                             f"el monto {name} no puede ser negativo ({money(value)})"})
        elif value > MAX_AMOUNT:
            problems.append({"campo": f"{where}.{name}", "mensaje":
                             f"el monto {name} ({money(value)}) es demasiado grande"})
        else:
            amounts[name] = round(value)
    if len(problems) > before or code is None or year is None:
        return None
    return Funding(code, year, **amounts)


def money(value: float) -> str:
    """An amount in CLP written as in Chile: ``$ 1.500.000``.

    >>> money(1500000)
    '$ 1.500.000'
    """
    sign = "-" if value < 0 else ""
    return f"{sign}$ {abs(round(value)):,}".replace(",", ".")


def stage_index(stage: str) -> int:
    return STAGES.index(stage)
