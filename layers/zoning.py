"""PRC zoning: zones with the normas urbanísticas a CIP states (OGUC 1.4.4)."""

from layers.base import Field, FieldType, GeometryKind, Style, Theme, VectorLayer, categories
from layers.codes import GROUPING_SYSTEMS, OGUC_USES

T, F, L = FieldType.TEXT, FieldType.FLOAT, FieldType.TEXT_LIST

ZONE_FAMILIES = (
    "residencial", "mixta", "centro", "industrial", "portuaria", "equipamiento",
    "área verde", "protección",
)
PEOPLE_PER_DWELLING = 4
"""Inhabitants per dwelling that relate density (hab/ha) to dwellings (viv/ha)."""
RISK_AREAS = ("tsunami", "inundación", "remoción en masa", "quebrada", "incendio")

LAYER = VectorLayer(
    name="zoning",
    title="Zonificación Plan Regulador Comunal",
    description="Zonas y subzonas del PRC de San Antonio con sus normas urbanísticas: usos "
    "permitidos y prohibidos, superficie predial mínima, densidad, altura, agrupamiento, "
    "coeficientes, antejardín y áreas superpuestas (riesgo, protección, afectaciones).",
    theme=Theme.PLAN_REGULADOR,
    geometry=GeometryKind.MULTIPOLYGON,
    style=Style(color="#bdbdbd", by="familia", outline="#6d4c41", fill_opacity=0.5,
                label="codigo", categories=categories({
                    "residencial": "#f6d55c", "mixta": "#f3a953", "centro": "#e4572e",
                    "industrial": "#9b5de5", "portuaria": "#4d5fa3",
                    "equipamiento": "#52b2cf", "área verde": "#57a773",
                    "protección": "#2e7d32"})),
    search=("codigo", "nombre"),
    fields=(
        Field("codigo", T, "Zona", required=True, unique=True, source=("cod_zona",)),
        Field("nombre", T, "Nombre de la zona", required=True, source=("nom_zona",)),
        Field("familia", T, "Tipo de zona", required=True, choices=ZONE_FAMILIES,
              source=("tipo_zona",)),
        Field("usos_permitidos", L, "Usos permitidos", choices=OGUC_USES,
              source=("usos_perm",)),
        Field("usos_prohibidos", L, "Usos prohibidos", choices=OGUC_USES,
              source=("usos_proh",)),
        Field("superficie_predial_minima", F, "Superficie predial mínima", minimum=0,
              unit="m²", source=("sup_min",)),
        Field("densidad_maxima", F, "Densidad bruta máxima", minimum=0, unit="hab/ha",
              source=("dens_max",)),
        Field("altura_maxima", F, "Altura máxima de edificación", minimum=0, unit="m",
              source=("alt_max_m",)),
        Field("pisos_maximos", FieldType.INTEGER, "Altura máxima en pisos", minimum=0,
              source=("pisos_max",)),
        Field("sistema_agrupamiento", L, "Sistema de agrupamiento", choices=GROUPING_SYSTEMS,
              source=("agrupam",)),
        Field("coef_constructibilidad", F, "Coeficiente de constructibilidad", minimum=0,
              source=("coef_const",)),
        Field("coef_ocupacion_suelo", F, "Coeficiente de ocupación de suelo", minimum=0,
              maximum=1, source=("coef_ocup",)),
        Field("antejardin", F, "Antejardín", minimum=0, unit="m", source=("antejardin",)),
        Field("areas_riesgo", L, "Áreas de riesgo (OGUC 2.1.17)", choices=RISK_AREAS,
              source=("riesgo",)),
        Field("area_proteccion", T, "Área de protección", source=("proteccion",)),
        Field("afectacion_utilidad_publica", T, "Afectación de utilidad pública (art. 59 LGUC)",
              source=("afectacion",)),
        Field("instrumento", T, "Instrumento", source=("instrum",)),
    ),
)
