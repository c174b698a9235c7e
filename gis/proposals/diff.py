"""Differences between two zonings (two versions, or a proposal and the version in force):
per zone, the area added and removed and the norms changed, as GeoJSON in lon/lat."""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from gis.proposals.geojson import to_lonlat_geojson
from gis.proposals.operations import NORM_FIELDS
from gis.proposals.validation import changed_zones, plain_value

MIN_AREA_M2 = 0.5


def zoning_diff(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: one feature per changed zone (its new shape, or the
    old one if deleted) with ``cambio``, ``normas_cambiadas``, ``agregado_m2`` and
    ``quitado_m2``; plus features for the added and removed pieces (``parte``)."""
    old = {r["codigo"]: r for _, r in before.iterrows()}
    new = {r["codigo"]: r for _, r in after.iterrows()}
    features: list[dict[str, Any]] = []
    for code in changed_zones(before, after):
        a, b = old.get(code), new.get(code)
        kind = "creada" if a is None else "eliminada" if b is None else "modificada"
        geom_a = a.geometry if a is not None else None
        geom_b = b.geometry if b is not None else None
        added = geom_b.difference(geom_a) if geom_a is not None and geom_b is not None \
            else geom_b
        removed = geom_a.difference(geom_b) if geom_a is not None and geom_b is not None \
            else geom_a
        norms = {}
        if a is not None and b is not None:
            for f in NORM_FIELDS:
                va, vb = plain_value(a.get(f.name)), plain_value(b.get(f.name))
                if va != vb:
                    norms[f.name] = {"titulo": f.title, "antes": va, "despues": vb}
        shape = geom_b if geom_b is not None else geom_a
        features.append({"type": "Feature", "geometry": to_lonlat_geojson(shape),
                         "properties": {
                             "codigo": code, "cambio": kind, "normas_cambiadas": norms,
                             "agregado_m2": round(added.area, 1) if added is not None else 0,
                             "quitado_m2": round(removed.area, 1) if removed is not None
                             else 0}})
        for part, geom in (("agregada", added), ("quitada", removed)):
            if geom is not None and not geom.is_empty and geom.area > MIN_AREA_M2 \
                    and kind == "modificada":
                features.append({"type": "Feature", "geometry": to_lonlat_geojson(geom),
                                 "properties": {"codigo": code, "parte": part,
                                                "area_m2": round(geom.area, 1)}})
    return {"type": "FeatureCollection", "features": features}
