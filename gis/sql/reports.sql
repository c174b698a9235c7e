-- Data of the printed reports (gis/reports): the features drawn on the static maps and
-- the portfolio rows of the Concejo report. Geometries in the storage CRS, as WKB.
-- Map queries take the window %(x0)s %(y0)s %(x1)s %(y1)s (metres, EPSG:32719) and clip
-- to it. Sections are separated by "-- name:".

-- name: map_project
SELECT ST_AsBinary(geom) FROM layers.projects WHERE codigo = %(codigo)s;

-- name: map_zoning
WITH w AS (SELECT ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 32719) AS box)
SELECT z.codigo, z.familia, ST_AsBinary(ST_ClipByBox2D(z.geom, w.box))
FROM layers.zoning AS z, w WHERE z.geom && w.box
ORDER BY z.codigo;

-- name: map_hazards
WITH w AS (SELECT ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 32719) AS box)
SELECT h.tipo, h.nivel, ST_AsBinary(ST_ClipByBox2D(h.geom, w.box))
FROM layers.hazard_zones AS h, w WHERE h.geom && w.box
ORDER BY array_position(%(levels)s::text[], h.nivel) DESC, h.tipo;

-- name: map_parcels
WITH w AS (SELECT ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 32719) AS box)
SELECT x.rol, ST_AsBinary(x.geom)
FROM layers.parcels AS x, w WHERE x.geom && w.box
LIMIT %(max_parcels)s;

-- name: map_routes
WITH w AS (SELECT ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 32719) AS box)
SELECT r.nombre, r.categoria, ST_AsBinary(ST_ClipByBox2D(r.geom, w.box))
FROM layers.port_routes AS r, w WHERE r.geom && w.box
ORDER BY r.nombre;

-- name: map_other_projects
WITH w AS (SELECT ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 32719) AS box)
SELECT p.codigo, p.sector, ST_AsBinary(ST_PointOnSurface(p.geom))
FROM layers.projects AS p, w WHERE p.geom && w.box AND p.codigo <> %(codigo)s
ORDER BY p.codigo;

-- name: portfolio
-- One row per project: its fields and its amounts (CLP), only the funding rows of
-- %(anio)s when given (then only projects with funding that year); the cost counts the
-- approved amount, or the requested one where nothing is approved yet (as monto_clp).
WITH f AS (
    SELECT codigo, sum(solicitado) AS solicitado, sum(aprobado) AS aprobado,
           sum(comprometido) AS comprometido, sum(ejecutado) AS ejecutado,
           sum(CASE WHEN aprobado > 0 THEN aprobado ELSE solicitado END) AS costo,
           array_agg(DISTINCT fuente ORDER BY fuente) AS fuentes
    FROM cartera.financiamiento
    WHERE %(anio)s::int IS NULL OR anio = %(anio)s::int
    GROUP BY codigo
)
SELECT p.codigo, p.nombre, p.sector, p.etapa, p.eje_pladeco, p.avance_fisico,
       coalesce(f.fuentes, '{}') AS fuentes,
       coalesce(f.costo, 0) AS costo, coalesce(f.solicitado, 0) AS solicitado,
       coalesce(f.aprobado, 0) AS aprobado, coalesce(f.comprometido, 0) AS comprometido,
       coalesce(f.ejecutado, 0) AS ejecutado,
       ST_AsBinary(ST_PointOnSurface(p.geom)) AS punto
FROM layers.projects AS p
LEFT JOIN f USING (codigo)
WHERE %(anio)s::int IS NULL OR f.codigo IS NOT NULL
ORDER BY p.codigo;
