"""Cadastre parcels (predios) with their SII rol, destino and avalúo."""

import re

from layers.base import Field, FieldType, GeometryKind, Style, Theme, VectorLayer
from layers.codes import SII_DESTINOS

T, F, I = FieldType.TEXT, FieldType.FLOAT, FieldType.INTEGER

_ROL = re.compile(r"^\s*(\d{1,5})\s*[-/ ]\s*(\d{1,5})\s*$")


def normalize_rol(text: str) -> str | None:
    """SII rol «manzana-predio» with 1-5 digits each, as ``MMMMM-PPPPP``; None if invalid.

    >>> normalize_rol("1999-54")
    '01999-00054'
    """
    match = _ROL.match(text)
    if not match:
        return None
    return f"{int(match[1]):05d}-{int(match[2]):05d}"


LAYER = VectorLayer(
    name="parcels",
    title="Catastro de predios",
    description="Predios de la comuna con rol de avalúo SII (manzana-predio), dirección, "
    "destino, serie, superficies y avalúo fiscal.",
    theme=Theme.CATASTRO,
    geometry=GeometryKind.MULTIPOLYGON,
    style=Style(color="#f5f0e6", outline="#8d6e63", fill_opacity=0.25, line_width=0.5,
                min_zoom=13, label="rol"),
    search=("rol", "direccion"),
    fields=(
        Field("rol", T, "Rol de avalúo", required=True, unique=True, source=("rol_sii",),
              description="manzana-predio, normalizado a 5+5 dígitos (p. ej. 01999-00054)",
              normalize=normalize_rol,
              normalize_hint="rol no válido (formato manzana-predio, p. ej. 1999-54)"),
        Field("direccion", T, "Dirección", source=("direccion", "dir")),
        Field("destino", T, "Destino SII", choices=tuple(SII_DESTINOS), source=("dest",),
              labels=tuple(SII_DESTINOS.items())),
        Field("serie", T, "Serie", choices=("agrícola", "no agrícola")),
        Field("superficie_terreno", F, "Superficie de terreno", minimum=0, unit="m²",
              source=("sup_terr", "sup_terreno")),
        Field("superficie_construida", F, "Superficie construida", minimum=0, unit="m²",
              source=("sup_const", "sup_construida")),
        Field("avaluo_terreno", I, "Avalúo fiscal terreno", minimum=0, unit="CLP",
              source=("av_terreno",)),
        Field("avaluo_construccion", I, "Avalúo fiscal construcciones", minimum=0,
              unit="CLP", source=("av_constr",)),
        Field("avaluo_total", I, "Avalúo fiscal total", minimum=0, unit="CLP",
              source=("av_total", "avaluo")),
    ),
)
