-- Units of the raster zonal statistics (gis/analysis/zonal.py). Each returns: key,
-- name, area (m², inside the area analysed), x and y of a point on surface, the unit's
-- hex WKB when it must be rasterised (parcels: when {rasterizar}, a condition on "g"; other
-- units always, and it is also their output geometry) and, for parcels, the output
-- geometry ({geometry}: ", ST_AsBinary(...)" or nothing).
-- {en_area}: "lies in the area" on "pt" (parcels) or "geom"; {recorte}: "geom" clipped
-- to the area.

-- name: predio
SELECT p.rol, p.direccion, ST_Area(p.geom), ST_X(s.pt), ST_Y(s.pt),
       CASE WHEN {rasterizar} THEN encode(ST_AsBinary(p.geom), 'hex') END {geometry}
FROM layers.parcels AS p
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(p.geom) AS pt, p.geom AS g) AS s
WHERE {en_area}
ORDER BY p.rol COLLATE "C";

-- name: zona
SELECT u.codigo, u.nombre, ST_Area(u.g), ST_X(ST_PointOnSurface(u.g)),
       ST_Y(ST_PointOnSurface(u.g)), encode(ST_AsBinary(u.g), 'hex')
FROM (SELECT codigo, nombre, {recorte} AS g FROM {tabla} WHERE {en_area}) AS u
WHERE NOT ST_IsEmpty(u.g)
ORDER BY u.codigo;

-- name: sector
SELECT u.codigo, u.nombre, ST_Area(u.g), ST_X(ST_PointOnSurface(u.g)),
       ST_Y(ST_PointOnSurface(u.g)), encode(ST_AsBinary(u.g), 'hex')
FROM (SELECT codigo, nombre, {recorte} AS g FROM layers.planning_sectors
      WHERE {en_area}) AS u
WHERE NOT ST_IsEmpty(u.g)
ORDER BY u.codigo;

-- name: zona_censal
SELECT u.geocodigo, u.distrito, ST_Area(u.g), ST_X(ST_PointOnSurface(u.g)),
       ST_Y(ST_PointOnSurface(u.g)), encode(ST_AsBinary(u.g), 'hex')
FROM (SELECT geocodigo, distrito, {recorte} AS g FROM layers.census_zones
      WHERE {en_area}) AS u
WHERE NOT ST_IsEmpty(u.g)
ORDER BY u.geocodigo;
