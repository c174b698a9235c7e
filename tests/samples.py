"""Small sample data sets written in the formats municipalities send, for ingest tests."""

from __future__ import annotations

import geopandas as gpd
import shapely

# A point in San Antonio (near the Municipalidad), WGS 84 / UTM 19S.
ORIGIN = (258_700.0, 6_279_200.0)


def sample_zones() -> gpd.GeoDataFrame:
    """Three PRC zones with accented names and list fields, in EPSG:32719."""
    x, y = ORIGIN
    cells = [shapely.box(x + i * 200, y, x + (i + 1) * 200 - 0.37, y + 150.25) for i in range(3)]
    return gpd.GeoDataFrame({
        "COD_ZONA": ["ZH-1", "ZM-2", "AV-3"],
        "NOM_ZONA": ["Residencial Llolleo", "Mixta Barrancas Ñuble", "Área verde Quebrada"],
        "TIPO_ZONA": ["residencial", "mixta", "área verde"],
        "USOS_PERM": ["residencial; equipamiento educación", "residencial; equipamiento comercio",
                      "área verde"],
        "USOS_PROH": ["actividad productiva molesta", None, "residencial"],
        "SUP_MIN": [200.0, 300.5, 2500.0],
        "ALT_MAX_M": [10.5, 21.0, 3.5],
        "PISOS_MAX": [3, 7, 1],
        "COEF_CONST": [1.2, 2.4, 0.05],
        "COEF_OCUP": [0.6, 0.7, 0.02],
    }, geometry=cells, crs=32719)


def sample_projects() -> gpd.GeoDataFrame:
    """Projects with a point, a line and a polygon, in EPSG:4326."""
    x, y = ORIGIN
    geoms = [shapely.Point(x, y), shapely.LineString([(x, y), (x + 500, y + 80)]),
             shapely.box(x - 300, y - 300, x - 100, y - 150)]
    return gpd.GeoDataFrame({
        "cod_bip": ["40015248-0", "MUN-2024-012", "30123456-K"],
        "nombre_proyecto": ["Construcción CESFAM Llolleo", "Mejoramiento Av. Barros Luco",
                            "Plaza Bellavista"],
        "sector": ["salud", "vialidad", "áreas verdes"],
        "etapa": ["ejecución", "diseño", "idea"],
        "fuente": ["FNDR", "PMU", "municipal"],
        "monto": [3_500_000_000, 820_000_000, 95_000_000],
        "año": [2024, 2025, 2026],
    }, geometry=geoms, crs=32719).to_crs(4326)
