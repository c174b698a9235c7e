-- Pieces shared by the analyses of gis/analysis (compliance, capacity, exposure).
-- {zoning} is the table of the zoning version analysed.

-- name: zone_pieces
-- The zones of the version analysed, cut into small indexed pieces.
DROP TABLE IF EXISTS pg_temp.zone_pieces;
CREATE TEMP TABLE zone_pieces ON COMMIT DROP AS
SELECT codigo, ST_Subdivide(geom, %(vertices)s) AS geom FROM {zoning};
CREATE INDEX ON zone_pieces USING gist (geom);
ANALYZE zone_pieces;

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
