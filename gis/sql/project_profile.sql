-- Territorial profile of investment projects, computed where the data lives.
-- Every section takes %(codigos)s (project codes) and returns one row per project:
-- (codigo, data jsonb). Shares are measured in the project's own dimension with
-- profiles.measure: area for polygons, length for lines, number of points for points.
-- Fast path everywhere: a geometry covered by the other is measured whole, without
-- computing an intersection. Sections are separated by "-- name:".

-- name: proyecto
SELECT p.codigo,
       jsonb_build_object(
           'codigo', p.codigo, 'nombre', p.nombre, 'sector', p.sector, 'etapa', p.etapa,
           'fuentes', p.fuentes, 'monto_clp', p.monto_clp,
           'anio', p.anio, 'clase_oguc', %(classes)s::jsonb ->> p.sector,
           'geometria', CASE ST_Dimension(p.geom) WHEN 2 THEN 'polígono'
                                                  WHEN 1 THEN 'línea' ELSE 'punto' END,
           'medida', round(profiles.measure(p.geom, ST_Dimension(p.geom))::numeric, 1),
           'unidad', CASE ST_Dimension(p.geom) WHEN 2 THEN 'm²' WHEN 1 THEN 'm'
                                               ELSE 'puntos' END) AS data
FROM layers.projects AS p
WHERE p.codigo = ANY(%(codigos)s);

-- name: zonas_prc
-- The norms of each zone met are turned into JSON once per zone (not per project: the
-- conversion of a row carries its geometry, dropped afterwards).
WITH p AS (
    SELECT codigo, geom, ST_Dimension(geom) AS dim,
           profiles.measure(geom, ST_Dimension(geom)) AS total,
           %(classes)s::jsonb ->> sector AS clase
    FROM layers.projects WHERE codigo = ANY(%(codigos)s)
), hits AS (
    SELECT p.codigo AS proyecto, p.total, p.clase, z.fid, z.codigo, z.nombre, z.familia,
           z.usos_permitidos, z.usos_prohibidos,
           CASE WHEN ST_CoveredBy(p.geom, z.geom) THEN p.total
                ELSE profiles.measure(ST_Intersection(z.geom, p.geom), p.dim) END AS medida
    FROM p JOIN layers.zoning AS z ON ST_Intersects(z.geom, p.geom)
), normas AS MATERIALIZED (
    SELECT z.fid, to_jsonb(z) - 'fid' - 'geom' - 'codigo' - 'nombre' - 'familia' AS normas
    FROM layers.zoning AS z WHERE z.fid IN (SELECT h.fid FROM hits AS h WHERE h.medida > 0)
), agg AS (
    SELECT h.proyecto, jsonb_agg(jsonb_build_object(
               'codigo', h.codigo, 'nombre', h.nombre, 'familia', h.familia,
               'porcentaje', round((100 * h.medida / nullif(h.total, 0))::numeric, 2),
               'medida', round(h.medida::numeric, 1),
               'uso', CASE WHEN h.clase IS NULL THEN 'no indicado'
                           WHEN h.clase = ANY(h.usos_prohibidos) THEN 'prohibido'
                           WHEN h.clase = ANY(h.usos_permitidos) THEN 'permitido'
                           ELSE 'no indicado' END,
               'normas', n.normas)
               ORDER BY h.medida DESC, h.codigo) AS zonas
    FROM hits AS h JOIN normas AS n ON n.fid = h.fid
    WHERE h.medida > 0 GROUP BY h.proyecto
)
SELECT p.codigo, coalesce(a.zonas, '[]') AS data
FROM p LEFT JOIN agg AS a ON a.proyecto = p.codigo;

