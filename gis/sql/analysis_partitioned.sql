-- The partitioned GeoParquet export of gis/analysis/partitioned.py: the parcels (whole, or
-- comuna by comuna) and the small layers the batch analyses broadcast to every partition.
-- Geometries travel as hex WKB in the query's last column.

-- name: parcels
-- With each parcel's envelope (for its place on the Hilbert curve and the partitions'
-- bounding boxes, without decoding the geometries) and its geometry as hex WKB.
SELECT p.fid, p.rol, p.direccion, p.destino, p.superficie_terreno, p.superficie_construida,
       p.avaluo_total, ST_XMin(p.geom), ST_YMin(p.geom), ST_XMax(p.geom), ST_YMax(p.geom),
       encode(ST_AsBinary(p.geom), 'hex')
FROM layers.parcels AS p;

-- name: parcel_comuna
-- The comuna holding each parcel's point on surface (NULL: none), from indexed pieces of
-- the comunas; the parcels are then read comuna by comuna (parcels_of_comuna).
DROP TABLE IF EXISTS pg_temp.comuna_pieces;
CREATE TEMP TABLE comuna_pieces ON COMMIT DROP AS
SELECT codigo_comuna, ST_Subdivide(geom, %(vertices)s) AS geom FROM layers.comunas;
CREATE INDEX ON comuna_pieces USING gist (geom);
ANALYZE comuna_pieces;
DROP TABLE IF EXISTS pg_temp.parcel_comuna;
CREATE TEMP TABLE parcel_comuna ON COMMIT DROP AS
SELECT p.fid, (SELECT min(c.codigo_comuna) FROM comuna_pieces AS c
               WHERE ST_Intersects(c.geom, s.pt)) AS comuna
FROM layers.parcels AS p
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(p.geom) AS pt) AS s;
CREATE INDEX ON parcel_comuna (comuna, fid);
ANALYZE parcel_comuna;

-- name: comunas
SELECT comuna, count(*) FROM parcel_comuna GROUP BY comuna ORDER BY comuna NULLS LAST;

-- name: parcels_of_comuna
SELECT p.fid, p.rol, p.direccion, p.destino, p.superficie_terreno, p.superficie_construida,
       p.avaluo_total, ST_XMin(p.geom), ST_YMin(p.geom), ST_XMax(p.geom), ST_YMax(p.geom),
       encode(ST_AsBinary(p.geom), 'hex')
FROM parcel_comuna AS pc JOIN layers.parcels AS p ON p.fid = pc.fid
WHERE pc.comuna IS NOT DISTINCT FROM %(comuna)s;

-- name: zoning
SELECT codigo, nombre, usos_permitidos, usos_prohibidos, superficie_predial_minima,
       densidad_maxima, coef_constructibilidad, coef_ocupacion_suelo, ST_AsBinary(geom)
FROM {table} ORDER BY codigo;

-- name: hazard_zones
SELECT tipo, nivel, ST_AsBinary(geom) FROM {table} ORDER BY fid;

-- name: census_zones
SELECT geocodigo, poblacion, ST_AsBinary(geom) FROM layers.census_zones ORDER BY geocodigo;

-- name: land_use
-- Only the land use the analyses read: security equipment (absent from SII).
SELECT fid, uso, ST_AsBinary(geom) FROM layers.land_use WHERE uso = %(seguridad)s ORDER BY fid;

-- name: projects
SELECT fid, codigo, monto_clp, ST_AsBinary(geom) FROM layers.projects ORDER BY fid;
