"""Investment projects (cartera de inversión), enough to hold the demo portfolio."""

from layers.base import Field, FieldType, GeometryKind, Style, Theme, VectorLayer, categories

T, I = FieldType.TEXT, FieldType.INTEGER

PROJECT_SECTORS = (
    "vialidad", "áreas verdes", "salud", "educación", "deporte", "seguridad",
    "saneamiento y aguas lluvia", "equipamiento comunitario", "vivienda", "borde costero",
    "puerto y logística",
)
STAGES = ("idea", "perfil", "prefactibilidad", "factibilidad", "diseño", "ejecución",
          "terminado")
FUNDING_SOURCES = ("FNDR", "FRIL", "PMU", "PMB", "sectorial", "Circular 33", "municipal",
                   "privado/portuario")

OGUC_CLASS = {
    "vialidad": "espacio público", "áreas verdes": "área verde",
    "salud": "equipamiento salud", "educación": "equipamiento educación",
    "deporte": "equipamiento deporte", "seguridad": "equipamiento seguridad",
    "saneamiento y aguas lluvia": "infraestructura sanitaria",
    "equipamiento comunitario": "equipamiento social", "vivienda": "residencial",
    "borde costero": "espacio público", "puerto y logística": "infraestructura transporte",
}
"""The OGUC use class of each project sector, to check it against the zone's uses."""

LAYER = VectorLayer(
    name="projects",
    title="Proyectos de inversión",
    description="Cartera de iniciativas de inversión municipales y externas en la comuna.",
    theme=Theme.INVERSION,
    geometry=GeometryKind.ANY,
    style=Style(color="#1f78b4", by="etapa", outline="#08306b", fill_opacity=0.7,
                line_width=3, label="nombre", categories=categories({
                    "idea": "#c6dbef", "perfil": "#9ecae1", "prefactibilidad": "#6baed6",
                    "factibilidad": "#4292c6", "diseño": "#2171b5", "ejecución": "#e6550d",
                    "terminado": "#31a354"})),
    search=("codigo", "nombre"),
    fields=(
        Field("codigo", T, "Código (BIP o municipal)", required=True, unique=True,
              source=("cod_bip", "codigo_bip")),
        Field("nombre", T, "Nombre", required=True, source=("nombre_proyecto",)),
        Field("sector", T, "Sector", required=True, choices=PROJECT_SECTORS),
        Field("etapa", T, "Etapa", required=True, choices=STAGES),
        Field("fuente_financiamiento", T, "Fuente de financiamiento", choices=FUNDING_SOURCES,
              source=("fuente",)),
        Field("monto_clp", I, "Monto total", minimum=0, unit="CLP", source=("monto",)),
        Field("anio", I, "Año", minimum=1990, maximum=2100, source=("año", "ano")),
    ),
)
