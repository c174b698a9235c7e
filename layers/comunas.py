"""Comunas of the Provincia de San Antonio with their Censo 2017 population (real data)."""

from layers.base import CHILEMAPAS, Field, FieldType, GeometryKind, Style, Theme, VectorLayer

T, I = FieldType.TEXT, FieldType.INTEGER

LAYER = VectorLayer(
    name="comunas",
    title="Comunas de la Provincia de San Antonio",
    description="Límites comunales de la provincia (código CUT) con la población del "
    "Censo 2017 por sexo y grupo de edad.",
    theme=Theme.TERRITORIO,
    geometry=GeometryKind.MULTIPOLYGON,
    provenance=CHILEMAPAS,
    style=Style(color="#f7f4ee", outline="#424242", fill_opacity=0.35, line_width=2,
                label="nombre"),
    search=("nombre",),
    fields=(
        Field("codigo_comuna", T, "Código comuna (CUT)", required=True, unique=True,
              source=("cut", "codigo")),
        Field("nombre", T, "Comuna", required=True, source=("commune_name", "comuna")),
        Field("codigo_provincia", T, "Código provincia"),
        Field("poblacion", I, "Población Censo 2017", minimum=0, unit="hab"),
        Field("hombres", I, "Hombres", minimum=0, unit="hab"),
        Field("mujeres", I, "Mujeres", minimum=0, unit="hab"),
        Field("pob_0_14", I, "Población 0 a 14 años", minimum=0, unit="hab"),
        Field("pob_15_64", I, "Población 15 a 64 años", minimum=0, unit="hab"),
        Field("pob_65_mas", I, "Población 65 años y más", minimum=0, unit="hab"),
    ),
)
