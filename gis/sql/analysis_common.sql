-- Pieces shared by the analyses of gis/analysis (compliance, capacity, exposure).
-- {zoning} is the table of the zoning version analysed; {en_area} a condition on "pt"
-- (the parcel's point on surface) built by gis.analysis.common.area_condition.

-- name: zone_pieces
-- The zones of the version analysed, cut into small indexed pieces.
DROP TABLE IF EXISTS pg_temp.zone_pieces;
CREATE TEMP TABLE zone_pieces ON COMMIT DROP AS
SELECT codigo, ST_Subdivide(geom, %(vertices)s) AS geom FROM {zoning};
CREATE INDEX ON zone_pieces USING gist (geom);
ANALYZE zone_pieces;

-- name: parcel_zone
-- Every parcel of the area (with the attributes the analyses read, so that they need not
-- join the cadastre again; {lote}: its lot area, gis.analysis.capacity.lot_area_sql)
-- with the PRC zone holding most of its area: the zone whose
-- share is largest, provided it is not smaller than the part outside every zone (else
-- the parcel is outside the PRC: zona NULL). The parcels are found from the zone pieces
-- (an index scan of the parcels per piece: cheap where most parcels are rural); a piece
-- that covers a parcel counts its whole area without cutting it. The piece comes first
-- in ST_Covers / ST_Intersects so that PostGIS prepares it once for all its parcels, and
-- OFFSET 0 keeps the areas computed in that order (not after sorting by parcel).
-- {caja_pequena}: for a small area (a parcel's report) only the parcels in the area's
-- box, not every parcel of the pieces it touches (gis.analysis.common.small_area_box).
DROP TABLE IF EXISTS pg_temp.parcel_zone;
CREATE TEMP TABLE parcel_zone ON COMMIT DROP AS
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
SELECT p.fid, p.rol, p.direccion, p.destino, p.superficie_construida AS construida,
       p.avaluo_total AS avaluo, s.area, {lote} AS lote,
       CASE WHEN b.a > 0 AND b.a >= s.area - b.zoned THEN b.codigo END AS zona,
       CASE WHEN b.a > 0 AND b.a >= s.area - b.zoned
            THEN least(100.0 * b.a / nullif(s.area, 0), 100.0) END AS porcentaje_zona
FROM layers.parcels AS p
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(p.geom) AS pt, ST_Area(p.geom) AS area) AS s
LEFT JOIN best AS b ON b.fid = p.fid
WHERE {en_area};
ANALYZE parcel_zone;

-- name: parcel_sector
-- The planning sector holding each parcel's point on surface (for summaries by sector),
-- found from the sector pieces as the zones are.
DROP TABLE IF EXISTS pg_temp.sector_pieces;
CREATE TEMP TABLE sector_pieces ON COMMIT DROP AS
SELECT codigo, ST_Subdivide(geom, %(vertices)s) AS geom FROM layers.planning_sectors;
CREATE INDEX ON sector_pieces USING gist (geom);
ANALYZE sector_pieces;
DROP TABLE IF EXISTS pg_temp.parcel_sector;
CREATE TEMP TABLE parcel_sector ON COMMIT DROP AS
SELECT x.fid, min(x.codigo) AS sector
FROM (SELECT p.fid, sp.codigo
      FROM sector_pieces AS sp
      CROSS JOIN LATERAL (SELECT p.fid, p.geom FROM layers.parcels AS p
                          WHERE p.geom && sp.geom OFFSET 0) AS p
      WHERE ST_Intersects(sp.geom, ST_PointOnSurface(p.geom))) AS x
GROUP BY x.fid;
ANALYZE parcel_sector;
