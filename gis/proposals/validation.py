"""Whole-proposal validation: the proposed zoning is a clean partition of the urban area,
every zone's norms are complete and coherent, and policy flags are raised as warnings.

Errors block submission; warnings (residential use newly permitted in hazard zones, less
green area, changes in protected wetlands) are shown to reviewers. Every problem carries
the zone codes and, when it has a place, a geometry in lon/lat for the map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.proposals.operations import NORM_FIELDS, _value_problem
from layers.zoning import PEOPLE_PER_DWELLING

RESIDENTIAL = "residencial"
RISK_TYPES_FOR_HOUSING = ("tsunami", "inundación", "remoción en masa")
GREEN_FAMILIES = ("área verde", "protección")
WETLAND = "humedal protegido"


@dataclass
class Problem:
    kind: str
    """'error' or 'aviso'."""
    message: str
    zones: list[str] = field(default_factory=list)
    geometry: BaseGeometry | None = None

    def as_json(self) -> dict[str, Any]:
        from gis.proposals.geojson import to_lonlat_geojson

        data: dict[str, Any] = {"tipo": self.kind, "mensaje": self.message,
                                "zonas": self.zones}
        if self.geometry is not None and not self.geometry.is_empty:
            data["geometria"] = to_lonlat_geojson(self.geometry)
        return data


@dataclass
class ValidationResult:
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "aviso"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {"valida": self.ok, "errores": [p.as_json() for p in self.errors],
                "avisos": [p.as_json() for p in self.warnings]}


def validate_zoning(zones: gpd.GeoDataFrame, urban_area: BaseGeometry,
                    tolerance_m2: float) -> list[Problem]:
    """Geometry and norms of a whole zoning: valid polygons, inside the urban area, no
    overlaps or gaps above ``tolerance_m2`` (each reported where it is)."""
    problems: list[Problem] = []
    codes = zones["codigo"].tolist()
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        problems.append(Problem("error", "Códigos de zona repetidos: " + ", ".join(dupes),
                                dupes))
    geoms = zones.geometry.values
    for code, g in zip(codes, geoms, strict=True):
        if g is None or g.is_empty:
            problems.append(Problem("error", f"La zona {code} quedó sin superficie.", [code]))
        elif not g.is_valid:
            problems.append(Problem("error", f"La zona {code} no es un polígono válido: "
                                    f"{shapely.is_valid_reason(g)}.", [code], g))
    valid = [g if g is not None and g.is_valid else shapely.make_valid(g) for g in geoms]
    union = shapely.union_all(valid)
    for piece in _pieces(union.difference(urban_area), tolerance_m2):
        inside = [c for c, g in zip(codes, valid, strict=True) if g.intersects(piece)]
        problems.append(Problem("error", f"Superficie fuera del límite urbano "
                                f"({piece.area:,.0f} m²).".replace(",", "."), inside, piece))
    for gap in _pieces(urban_area.difference(union), tolerance_m2):
        near = [c for c, g in zip(codes, valid, strict=True) if g.distance(gap) < 1]
        problems.append(Problem("error", f"Vacío sin zona dentro del límite urbano "
                                f"({gap.area:,.0f} m²).".replace(",", "."), near, gap))
    tree = shapely.STRtree(valid)
    left, right = tree.query(valid, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        overlap = valid[i].intersection(valid[j])
        if overlap.area > tolerance_m2:
            problems.append(Problem("error", f"Las zonas {codes[i]} y {codes[j]} se "
                                    f"superponen en {overlap.area:,.0f} m².".replace(",", "."),
                                    [codes[i], codes[j]], overlap))
    for _, row in zones.iterrows():
        problems += norm_problems(row)
    return problems


def _pieces(geom: BaseGeometry, tolerance_m2: float) -> list[BaseGeometry]:
    parts = shapely.get_parts(shapely.make_valid(geom))
    return [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")
            and p.area > tolerance_m2]


def norm_problems(zone: Any) -> list[Problem]:
    """Completeness, ranges and coherence of one zone's norms (a row of the zoning)."""
    code = zone["codigo"]
    found = []
    for fld in NORM_FIELDS:
        value = plain_value(zone.get(fld.name))
        problem = _value_problem(fld, value)
        if problem:
            found.append(f"{fld.title}: {problem}")
    uses = plain_value(zone.get("usos_permitidos")) or []
    banned = set(plain_value(zone.get("usos_prohibidos")) or [])
    both = sorted(set(uses) & banned)
    if both:
        found.append("usos a la vez permitidos y prohibidos: " + ", ".join(both))
    height = plain_value(zone.get("altura_maxima"))
    if height is not None and height <= 0:
        found.append("la altura máxima debe ser mayor que 0")
    occupation = plain_value(zone.get("coef_ocupacion_suelo"))
    constructibility = plain_value(zone.get("coef_constructibilidad"))
    floors = plain_value(zone.get("pisos_maximos"))
    if occupation and constructibility is not None and floors and \
            constructibility > occupation * floors + 1e-9:
        found.append(f"la constructibilidad {constructibility:g} supera lo que permiten la "
                     f"ocupación de suelo {occupation:g} en {floors:g} pisos")
    density = plain_value(zone.get("densidad_maxima"))
    lot = plain_value(zone.get("superficie_predial_minima"))
    if RESIDENTIAL in uses:
        if not density:
            found.append("permite uso residencial pero no fija densidad máxima")
        elif lot:
            needed = PEOPLE_PER_DWELLING * 10_000 / lot
            if density < needed:
                found.append(f"la densidad {density:g} hab/ha no alcanza para una vivienda por "
                             f"predio mínimo de {lot:g} m² ({needed:.0f} hab/ha)")
    return [Problem("error", f"Zona {code}: {text}.", [code]) for text in found]


