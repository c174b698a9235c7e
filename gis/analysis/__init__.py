"""Analyses of the comuna for SECPLAC, computed in PostGIS where the data lives.

Analyses (:data:`ANALYSES`, name → :class:`Analysis`, for the CLI and the API):

- ``cumplimiento``: land-use compliance of each parcel with its PRC zone
  (:func:`gis.analysis.compliance.compliance`); ``cumplimiento_resumen`` by zone or
  sector (:func:`~gis.analysis.compliance.compliance_summary`).
- ``cabida``: zoning capacity of each parcel (:func:`gis.analysis.capacity.capacity`);
  ``cabida_zonas`` by zone (:func:`~gis.analysis.capacity.capacity_by_zone`).
- ``exposicion``: hazard exposure per type and level
  (:func:`gis.analysis.exposure.hazard_exposure`).
- ``rasters``: elevation, slope and tsunami depth per parcel, zone, sector or census zone
  (:func:`gis.analysis.zonal.raster_statistics`); ``bajo_cota_segura``: land below the
  tsunami safety elevation (:func:`~gis.analysis.zonal.land_below_safe_elevation`).
- ``influencia_portuaria``: parcels, population and sensitive uses by distance band from
  the truck routes and terminals (:func:`gis.analysis.port.port_influence`);
  ``distancia_puerto``: per parcel, also along the route network
  (:func:`~gis.analysis.port.port_distances`); ``rutas_camiones_residencial``: truck
  routes inside residential zones
  (:func:`~gis.analysis.port.truck_routes_in_residential_zones`).
- ``diagnostico_sectores``: the «carta de situación» per planning sector or census zone
  (:func:`gis.analysis.diagnosis.sector_diagnosis`, maps with
  :func:`~gis.analysis.diagnosis.diagnosis_map` and
  :func:`~gis.analysis.diagnosis.diagnosis_figure`); ``resumen_comunal``: its comuna
  total (:func:`~gis.analysis.diagnosis.comuna_summary`).
- ``cambios``: what changed in zoning, cadastre and portfolio between two dates
  (:func:`gis.analysis.changes.changes_summary`; every table with
  :func:`~gis.analysis.changes.changes_between`).

Common conventions (:mod:`gis.analysis.common`):

- every analysis is ``f(conn_or_settings, *, area=None, version=None, fecha=None,
  **options)`` and returns a DataFrame or GeoDataFrame (EPSG:32719) whose Spanish
  columns are documented in its docstring; ``result.attrs`` records the analysis, the
  area and the layer version used;
- ``area``: None (whole comuna), a planning sector (code or name), a census zone
  (geocódigo), or a polygon with its CRS (transformed, never mixed); a polygon outside
  the comuna or an unknown code is refused with a Spanish message saying how to find
  valid codes;
- ``version`` or ``fecha``: the version of the analysis's versioned layer
  (:attr:`Analysis.capa_versionada`: the zoning, or the hazard zones for exposure) by
  number or in force on a date; a date before the first version is refused, naming it;
- nothing found gives an empty table with the same columns, not an error;
- :func:`~gis.analysis.exports.export` writes any result to GeoPackage, GeoParquet, CSV or
  Excel by the file's extension.

Examples
--------
>>> from gis.analysis import ANALYSES, export
>>> tabla = ANALYSES["cumplimiento"].function(settings, area="Llolleo")  # doctest: +SKIP
>>> export(tabla, "cumplimiento_llolleo.gpkg")                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from gis.analysis.capacity import capacity, capacity_by_zone
from gis.analysis.changes import changes_between, changes_summary
from gis.analysis.common import AnalysisInputError, AreaOutsideError, UnknownAreaError
from gis.analysis.compliance import compliance, compliance_summary
from gis.analysis.diagnosis import (
    comuna_summary,
    diagnosis_figure,
    diagnosis_map,
    sector_diagnosis,
)
from gis.analysis.exports import export
from gis.analysis.exposure import hazard_exposure
from gis.analysis.port import port_distances, port_influence, truck_routes_in_residential_zones
from gis.analysis.zonal import (
    TSUNAMI_SAFE_ELEVATION_M,
    RasterCoverageError,
    RasterCoverageWarning,
    land_below_safe_elevation,
    raster_statistics,
)


@dataclass(frozen=True)
class Analysis:
    """One analysis as the CLI and the API offer it."""

    name: str
    title: str
    description: str
    function: Callable[..., pd.DataFrame]
    capa_versionada: str | None = "zoning"
    """The layer ``version`` / ``fecha`` choose (None: they do not apply)."""
    opciones: dict[str, str] = field(default_factory=dict)
    """Extra keyword options → Spanish description (``geometria`` is common to all
    analyses that return geometries)."""
    geometria: bool = True
    """Whether the result can carry geometries (option ``geometria``)."""


_BY = "'zona' (zona PRC) o 'sector' (sector de planificación)"
_UNITS = "'predio', 'zona', 'sector' o 'zona_censal'"
_BANDS = "bordes de las bandas de distancia en metros, p. ej. 0,100,300,500,1000"
_DIAG = "'sector' (sector de planificación) o 'zona_censal'"

ANALYSES: dict[str, Analysis] = {a.name: a for a in (
    Analysis("cumplimiento", "Cumplimiento de usos de suelo",
             "Para cada predio, su uso actual (destino SII como clase de uso OGUC) frente a "
             "los usos permitidos y prohibidos de su zona PRC: conforme, no conforme o no "
             "regulado, con la regla que lo decidió.", compliance),
    Analysis("cumplimiento_resumen", "Cumplimiento de usos por zona o sector",
             "Predios conformes, no conformes y no regulados por zona PRC o por sector de "
             "planificación.", compliance_summary, opciones={"por": _BY}),
    Analysis("cabida", "Cabida normativa por predio",
             "Superficie edificable, ocupación de suelo, viviendas y lotes máximos según "
             "las normas de la zona, superficie construida y cabida residual de cada "
             "predio.", capacity,
             opciones={"solo_eriazos": "solo sitios eriazos (destino W): sí/no"}),
    Analysis("cabida_zonas", "Cabida normativa por zona",
             "Cabida máxima, construida y residual por zona PRC, con la cabida de sus "
             "sitios eriazos.", capacity_by_zone),
    Analysis("exposicion", "Exposición a amenazas",
             "Por tipo y nivel de amenaza: predios, superficie construida, avalúo, "
             "población estimada, proyectos de inversión y equipamiento crítico (salud, "
             "educación, seguridad) expuestos.", hazard_exposure,
             capa_versionada="hazard_zones", geometria=False),
    Analysis("rasters", "Elevación, pendiente y tsunami por unidad",
             "Estadísticas de elevación (DEM), pendiente y profundidad de inundación por "
             "tsunami por predio, zona PRC, sector o zona censal, con la fracción cubierta "
             f"por cada raster y el suelo bajo la cota de seguridad ({TSUNAMI_SAFE_ELEVATION_M:g}"
             " m).", raster_statistics,
             opciones={"por": _UNITS, "rasters": "'dem', 'tsunami_depth' o ambos"}),
    Analysis("bajo_cota_segura", "Suelo bajo la cota de seguridad de tsunami",
             f"Superficie bajo {TSUNAMI_SAFE_ELEVATION_M:g} m de elevación (regla de "
             "evacuación por tsunami) por predio, zona PRC, sector o zona censal.",
             land_below_safe_elevation, opciones={"por": _UNITS}),
    Analysis("influencia_portuaria", "Influencia portuaria por bandas de distancia",
             "Predios, población y equipamiento sensible (educación, salud) por banda de "
             "distancia a las rutas de camiones y a los terminales portuarios.",
             port_influence, capa_versionada="port_routes", geometria=False,
             opciones={"bandas": _BANDS}),
    Analysis("distancia_puerto", "Distancia al puerto por predio",
             "Distancia de cada predio a la ruta de camiones y al terminal más cercanos, y "
             "distancia al puerto recorriendo la red de rutas de camiones.", port_distances,
             capa_versionada="port_routes", opciones={
                 "bandas": _BANDS, "paso_m": "distancia máxima entre nodos de la red (m)",
                 "tolerancia_m": "distancia bajo la cual dos vértices son un nodo (m)",
                 "alcance_terminal_m": "distancia de un nodo a un terminal para darle "
                                       "acceso (m)"}),
    Analysis("rutas_camiones_residencial", "Rutas de camiones en zonas residenciales",
             "Longitud de rutas de camiones dentro de cada zona residencial del PRC, con "
             "sus rutas y flujo de camiones.", truck_routes_in_residential_zones,
             opciones={"familias": "familias de zona PRC (por omisión: residencial y las "
                                   "zonas que permiten el uso residencial)"}),
    Analysis("diagnostico_sectores", "Carta de situación por sectores",
             "Población y estructura de edad, densidad, dependencia, predios "
             "residenciales, mixtura de usos, exposición a amenaza alta e inversión por "
             "habitante de cada sector o zona censal, con un ranking de prioridad.",
             sector_diagnosis, capa_versionada="hazard_zones", opciones={"unit": _DIAG}),
    Analysis("resumen_comunal", "Resumen comunal de la carta de situación",
             "Los indicadores de la carta de situación para el total de la comuna (o del "
             "área).", comuna_summary, capa_versionada="hazard_zones", geometria=False,
             opciones={"unit": _DIAG}),
    Analysis("cambios", "Cambios entre dos fechas",
             "Cambios de la zonificación, el catastro y la cartera de proyectos entre dos "
             "fechas.", changes_summary, capa_versionada=None, geometria=False,
             opciones={"desde": "fecha inicial (AAAA-MM-DD)",
                       "hasta": "fecha final (AAAA-MM-DD)"}),
)}
"""Every analysis, by the name the CLI and the API use."""

__all__ = ["ANALYSES", "Analysis", "AnalysisInputError", "AreaOutsideError",
           "RasterCoverageError", "RasterCoverageWarning", "TSUNAMI_SAFE_ELEVATION_M",
           "UnknownAreaError", "capacity", "capacity_by_zone", "compliance",
           "compliance_summary", "export", "hazard_exposure", "land_below_safe_elevation",
           "raster_statistics",
           "changes_between", "changes_summary", "comuna_summary", "diagnosis_figure",
           "diagnosis_map", "port_distances", "port_influence", "sector_diagnosis",
           "truck_routes_in_residential_zones"]