-- name: uso_de_suelo
WITH p AS (
    SELECT codigo, geom, ST_Dimension(geom) AS dim,
           profiles.measure(geom, ST_Dimension(geom)) AS total
    FROM layers.projects WHERE codigo = ANY(%(codigos)s)
), hits AS (
    SELECT p.codigo AS proyecto, p.total, u.uso, u.manzana,
           CASE WHEN ST_CoveredBy(p.geom, u.geom) THEN p.total
                ELSE profiles.measure(ST_Intersection(u.geom, p.geom), p.dim) END AS medida
    FROM p JOIN layers.land_use AS u ON ST_Intersects(u.geom, p.geom)
), by_use AS (
    SELECT h.proyecto, h.uso, min(h.total) AS total, sum(h.medida) AS medida,
           array_remove(array_agg(DISTINCT h.manzana), NULL) AS manzanas
    FROM hits AS h WHERE h.medida > 0 GROUP BY h.proyecto, h.uso
), agg AS (
    SELECT s.proyecto, jsonb_agg(jsonb_build_object(
               'uso', s.uso, 'medida', round(s.medida::numeric, 1),
               'porcentaje', round((100 * s.medida / nullif(s.total, 0))::numeric, 2),
               'manzanas', s.manzanas) ORDER BY s.medida DESC, s.uso) AS usos
    FROM by_use AS s GROUP BY s.proyecto
)
SELECT p.codigo, coalesce(a.usos, '[]') AS data
FROM p LEFT JOIN agg AS a ON a.proyecto = p.codigo;

-- name: predios
WITH p AS (
    SELECT codigo, geom, ST_Dimension(geom) AS dim
    FROM layers.projects WHERE codigo = ANY(%(codigos)s)
), hits AS (
    SELECT p.codigo AS proyecto, x.rol, x.destino, x.direccion,
           ST_Area(x.geom) AS superficie, p.dim,
           CASE WHEN p.dim = 2 AND ST_CoveredBy(x.geom, p.geom) THEN ST_Area(x.geom)
                ELSE profiles.measure(ST_Intersection(x.geom, p.geom), p.dim) END AS medida,
           row_number() OVER (PARTITION BY p.codigo ORDER BY x.rol) AS n
    FROM p JOIN layers.parcels AS x ON ST_Intersects(x.geom, p.geom)
), by_destino AS (
    SELECT d.proyecto, jsonb_object_agg(d.destino, d.n ORDER BY d.destino) AS destinos
    FROM (SELECT proyecto, coalesce(destino, 'sin destino') AS destino, count(*) AS n
          FROM hits GROUP BY 1, 2) AS d
    GROUP BY d.proyecto
), agg AS (
    SELECT h.proyecto, count(*) AS total, sum(h.medida) AS medida,
           jsonb_agg(jsonb_build_object(
               'rol', h.rol, 'destino', h.destino,
               'destino_nombre', %(destinos)s::jsonb ->> h.destino,
               'direccion', h.direccion,
               'superficie_m2', round(h.superficie::numeric, 1),
               'medida_afectada', round(h.medida::numeric, 1),
               'porcentaje_predio', CASE WHEN h.dim = 2 THEN
                   round((100 * h.medida / nullif(h.superficie, 0))::numeric, 2) END)
               ORDER BY h.rol) FILTER (WHERE h.n <= %(max_parcels)s) AS predios
    FROM hits AS h GROUP BY h.proyecto
)
SELECT p.codigo,
       jsonb_build_object(
           'total', coalesce(a.total, 0),
           'superficie_afectada_m2', CASE WHEN p.dim = 2 THEN
                round(coalesce(a.medida, 0)::numeric, 1) END,
           'destinos', coalesce(d.destinos, '{}'),
           'predios', coalesce(a.predios, '[]'),
           'truncado', coalesce(a.total, 0) > %(max_parcels)s) AS data
FROM p LEFT JOIN agg AS a ON a.proyecto = p.codigo
LEFT JOIN by_destino AS d ON d.proyecto = p.codigo;

