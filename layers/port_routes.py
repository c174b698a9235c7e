"""Port access routes: highways, urban truck routes and rail to the Puerto San Antonio."""

from layers.base import Field, FieldType, GeometryKind, Style, Theme, VectorLayer, categories

ROUTE_CATEGORIES = ("autopista", "ruta nacional", "ruta de camiones urbana", "ferrocarril")

LAYER = VectorLayer(
    name="port_routes",
    title="Rutas de acceso al puerto",
    description="Rutas de acceso al Puerto San Antonio (Ruta 78, Ruta 66, rutas urbanas de "
    "camiones, ferrocarril) con su categoría y flujo de camiones.",
    theme=Theme.PUERTO,
    geometry=GeometryKind.MULTILINESTRING,
    style=Style(color="#616161", by="categoria", line_width=3, label="nombre",
                categories=categories({
                    "autopista": "#c62828", "ruta nacional": "#ef6c00",
                    "ruta de camiones urbana": "#f9a825", "ferrocarril": "#424242"})),
    search=("nombre",),
    fields=(
        Field("nombre", FieldType.TEXT, "Ruta", required=True, source=("name",)),
        Field("categoria", FieldType.TEXT, "Categoría", required=True,
              choices=ROUTE_CATEGORIES, source=("category",)),
        Field("camiones_dia", FieldType.INTEGER, "Camiones por día (TMDA)", minimum=0,
              unit="camiones/día", source=("trucks_day", "tmda_camiones")),
        Field("ruta_camiones", FieldType.BOOLEAN, "Ruta de camiones autorizada",
              source=("truck_route",)),
    ),
)
