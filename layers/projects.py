"""Investment projects (cartera de inversión): the registry's map layer.

The registry (``gis.portfolio``) writes this layer's table in place, one row per project
with its descriptive fields, and keeps the per-source, per-year amounts, the stage history
and the attachments in the ``cartera`` schema. ``fuentes``, ``monto_clp``,
``monto_ejecutado_clp`` and ``anio`` are summaries of those amounts, written with them, so
that maps and filters can use them.
"""

from layers.base import Field, FieldType, GeometryKind, Style, Theme, VectorLayer, categories

T, I, F, D = FieldType.TEXT, FieldType.INTEGER, FieldType.FLOAT, FieldType.DATE

PROJECT_SECTORS = (
    "vialidad", "áreas verdes", "salud", "educación", "deporte", "seguridad",
    "saneamiento y aguas lluvia", "equipamiento comunitario", "vivienda", "borde costero",
    "puerto y logística",
)
PROJECT_TYPES = ("estudio básico", "proyecto", "programa")
STAGES = ("idea", "perfil", "prefactibilidad", "factibilidad", "diseño", "ejecución",
          "terminado")
"""Stages in order (SNI): a project moves forward through them."""
SITUATIONS = ("nueva", "arrastre", "reevaluación")
RATE_RESULTS = (
    ("RS", "recomendado satisfactoriamente"), ("FI", "falta información"),
    ("OT", "objetado técnicamente"), ("AD", "admisible"),
    ("IN", "incumplimiento de normativa"), ("RE", "reevaluación"),
)
FUNDING_SOURCES = (
    ("FNDR", "Fondo Nacional de Desarrollo Regional (Gobierno Regional)"),
    ("FRIL", "Fondo Regional de Iniciativa Local"),
    ("PMU", "Programa de Mejoramiento Urbano (SUBDERE)"),
    ("PMB", "Programa de Mejoramiento de Barrios (SUBDERE)"),
    ("sectorial", "Fondos sectoriales (MINVU, MOP, MINSAL, MINEDUC...)"),
    ("Circular 33", "Circular 33 (reposición de activos)"),
    ("municipal", "Fondos municipales"),
    ("privado/portuario", "Aporte privado o portuario"),
)
FUNDING_CODES = tuple(code for code, _ in FUNDING_SOURCES)
BUDGET_ITEMS = (
    ("31.01", "Estudios básicos"),
    ("31.02.001", "Proyectos: gastos administrativos"),
    ("31.02.002", "Proyectos: consultorías"),
    ("31.02.003", "Proyectos: terrenos"),
    ("31.02.004", "Proyectos: obras civiles"),
    ("31.02.005", "Proyectos: equipamiento"),
    ("31.02.006", "Proyectos: equipos"),
    ("31.02.007", "Proyectos: vehículos"),
    ("31.02.999", "Proyectos: otros gastos"),
    ("31.03", "Programas de inversión"),
)
"""Subtítulo 31 (iniciativas de inversión) budget items."""
PLADECO_AXES = (
    "Desarrollo urbano y vivienda", "Ciudad puerto y desarrollo económico",
    "Medio ambiente y gestión de riesgos", "Desarrollo social y calidad de vida",
    "Seguridad ciudadana", "Gestión municipal",
)
"""Axes (lineamientos) of the comuna's PLADECO used by the demo portfolio; the field
accepts any axis name, as each PLADECO names its own."""

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
        Field("descripcion", T, "Descripción"),
        Field("tipo", T, "Tipología", choices=PROJECT_TYPES),
        Field("sector", T, "Sector", required=True, choices=PROJECT_SECTORS),
        Field("etapa", T, "Etapa", required=True, choices=STAGES),
        Field("situacion", T, "Situación", choices=SITUATIONS),
        Field("rate", T, "Resultado RATE", choices=tuple(c for c, _ in RATE_RESULTS),
              labels=RATE_RESULTS),
        Field("item_presupuestario", T, "Ítem presupuestario (subtítulo 31)",
              choices=tuple(c for c, _ in BUDGET_ITEMS), labels=BUDGET_ITEMS),
        Field("unidad_responsable", T, "Unidad responsable"),
        Field("eje_pladeco", T, "Eje PLADECO"),
        Field("objetivo_pladeco", T, "Objetivo PLADECO"),
        Field("beneficiarios", I, "Beneficiarios", minimum=0, unit="personas"),
        Field("avance_fisico", F, "Avance físico", minimum=0, maximum=100, unit="%"),
        Field("avance_financiero", F, "Avance financiero", minimum=0, maximum=100, unit="%"),
        Field("fecha_inicio", D, "Fecha de inicio"),
        Field("fecha_termino", D, "Fecha de término"),
        Field("fuentes", FieldType.TEXT_LIST, "Fuentes de financiamiento",
              choices=FUNDING_CODES, labels=FUNDING_SOURCES,
              source=("fuente", "fuente_financiamiento"),
              description="Resumen de las fuentes con montos (tabla cartera.financiamiento)."),
        Field("monto_clp", I, "Costo total", minimum=0, unit="CLP", source=("monto",),
              description="Suma de los montos aprobados (o solicitados, si aún no hay "
              "aprobación) de todas las fuentes y años."),
        Field("monto_ejecutado_clp", I, "Monto ejecutado", minimum=0, unit="CLP"),
        Field("anio", I, "Primer año con financiamiento", minimum=1990, maximum=2100,
              source=("año", "ano")),
    ),
)
