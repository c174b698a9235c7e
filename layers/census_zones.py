"""The 26 census zones (zonas censales) of San Antonio with Censo 2017 population (real)."""

from layers.base import CHILEMAPAS, Field, FieldType, GeometryKind, Style, Theme, VectorLayer

T, I = FieldType.TEXT, FieldType.INTEGER

LAYER = VectorLayer(
    name="census_zones",
    title="Zonas censales (Censo 2017)",
    description="Zonas censales urbanas de la comuna de San Antonio con su población del "
    "Censo 2017 por grupo de edad. Geocódigo = comuna(5) + distrito(2) + área(1) + zona(3).",
    theme=Theme.TERRITORIO,
    geometry=GeometryKind.MULTIPOLYGON,
    provenance=CHILEMAPAS,
    style=Style(color="#b39ddb", outline="#5e35b1", fill_opacity=0.1, line_width=1,
                label="geocodigo"),
    search=("geocodigo",),
    fields=(
        Field("geocodigo", T, "Geocódigo", required=True, unique=True),
        Field("codigo_comuna", T, "Código comuna (CUT)", required=True),
        Field("distrito", T, "Distrito censal"),
        Field("poblacion", I, "Población Censo 2017", minimum=0, unit="hab"),
        Field("pob_0_5", I, "Población 0 a 5 años", minimum=0, unit="hab"),
        Field("pob_6_14", I, "Población 6 a 14 años", minimum=0, unit="hab"),
        Field("pob_15_64", I, "Población 15 a 64 años", minimum=0, unit="hab"),
        Field("pob_65_mas", I, "Población 65 años y más", minimum=0, unit="hab"),
    ),
)