-- name: riesgos
WITH p AS (
    SELECT codigo, geom, ST_Dimension(geom) AS dim,
           profiles.measure(geom, ST_Dimension(geom)) AS total
    FROM layers.projects WHERE codigo = ANY(%(codigos)s)
), hits AS (
    SELECT p.codigo AS proyecto, p.total, h.tipo, h.nivel, h.fuente_estudio,
           CASE WHEN ST_CoveredBy(p.geom, h.geom) THEN p.total
                ELSE profiles.measure(ST_Intersection(h.geom, p.geom), p.dim) END AS medida
    FROM p JOIN layers.hazard_zones AS h ON ST_Intersects(h.geom, p.geom)
), by_level AS (
    SELECT h.proyecto, h.tipo, h.nivel, min(h.total) AS total, sum(h.medida) AS medida,
           min(h.fuente_estudio) AS fuente
    FROM hits AS h WHERE h.medida > 0 GROUP BY h.proyecto, h.tipo, h.nivel
), agg AS (
    SELECT s.proyecto, jsonb_agg(jsonb_build_object(
               'tipo', s.tipo, 'nivel', s.nivel, 'medida', round(s.medida::numeric, 1),
               'porcentaje', round((100 * s.medida / nullif(s.total, 0))::numeric, 2),
               'fuente_estudio', s.fuente)
               ORDER BY s.tipo, array_position(%(levels)s::text[], s.nivel)) AS riesgos
    FROM by_level AS s GROUP BY s.proyecto
)
SELECT p.codigo, coalesce(a.riesgos, '[]') AS data
FROM p LEFT JOIN agg AS a ON a.proyecto = p.codigo;

-- name: huella_raster
-- Where raster statistics are taken: the footprint of a polygon, a buffer otherwise.
SELECT codigo,
       ST_AsBinary(CASE WHEN ST_Dimension(geom) = 2 THEN geom
                        ELSE ST_Buffer(geom, %(raster_buffer)s) END) AS data,
       ST_Dimension(geom) < 2 AS buffered
FROM layers.projects WHERE codigo = ANY(%(codigos)s);

-- name: puerto
WITH p AS (SELECT codigo, geom FROM layers.projects WHERE codigo = ANY(%(codigos)s))
SELECT p.codigo,
       jsonb_build_object(
           'ruta_cercana', (
               SELECT jsonb_build_object('nombre', r.nombre, 'categoria', r.categoria,
                                         'camiones_dia', r.camiones_dia,
                                         'ruta_camiones', r.ruta_camiones,
                                         'distancia_m', round(d.m::numeric, 1))
               FROM layers.port_routes AS r
               CROSS JOIN LATERAL (SELECT ST_Distance(r.geom, p.geom) AS m) AS d
               ORDER BY d.m, r.nombre LIMIT 1),
           'banda_camiones', jsonb_build_object(
               'ancho_m', %(band)s::float8,
               'dentro', EXISTS (SELECT 1 FROM layers.port_routes AS r
                                 WHERE r.ruta_camiones AND ST_DWithin(r.geom, p.geom, %(band)s)),
               'rutas', coalesce((SELECT jsonb_agg(r.nombre ORDER BY r.nombre)
                                  FROM layers.port_routes AS r
                                  WHERE r.ruta_camiones
                                    AND ST_DWithin(r.geom, p.geom, %(band)s)), '[]')),
           'terminal_cercano', (
               SELECT jsonb_build_object('nombre', t.nombre, 'estado', t.estado,
                                         'tipo_carga', t.tipo_carga,
                                         'distancia_m', round(d.m::numeric, 1))
               FROM layers.port_terminals AS t
               CROSS JOIN LATERAL (SELECT ST_Distance(t.geom, p.geom) AS m) AS d
               ORDER BY d.m, t.nombre LIMIT 1)) AS data
FROM p;

-- name: territorio
WITH p AS (
    SELECT codigo, geom, ST_Dimension(geom) AS dim,
           profiles.measure(geom, ST_Dimension(geom)) AS total
    FROM layers.projects WHERE codigo = ANY(%(codigos)s)
)
SELECT p.codigo,
       jsonb_build_object(
           'zonas_censales', coalesce((
               SELECT jsonb_agg(jsonb_build_object(
                          'geocodigo', c.geocodigo, 'distrito', c.distrito,
                          'poblacion', c.poblacion,
                          'porcentaje', round((100 * c.medida / nullif(p.total, 0))::numeric, 2))
                      ORDER BY c.medida DESC, c.geocodigo)
               FROM (SELECT z.geocodigo, z.distrito, z.poblacion,
                            CASE WHEN ST_CoveredBy(p.geom, z.geom) THEN p.total
                                 ELSE profiles.measure(ST_Intersection(z.geom, p.geom), p.dim)
                            END AS medida
                     FROM layers.census_zones AS z WHERE ST_Intersects(z.geom, p.geom)) AS c
               WHERE c.medida > 0), '[]'),
           'sectores', coalesce((
               SELECT jsonb_agg(jsonb_build_object(
                          'codigo', s.codigo, 'nombre', s.nombre,
                          'porcentaje', round((100 * s.medida / nullif(p.total, 0))::numeric, 2))
                      ORDER BY s.medida DESC, s.codigo)
               FROM (SELECT z.codigo, z.nombre,
                            CASE WHEN ST_CoveredBy(p.geom, z.geom) THEN p.total
                                 ELSE profiles.measure(ST_Intersection(z.geom, p.geom), p.dim)
                            END AS medida
                     FROM layers.planning_sectors AS z
                     WHERE ST_Intersects(z.geom, p.geom)) AS s
               WHERE s.medida > 0), '[]')) AS data
