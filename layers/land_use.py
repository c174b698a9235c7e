"""Current land use (uso de suelo actual) of each area of the comuna."""

from layers.base import Field, FieldType, GeometryKind, Style, Theme, VectorLayer, categories

LAND_USES = (
    "residencial", "comercio", "mixto", "industria", "portuario", "bodegaje y logística",
    "equipamiento educación", "equipamiento salud", "equipamiento seguridad",
    "equipamiento deporte", "equipamiento culto y cultura", "equipamiento servicios",
    "área verde", "sitio eriazo", "infraestructura", "agrícola", "forestal", "humedal",
)

OGUC_CLASS = {
    "residencial": "residencial", "comercio": "equipamiento comercio",
    "mixto": "residencial", "industria": "actividad productiva molesta",
    "portuario": "infraestructura transporte",
    "bodegaje y logística": "actividad productiva inofensiva",
    "equipamiento educación": "equipamiento educación",
    "equipamiento salud": "equipamiento salud",
    "equipamiento seguridad": "equipamiento seguridad",
    "equipamiento deporte": "equipamiento deporte",
    "equipamiento culto y cultura": "equipamiento culto y cultura",
    "equipamiento servicios": "equipamiento servicios", "área verde": "área verde",
    "infraestructura": "infraestructura sanitaria", "humedal": "área verde",
}
"""The OGUC use class each current land use is judged by against the PRC (uses not listed
here, such as vacant, agricultural or forest land, are not regulated by the zoning)."""

LAYER = VectorLayer(
    name="land_use",
    title="Uso de suelo actual",
    description="Uso actual predominante de cada manzana o área (levantamiento municipal).",
    theme=Theme.USO_DE_SUELO,
    geometry=GeometryKind.MULTIPOLYGON,
    style=Style(color="#e0e0e0", by="uso", fill_opacity=0.6, label="uso",
                categories=categories({
                    "residencial": "#ffe08a", "comercio": "#e4572e", "mixto": "#f3a953",
                    "industria": "#9b5de5", "portuario": "#4d5fa3",
                    "bodegaje y logística": "#7e6bb0", "equipamiento educación": "#1f9bcf",
                    "equipamiento salud": "#d81b60", "equipamiento seguridad": "#37474f",
                    "equipamiento deporte": "#26a69a",
                    "equipamiento culto y cultura": "#8d6e63",
                    "equipamiento servicios": "#52b2cf", "área verde": "#57a773",
                    "sitio eriazo": "#d7ccc8", "infraestructura": "#9e9e9e",
                    "agrícola": "#c5e1a5", "forestal": "#2e7d32", "humedal": "#80deea"})),
    fields=(
        Field("uso", FieldType.TEXT, "Uso actual", required=True, choices=LAND_USES,
              source=("uso_actual",)),
        Field("manzana", FieldType.TEXT, "Manzana SII", source=("mz",)),
        Field("fecha_levantamiento", FieldType.DATE, "Fecha de levantamiento",
              source=("fecha",)),
    ),
)
