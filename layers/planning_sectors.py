"""Planning sectors: the named localities of the comuna (unions of census zones or drawn)."""

from layers.base import Field, FieldType, GeometryKind, Style, Theme, VectorLayer

LOCALITIES = (
    "Barrancas", "San Antonio centro", "Llolleo", "Tejas Verdes", "Bellavista",
    "Lo Gallardo", "San Juan", "Alto Mirador", "Cuncumén", "Malvilla", "Leyda",
)

LAYER = VectorLayer(
    name="planning_sectors",
    title="Sectores de planificación",
    description="Localidades de la comuna usadas como sectores de planificación; cada una "
    "es la unión de zonas censales (urbanas) o un área dibujada (rurales).",
    theme=Theme.TERRITORIO,
    geometry=GeometryKind.MULTIPOLYGON,
    style=Style(color="#80cbc4", outline="#00695c", fill_opacity=0.12, line_width=2,
                label="nombre"),
    search=("nombre",),
    fields=(
        Field("codigo", FieldType.TEXT, "Código de sector", required=True, unique=True,
              source=("cod_sector",)),
        Field("nombre", FieldType.TEXT, "Sector", required=True, unique=True,
              choices=LOCALITIES, source=("sector", "localidad")),
        Field("area_tipo", FieldType.TEXT, "Tipo de área", choices=("urbana", "rural"),
              source=("tipo",)),
        Field("zonas_censales", FieldType.TEXT_LIST, "Zonas censales que lo forman",
              source=("zonas",)),
    ),
)