FROM p;

-- name: poblacion_servida
-- For each census zone meeting the buffer: its population times the share of its
-- residential parcel area inside the buffer; plain area share when it has none.
-- The residential area inside a buffer is summed from the grid of
-- profiles.residential_cells: a cell wholly within the radius counts whole (its centre is
-- within radius - its own radius of the project); only the pieces of the cells on the
-- radius's edge are looked at, and of these only those on the edge itself are cut (a
-- piece whose centre is within radius - its own radius lies wholly inside). A radius
-- shorter than a cell's or a piece's own is never "wholly inside".
-- The buffers are materialised so that PostGIS prepares each one once.
WITH b AS MATERIALIZED (
    SELECT p.codigo, r.radio, p.geom AS project, ST_Buffer(p.geom, r.radio) AS geom
    FROM layers.projects AS p CROSS JOIN unnest(%(radios)s::int[]) AS r(radio)
    WHERE p.codigo = ANY(%(codigos)s)
), cells AS MATERIALIZED (
    SELECT b.codigo, b.radio, c.celda, c.geocodigo, c.area,
           CASE WHEN c.radio <= b.radio
                THEN ST_DWithin(c.centro, b.project, b.radio - c.radio) END AS whole
    FROM b JOIN profiles.residential_cells AS c ON ST_DWithin(c.geom, b.project, b.radio)
), inside AS (
    SELECT c.codigo, c.radio, c.geocodigo, c.area FROM cells AS c WHERE c.whole
    UNION ALL
    SELECT b.codigo, b.radio, rp.geocodigo,
           CASE WHEN CASE WHEN rp.radio <= b.radio
                          THEN ST_DWithin(rp.centro, b.project, b.radio - rp.radio) END
                THEN rp.area ELSE ST_Area(ST_Intersection(rp.geom, b.geom)) END
    FROM cells AS c
    JOIN b ON b.codigo = c.codigo AND b.radio = c.radio
    JOIN profiles.residential_pieces AS rp ON rp.celda = c.celda AND rp.geocodigo = c.geocodigo
    WHERE c.whole IS NOT true AND ST_DWithin(rp.geom, b.project, b.radio)
), res AS (
    SELECT i.codigo, i.radio, i.geocodigo, sum(i.area) AS area
    FROM inside AS i GROUP BY i.codigo, i.radio, i.geocodigo
), shares AS (
    SELECT b.codigo, b.radio, z.geocodigo, coalesce(z.poblacion, 0) AS poblacion,
           coalesce(w.area_residencial, 0) > 0 AS ponderada,
           CASE WHEN coalesce(w.area_residencial, 0) > 0
                THEN coalesce(res.area, 0) / w.area_residencial
                ELSE ST_Area(ST_Intersection(z.geom, b.geom)) / nullif(ST_Area(z.geom), 0)
           END AS fraccion
    FROM b
    JOIN layers.census_zones AS z ON ST_Intersects(z.geom, b.geom)
    LEFT JOIN profiles.census_weights AS w ON w.geocodigo = z.geocodigo
    LEFT JOIN res ON res.codigo = b.codigo AND res.radio = b.radio
                 AND res.geocodigo = z.geocodigo
), radios AS (
    SELECT s.codigo, s.radio, sum(s.poblacion * coalesce(s.fraccion, 0)) AS poblacion,
           jsonb_agg(jsonb_build_object(
               'geocodigo', s.geocodigo, 'poblacion_zona', s.poblacion,
               'fraccion', round(coalesce(s.fraccion, 0)::numeric, 4),
               'metodo', CASE WHEN s.ponderada THEN 'predios residenciales'
                              ELSE 'superficie' END,
               'poblacion', round((s.poblacion * coalesce(s.fraccion, 0))::numeric, 1))
               ORDER BY s.geocodigo) AS zonas
    FROM shares AS s GROUP BY s.codigo, s.radio
), agg AS (
    SELECT r.codigo, jsonb_object_agg('radio_' || r.radio || '_m', jsonb_build_object(
               'radio_m', r.radio, 'poblacion', round(r.poblacion::numeric),
               'zonas', r.zonas)) AS data
    FROM radios AS r GROUP BY r.codigo
)
SELECT p.codigo, coalesce(a.data, '{}') AS data
FROM layers.projects AS p LEFT JOIN agg AS a ON a.codigo = p.codigo
WHERE p.codigo = ANY(%(codigos)s);

