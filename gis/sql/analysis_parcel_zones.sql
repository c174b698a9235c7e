-- The PRC zone of each parcel (gis/analysis/zone_assignment.py), shared by compliance and
-- capacity. Needs zone_pieces (analysis_common.sql) to compute it.

-- name: zone_of_parcel
-- Each parcel with the zone holding most of its area: the zone whose share is largest,
-- provided it is not smaller than the part outside every zone (else the parcel is outside
-- the PRC and has no row). The parcels are found from the zone pieces (an index scan of
-- the parcels per piece: cheap where most parcels are rural); a piece that covers a
-- parcel counts its whole area without cutting it. The piece comes first in ST_Covers /
-- ST_Intersects so that PostGIS prepares it once for all its parcels, and OFFSET 0 keeps
-- the areas computed in that order (not after sorting by parcel).
-- pieza_en_area: only the pieces meeting the area; caja_pequena: for a small area (a
-- parcel's report) only the parcels in the area's box, not every parcel of the pieces it
-- touches (both true for the whole comuna).
WITH hits AS (
    SELECT x.fid, z.codigo, sum(x.a) AS a
    FROM zone_pieces AS z
    CROSS JOIN LATERAL (
        SELECT p.fid, CASE WHEN ST_Covers(z.geom, p.geom) THEN ST_Area(p.geom)
                           ELSE ST_Area(ST_Intersection(p.geom, z.geom)) END AS a
        FROM layers.parcels AS p WHERE ST_Intersects(z.geom, p.geom) AND {caja_pequena}
        OFFSET 0
    ) AS x
    WHERE {pieza_en_area}
    GROUP BY x.fid, z.codigo
), best AS (
    SELECT DISTINCT ON (fid) fid, codigo, a, sum(a) OVER (PARTITION BY fid) AS zoned
    FROM hits ORDER BY fid, a DESC, codigo
)
SELECT b.fid, b.codigo AS zona,
       coalesce(least(100.0 * b.a / nullif(s.area, 0), 100.0), 100.0) AS porcentaje_zona
FROM best AS b
JOIN layers.parcels AS p ON p.fid = b.fid
CROSS JOIN LATERAL (SELECT ST_Area(p.geom) AS area) AS s
WHERE b.a > 0 AND b.a >= s.area - b.zoned

-- name: store
-- The stored zones of one zoning version, replaced by those of the whole comuna.
DELETE FROM profiles.parcel_zones WHERE version = %(version)s;
INSERT INTO profiles.parcel_zones (version, fid, zona, porcentaje_zona)
SELECT %(version)s, z.fid, z.zona, z.porcentaje_zona FROM ({zone_of_parcel}) AS z;
ANALYZE profiles.parcel_zones

-- name: local
-- The zones of a small area's parcels, computed for that area only.
DROP TABLE IF EXISTS pg_temp.local_zones;
CREATE TEMP TABLE local_zones ON COMMIT DROP AS {zone_of_parcel}

-- name: parcel_zone
-- Every parcel of the area, with the attributes the analyses read (so that they need not
-- join the cadastre again; lote: its lot area, gis.analysis.capacity.lot_area_sql) and
-- its zone from the zones given (fid, zona, porcentaje_zona; NULL: outside the PRC),
-- filtered by a condition on "pt", the parcel's point on surface
-- (gis.analysis.common.area_condition).
SELECT p.fid, p.rol, p.direccion, p.destino, p.superficie_construida AS construida,
       p.avaluo_total AS avaluo, s.area, {lote} AS lote, z.zona, z.porcentaje_zona
FROM layers.parcels AS p
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(p.geom) AS pt, ST_Area(p.geom) AS area) AS s
LEFT JOIN {zones} AS z ON z.fid = p.fid
WHERE {en_area}
