"""Source columns → layer fields: the mapping, type conversion and value checks.

Conversion is vectorised with Arrow compute; only values that fail a vectorised cast are
looked at one by one, to name the rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gis.ingest.report import IngestError, IngestReport
from layers.base import Field, FieldType, VectorLayer
from layers.parcels import normalize_rol

TRUE_WORDS = {"true", "t", "1", "si", "sí", "s", "yes", "y", "verdadero", "x"}
FALSE_WORDS = {"false", "f", "0", "no", "n", "falso", ""}
LIST_SEPARATOR = re.compile(r"\s*[;|]\s*")


def fold(text: str) -> str:
    """Case- and accent-insensitive form used to match column names and codes."""
    nfkd = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def resolve_mapping(layer: VectorLayer, columns: list[str], overrides: dict[str, str],
                    report: IngestReport) -> dict[str, str]:
    """Which source column feeds each layer field (field → column).

    ``overrides`` (field → column) come from the user and win over the declared aliases.
    """
    by_fold = {fold(c): c for c in columns}
    unknown = [f for f in overrides if f not in {fl.name for fl in layer.fields}]
    if unknown:
        raise IngestError(
            f"La correspondencia nombra campos que la capa «{layer.name}» no tiene: "
            f"{', '.join(unknown)}.",
            hint="Campos de la capa: " + ", ".join(f.name for f in layer.fields),
        )
    mapping: dict[str, str] = {}
    for fld in layer.fields:
        if fld.name in overrides:
            column = overrides[fld.name]
            if column not in columns and fold(column) not in by_fold:
                raise IngestError(
                    f"La columna «{column}» indicada para el campo «{fld.name}» no existe "
                    "en el archivo.", hint="Columnas del archivo: " + ", ".join(columns))
            mapping[fld.name] = by_fold.get(fold(column), column)
            continue
        for alias in fld.source_names():
            if fold(alias) in by_fold:
                mapping[fld.name] = by_fold[fold(alias)]
                break
    missing_required = [f.name for f in layer.fields if f.required and f.name not in mapping]
    if missing_required:
        raise IngestError(
            f"Faltan columnas obligatorias para la capa «{layer.name}»: "
            f"{', '.join(missing_required)}.",
            hint="Renombre las columnas o indique la correspondencia con "
            "--campo CAMPO=COLUMNA. Columnas del archivo: " + ", ".join(columns),
        )
    report.mapping = mapping
    report.missing_fields = [f.name for f in layer.fields if f.name not in mapping]
    used = set(mapping.values())
    report.ignored_columns = [c for c in columns if c not in used]
    return mapping


@dataclass
class Converted:
    values: pa.Array
    bad: np.ndarray
    """Boolean mask of rows whose value could not be used."""
    reason: str


def convert_field(fld: Field, column: pa.Array | pa.ChunkedArray) -> list[Converted]:
    """Typed values of one field plus, per reason, the rows that failed."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    problems: list[Converted] = []
    values = _CONVERTERS[fld.type](column, problems)
    if fld.normalize is not None:
        values = _apply_per_value(values, fld.normalize, problems,
                                  fld.normalize_hint or "valor con formato no válido")
    if fld.choices is not None:
        values = _canonical_choices(values, fld, problems)
    if fld.minimum is not None or fld.maximum is not None:
        _check_range(values, fld, problems)
    if fld.required:
        missing = _mask(pc.is_null(values), n)
        already = np.zeros(n, bool)
        for p in problems:
            already |= p.bad
        if (missing & ~already).any():
            problems.append(Converted(values, missing & ~already, "valor obligatorio vacío"))
    return [Converted(values, np.zeros(n, bool), "")] + problems


# -- converters by field type ------------------------------------------------------------

def _blank_to_null(arr: pa.Array) -> pa.Array:
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _as_text(arr: pa.Array, problems: list[Converted]) -> pa.Array:
    if pa.types.is_floating(arr.type):
        whole = pc.equal(arr, pc.round(arr))
        arr = pc.if_else(whole, pc.cast(pc.cast(arr, pa.int64(), safe=False), pa.string()),
                         pc.cast(arr, pa.string()))
    elif not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    return _blank_to_null(pc.cast(arr, pa.string()))