def plain_value(value: Any) -> Any:
    """A value of a GeoDataFrame cell as plain Python (arrays → lists, NaN → None)."""
    if isinstance(value, np.ndarray):
        return list(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is not None and not isinstance(value, list | str) and hasattr(value, "item"):
        return value.item()
    return value


def policy_warnings(base: gpd.GeoDataFrame, proposed: gpd.GeoDataFrame,
                    hazards: gpd.GeoDataFrame) -> list[Problem]:
    """Warnings for reviewers: housing newly allowed in hazard zones, less green area,
    changes inside protected wetlands."""
    warnings: list[Problem] = []
    risky = hazards[hazards["tipo"].isin(RISK_TYPES_FOR_HOUSING)]
    newly_residential = _residential_area(proposed).difference(_residential_area(base))
    for _, h in risky.iterrows():
        hit = newly_residential.intersection(h.geometry)
        if hit.area > 1:
            codes = _codes_over(proposed, hit)
            warnings.append(Problem("aviso", f"Se permite uso residencial en zona de riesgo de "
                                    f"{h['tipo']} (nivel {h['nivel']}) en "
                                    f"{hit.area / 10_000:,.2f} ha.".replace(",", "."),
                                    codes, hit))
    green_before = _family_area(base, GREEN_FAMILIES)
    green_after = _family_area(proposed, GREEN_FAMILIES)
    lost = green_before.difference(green_after)
    if lost.area > 1:
        warnings.append(Problem("aviso", f"Disminuyen las áreas verdes y de protección en "
                                f"{lost.area / 10_000:,.2f} ha.".replace(",", "."),
                                _codes_over(base, lost), lost))
    changed = _changed_area(base, proposed)
    for _, h in hazards[hazards["tipo"] == WETLAND].iterrows():
        hit = changed.intersection(h.geometry)
        if hit.area > 1:
            warnings.append(Problem("aviso", "La propuesta cambia la zonificación dentro de un "
                                    "humedal protegido (Ley 21.202).",
                                    _codes_over(proposed, hit), hit))
    return warnings


def _residential_area(zones: gpd.GeoDataFrame) -> BaseGeometry:
    mask = [RESIDENTIAL in (plain_value(u) or []) for u in zones["usos_permitidos"]]
    return shapely.union_all(zones.geometry.values[np.array(mask, bool)])


def _family_area(zones: gpd.GeoDataFrame, families: tuple[str, ...]) -> BaseGeometry:
    return shapely.union_all(zones.geometry.values[zones["familia"].isin(families).to_numpy()])


def _codes_over(zones: gpd.GeoDataFrame, area: BaseGeometry) -> list[str]:
    hits = zones.geometry.intersects(area) & (zones.geometry.intersection(area).area > 1)
    return sorted(zones.loc[hits, "codigo"].tolist())


def changed_zones(base: gpd.GeoDataFrame, proposed: gpd.GeoDataFrame) -> list[str]:
    """Codes whose geometry or norms differ between two zonings (added and removed too)."""
    names = [f.name for f in NORM_FIELDS]
    before = {r["codigo"]: r for _, r in base.iterrows()}
    after = {r["codigo"]: r for _, r in proposed.iterrows()}
    changed = set(before) ^ set(after)
    for code in set(before) & set(after):
        a, b = before[code], after[code]
        if any(plain_value(a.get(n)) != plain_value(b.get(n)) for n in names) or \
                a.geometry.symmetric_difference(b.geometry).area > 0.5:
            changed.add(code)
    return sorted(changed)


def _changed_area(base: gpd.GeoDataFrame, proposed: gpd.GeoDataFrame) -> BaseGeometry:
    codes = changed_zones(base, proposed)
    both = [*base.geometry[base["codigo"].isin(codes)],
            *proposed.geometry[proposed["codigo"].isin(codes)]]
    return shapely.union_all(both) if both else shapely.GeometryCollection()