-- name: proyectos_cercanos
WITH p AS (SELECT codigo, geom FROM layers.projects WHERE codigo = ANY(%(codigos)s))
SELECT p.codigo,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'codigo', o.codigo, 'nombre', o.nombre, 'sector', o.sector,
                     'etapa', o.etapa, 'distancia_m', round(d.m::numeric, 1))
                     ORDER BY d.m, o.codigo)
                 FROM layers.projects AS o
                 CROSS JOIN LATERAL (SELECT ST_Distance(o.geom, p.geom) AS m) AS d
                 WHERE o.codigo <> p.codigo
                   AND ST_DWithin(o.geom, p.geom, %(radio_proyectos)s)), '[]') AS data
FROM p;

-- name: build_residential
-- Residential parcels cut by census zone (in the order of the grid cell holding their
-- centre, so that a cell's pieces are read together), the cells with their total area,
-- and each zone's residential area. Cell key: column * 10^7 + row of the grid (cells of
-- gis.profile.RESIDENTIAL_CELL_M metres).
DELETE FROM profiles.residential_pieces;
INSERT INTO profiles.residential_pieces (geocodigo, area, centro, radio, geom, celda)
SELECT c.geocodigo, ST_Area(c.g), c.centro, ST_MaxDistance(c.centro, c.g), c.g,
       floor(ST_X(c.centro) / %(celda_m)s::float8)::bigint * 10000000
       + floor(ST_Y(c.centro) / %(celda_m)s::float8)::bigint AS celda
FROM (
    SELECT s.geocodigo, s.g, ST_Centroid(s.g) AS centro
    FROM (SELECT z.geocodigo,
                 CASE WHEN ST_CoveredBy(x.geom, z.geom) THEN x.geom
                      ELSE ST_CollectionExtract(ST_Intersection(x.geom, z.geom), 3) END AS g
          FROM layers.parcels AS x
          JOIN layers.census_zones AS z ON ST_Intersects(x.geom, z.geom)
          WHERE x.destino = 'H') AS s
    WHERE ST_Area(s.g) > 0
) AS c
ORDER BY celda;
ANALYZE profiles.residential_pieces;
DELETE FROM profiles.residential_cells;
INSERT INTO profiles.residential_cells (celda, geocodigo, area, piezas, centro, radio, geom)
SELECT k.celda, k.geocodigo, sum(k.area), count(*), k.centro,
       max(ST_Distance(k.centro, k.pieza) + k.radio),
       ST_SetSRID(ST_Extent(k.geom)::geometry, 32719)
FROM (SELECT rp.celda, rp.geocodigo, rp.area, rp.centro AS pieza, rp.radio, rp.geom,
             ST_SetSRID(ST_MakePoint(
                 (rp.celda / 10000000 + 0.5) * %(celda_m)s::float8,
                 (rp.celda %% 10000000 + 0.5) * %(celda_m)s::float8), 32719) AS centro
      FROM profiles.residential_pieces AS rp) AS k
GROUP BY k.celda, k.geocodigo, k.centro;
ANALYZE profiles.residential_cells;
DELETE FROM profiles.census_weights;
INSERT INTO profiles.census_weights (geocodigo, area_residencial)
SELECT z.geocodigo, coalesce(sum(r.area), 0)
FROM layers.census_zones AS z
LEFT JOIN profiles.residential_pieces AS r ON r.geocodigo = z.geocodigo
GROUP BY z.geocodigo;