def _fallback(arr: pa.Array, parse: Callable[[str], object], target: pa.DataType,
              problems: list[Converted], reason: str) -> pa.Array:
    out, bad = [], np.zeros(len(arr), bool)
    for i, v in enumerate(arr.to_pylist()):
        if v is None:
            out.append(None)
            continue
        try:
            out.append(parse(v))
        except (ValueError, TypeError, OverflowError):
            out.append(None)
            bad[i] = True
    if bad.any():
        problems.append(Converted(pa.array(out, target), bad, reason))
    return pa.array(out, target)


def _parse_number(text: str) -> float:
    t = text.strip().replace(" ", "")
    if "," in t:  # Chilean style: 1.234.567,89
        t = t.replace(".", "").replace(",", ".")
    return float(t)


def _as_float(arr: pa.Array, problems: list[Converted]) -> pa.Array:
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return _finite(pc.cast(arr, pa.float64()), problems)
    text = _as_text(arr, problems)
    try:
        return _finite(pc.cast(text, pa.float64()), problems)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _finite(_fallback(text, _parse_number, pa.float64(), problems,
                                 "no es un número"), problems)


def _finite(arr: pa.Array, problems: list[Converted]) -> pa.Array:
    values = arr.to_numpy(zero_copy_only=False)
    bad = ~np.isfinite(values) & ~_mask(pc.is_null(arr), len(arr))
    if bad.any():
        problems.append(Converted(arr, bad, "número no finito (NaN o infinito)"))
        arr = pc.if_else(pa.array(bad), pa.scalar(None, arr.type), arr)
    return arr


def _as_integer(arr: pa.Array, problems: list[Converted]) -> pa.Array:
    if pa.types.is_integer(arr.type):
        return pc.cast(arr, pa.int64())
    floats = _as_float(arr, problems)
    values = floats.to_numpy(zero_copy_only=False)
    fractional = np.zeros(len(values), bool)
    with np.errstate(invalid="ignore"):
        fractional = np.isfinite(values) & (np.round(values) != values)
    if fractional.any():
        problems.append(Converted(floats, fractional, "no es un número entero"))
        floats = pc.if_else(pa.array(fractional), pa.scalar(None, pa.float64()), floats)
    return pc.cast(floats, pa.int64(), safe=False)


def _parse_date(text: str) -> object:
    from datetime import date, datetime

    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return date.fromisoformat(text)


def _as_date(arr: pa.Array, problems: list[Converted]) -> pa.Array:
    if pa.types.is_date(arr.type) or pa.types.is_timestamp(arr.type):
        return pc.cast(arr, pa.date32())
    text = _as_text(arr, problems)
    return _fallback(text, _parse_date, pa.date32(), problems,
                     "no es una fecha (use AAAA-MM-DD o DD-MM-AAAA)")


def _parse_bool(text: str) -> bool:
    word = fold(text)
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(text)


def _as_boolean(arr: pa.Array, problems: list[Converted]) -> pa.Array:
    if pa.types.is_boolean(arr.type):
        return arr
    text = _as_text(arr, problems)
    return _fallback(text, _parse_bool, pa.bool_(), problems, "no es sí/no")


def _as_text_list(arr: pa.Array, problems: list[Converted]) -> pa.Array:
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        return pc.cast(arr, pa.list_(pa.string()))
    text = _as_text(arr, problems)
    return pa.array(
        [None if v is None else [p for p in LIST_SEPARATOR.split(v) if p]
         for v in text.to_pylist()],
        pa.list_(pa.string()),
    )


_CONVERTERS: dict[FieldType, Callable[[pa.Array, list[Converted]], pa.Array]] = {
    FieldType.TEXT: _as_text,
    FieldType.INTEGER: _as_integer,
    FieldType.FLOAT: _as_float,
    FieldType.DATE: _as_date,
    FieldType.BOOLEAN: _as_boolean,
    FieldType.TEXT_LIST: _as_text_list,
}


# -- value checks ----------------------------------------------------------------------

def _mask(arr: pa.Array, n: int) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool) if n else np.zeros(0, bool)


def _apply_per_value(values: pa.Array, fn: Callable[[str], str | None],
                     problems: list[Converted], reason: str) -> pa.Array:
    """``fn`` on every value (once per distinct value), through its bulk version if it
    has one (see :data:`BULK_NORMALIZERS`)."""
    bulk = BULK_NORMALIZERS.get(fn)
    if bulk is not None:
        out, undecided = bulk(values)
    else:
        out, undecided = pa.nulls(len(values), pa.string()), _mask(pc.is_valid(values),
                                                                   len(values))
    if undecided.any():
        todo = values.filter(pa.array(undecided)).to_pylist()
        table = {u: fn(u) for u in set(todo)}
        out = pc.replace_with_mask(out, pa.array(undecided),
                                   pa.array([table[v] for v in todo], pa.string()))
    bad = _mask(pc.and_(pc.is_valid(values), pc.is_null(out)), len(values))
    if bad.any():
        problems.append(Converted(values, bad, reason))
    return out


_ROL_ASCII = (r"^[ \t\n\r\f\v]*(?P<m>[0-9]{1,5})[ \t\n\r\f\v]*[-/ ]"
              r"[ \t\n\r\f\v]*(?P<p>[0-9]{1,5})[ \t\n\r\f\v]*$")


def _normalize_rol_bulk(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """:func:`layers.parcels.normalize_rol` in bulk for the values written with ASCII
    digits and spaces (all that Arrow's regular expressions classify as Python does);
    the others are left undecided, for the function itself."""
    parts = pc.extract_regex(values, _ROL_ASCII)
    matched = pc.is_valid(parts)
    manzana = pc.utf8_lpad(pc.struct_field(parts, "m"), 5, "0")
    predio = pc.utf8_lpad(pc.struct_field(parts, "p"), 5, "0")
    out = pc.binary_join_element_wise(manzana, predio, "-")  # null where not matched
    undecided = _mask(pc.and_(pc.is_valid(values), pc.invert(matched)), len(values))
    return out, undecided


BULK_NORMALIZERS: dict[Callable[[str], str | None],
                       Callable[[pa.Array], tuple[pa.Array, np.ndarray]]] = {
    normalize_rol: _normalize_rol_bulk,
}
"""Arrow versions of ``Field.normalize`` functions: for an array, the normalized values
(null where invalid) and the mask of values they leave to the function itself. They must
give exactly what the function gives for the values they decide."""


def _canonical_choices(values: pa.Array, fld: Field, problems: list[Converted]) -> pa.Array:
    assert fld.choices is not None
    canonical = {fold(c): c for c in fld.choices}
    if fld.type is FieldType.TEXT_LIST:
        out, bad = [], np.zeros(len(values), bool)
        for i, items in enumerate(values.to_pylist()):
            if items is None:
                out.append(None)
                continue
            mapped = [canonical.get(fold(v)) for v in items]
            bad[i] = any(m is None for m in mapped)
            out.append(None if bad[i] else mapped)
        result = pa.array(out, pa.list_(pa.string()))
    else:
        uniques = [u for u in pc.unique(values).to_pylist() if u is not None]
        table = {u: canonical.get(fold(u)) for u in uniques}
        keys = pa.array(list(table), pa.string())
        mapped = pa.array(list(table.values()), pa.string())
        idx = pc.index_in(values, value_set=keys)
        result = pc.take(mapped, idx)
        bad = _mask(pc.and_(pc.is_valid(values), pc.is_null(result)), len(values))
    if bad.any():
        shown = ", ".join(fld.choices[:12]) + ("…" if len(fld.choices) > 12 else "")
        problems.append(Converted(values, bad, f"código no reconocido (válidos: {shown})"))
    return result


def _check_range(values: pa.Array, fld: Field, problems: list[Converted]) -> None:
    bad = np.zeros(len(values), bool)
    if fld.minimum is not None:
        bad |= _mask(pc.fill_null(pc.less(values, fld.minimum), False), len(values))
    if fld.maximum is not None:
        bad |= _mask(pc.fill_null(pc.greater(values, fld.maximum), False), len(values))
    if bad.any():
        lo = "" if fld.minimum is None else f"≥ {fld.minimum:g}"
        hi = "" if fld.maximum is None else f"≤ {fld.maximum:g}"
        bounds = " y ".join(x for x in (lo, hi) if x)
        problems.append(Converted(values, bad, f"fuera de rango (debe ser {bounds})"))
