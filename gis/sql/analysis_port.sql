-- Port influence (gis/analysis/port.py). {routes}, {terminals}, {zoning}: the tables of the
-- versions analysed; {en_area*}: conditions "lies in the area"
-- (gis.analysis.common.area_condition); {recorte}: a census zone's part in the area.

-- name: references
-- The truck routes (port_routes.ruta_camiones) and the terminals, in indexed pieces.
DROP TABLE IF EXISTS pg_temp.port_references;
CREATE TEMP TABLE port_references ON COMMIT DROP AS
SELECT 'rutas de camiones'::text AS referencia, nombre, ST_Subdivide(geom, %(vertices)s) AS geom
FROM {routes} WHERE ruta_camiones
UNION ALL
SELECT 'terminales'::text, nombre, ST_Subdivide(geom, %(vertices)s) FROM {terminals};
CREATE INDEX ON port_references USING gist (geom);
ANALYZE port_references;

-- name: parcel_distances
-- Each parcel of the area with its distance (nearest part to nearest part) to the nearest
-- truck route and terminal (index-assisted nearest neighbour: <-> is the true distance).
DROP TABLE IF EXISTS pg_temp.parcel_port;
CREATE TEMP TABLE parcel_port ON COMMIT DROP AS
SELECT p.fid, p.rol, p.direccion, p.destino, ST_Area(p.geom) AS area,
       r.nombre AS ruta, r.d AS d_ruta, t.nombre AS terminal, t.d AS d_terminal
FROM layers.parcels AS p
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(p.geom) AS pt) AS s
LEFT JOIN LATERAL (SELECT x.nombre, ST_Distance(x.geom, p.geom) AS d FROM port_references AS x
                   WHERE x.referencia = 'rutas de camiones'
                   ORDER BY x.geom <-> p.geom LIMIT 1) AS r ON true
LEFT JOIN LATERAL (SELECT x.nombre, ST_Distance(x.geom, p.geom) AS d FROM port_references AS x
                   WHERE x.referencia = 'terminales'
                   ORDER BY x.geom <-> p.geom LIMIT 1) AS t ON true
WHERE {en_area};
ANALYZE parcel_port;

-- name: piece_distances
-- The residential pieces (profiles.residential_pieces) of the area, each with its share of
-- its census zone's people (the zone's population times the piece's part of the zone's
-- residential area) and its distance to the nearest truck route and terminal.
DROP TABLE IF EXISTS pg_temp.piece_port;
CREATE TEMP TABLE piece_port ON COMMIT DROP AS
SELECT r.geocodigo, coalesce(z.poblacion, 0) * r.area / w.area_residencial AS poblacion,
       dr.d AS d_ruta, dt.d AS d_terminal
FROM profiles.residential_pieces AS r
JOIN profiles.census_weights AS w ON w.geocodigo = r.geocodigo AND w.area_residencial > 0
JOIN layers.census_zones AS z ON z.geocodigo = r.geocodigo
LEFT JOIN LATERAL (SELECT ST_Distance(x.geom, r.geom) AS d FROM port_references AS x
                   WHERE x.referencia = 'rutas de camiones'
                   ORDER BY x.geom <-> r.geom LIMIT 1) AS dr ON true
LEFT JOIN LATERAL (SELECT ST_Distance(x.geom, r.geom) AS d FROM port_references AS x
                   WHERE x.referencia = 'terminales'
                   ORDER BY x.geom <-> r.geom LIMIT 1) AS dt ON true
WHERE {en_area_pieza};

-- name: influence
-- Per reference and band [desde, hasta): parcels by their distance, people of residential
-- pieces by theirs, and people of census zones without residential parcels by the share
-- of the zone's area (in the area) inside the band's ring around the reference.
WITH bands AS (
    SELECT b.desde, b.hasta, b.etiqueta, b.n
    FROM unnest(%(desde)s::float8[], %(hasta)s::float8[], %(etiquetas)s::text[])
         WITH ORDINALITY AS b(desde, hasta, etiqueta, n)
), refs AS (
    SELECT r.referencia, r.orden
    FROM unnest(%(referencias)s::text[]) WITH ORDINALITY AS r(referencia, orden)
), parcels AS (
    SELECT 'rutas de camiones'::text AS referencia, d_ruta AS d, destino, area FROM parcel_port
    UNION ALL
    SELECT 'terminales'::text, d_terminal, destino, area FROM parcel_port
), parcel_bands AS (
    SELECT p.referencia, b.n, count(*) AS predios,
           count(*) FILTER (WHERE p.destino = %(residencial)s) AS residenciales,
           sum(p.area) AS superficie,
           count(*) FILTER (WHERE p.destino = %(educacion)s) AS educacion,
           count(*) FILTER (WHERE p.destino = %(salud)s) AS salud
    FROM parcels AS p JOIN bands AS b ON p.d >= b.desde AND p.d < b.hasta
    GROUP BY p.referencia, b.n
), pieces AS (
    SELECT 'rutas de camiones'::text AS referencia, d_ruta AS d, poblacion FROM piece_port
    UNION ALL
    SELECT 'terminales'::text, d_terminal, poblacion FROM piece_port
), piece_bands AS (
    SELECT p.referencia, b.n, sum(p.poblacion) AS poblacion
    FROM pieces AS p JOIN bands AS b ON p.d >= b.desde AND p.d < b.hasta
    GROUP BY p.referencia, b.n
), unions AS (
    SELECT referencia, ST_Union(geom) AS geom FROM port_references GROUP BY referencia
), rings AS (
    SELECT u.referencia, b.n,
           CASE WHEN b.desde <= 0 THEN ST_Buffer(u.geom, b.hasta)
                ELSE ST_Difference(ST_Buffer(u.geom, b.hasta), ST_Buffer(u.geom, b.desde))
           END AS geom
    FROM unions AS u CROSS JOIN bands AS b
), plain AS (
    SELECT g.referencia, g.n,
           sum(coalesce(z.poblacion, 0) * ST_Area(ST_Intersection({recorte}, g.geom))
               / nullif(ST_Area(z.geom), 0)) AS poblacion
    FROM rings AS g
    JOIN layers.census_zones AS z ON ST_Intersects(z.geom, g.geom)
    LEFT JOIN profiles.census_weights AS w ON w.geocodigo = z.geocodigo
    WHERE coalesce(w.area_residencial, 0) = 0
    GROUP BY g.referencia, g.n
)
SELECT r.referencia, b.etiqueta, b.desde, b.hasta, coalesce(p.predios, 0),
       coalesce(p.residenciales, 0), round(coalesce(p.superficie, 0)::numeric, 1)::float8,
       round((coalesce(pb.poblacion, 0) + coalesce(pl.poblacion, 0))::numeric, 1)::float8,
       coalesce(p.educacion, 0), coalesce(p.salud, 0)
FROM refs AS r CROSS JOIN bands AS b
LEFT JOIN parcel_bands AS p ON p.referencia = r.referencia AND p.n = b.n
LEFT JOIN piece_bands AS pb ON pb.referencia = r.referencia AND pb.n = b.n
LEFT JOIN plain AS pl ON pl.referencia = r.referencia AND pl.n = b.n
ORDER BY r.orden, b.n;

-- name: route_vertices
-- The vertices of every truck route (densified to at most %(paso)s m apart when paso > 0),
-- in order along each part, and the node each one is snapped to: vertices closer than
-- %(tolerancia)s m (chained) are one node (ST_ClusterDBSCAN; placed at their mean).
WITH v AS (
    SELECT r.fid, d.path[1] AS parte, d.path[2] AS i, d.geom
    FROM {routes} AS r
    CROSS JOIN LATERAL ST_DumpPoints(ST_Multi(CASE WHEN %(paso)s::float8 > 0
        THEN ST_Segmentize(r.geom, %(paso)s::float8) ELSE r.geom END)) AS d
    WHERE r.ruta_camiones
), c AS (
    SELECT v.*, ST_ClusterDBSCAN(v.geom, eps := %(tolerancia)s::float8, minpoints := 1)
                    OVER () AS nodo
    FROM v
)
SELECT c.fid, c.parte, c.i, c.nodo, ST_X(c.geom), ST_Y(c.geom)
FROM c ORDER BY c.fid, c.parte, c.i;

-- name: network_nodes
-- The nodes reached from a terminal over the network (distance and terminal filled by
-- gis/analysis/port.py), for the nearest-node search of each parcel.
DROP TABLE IF EXISTS pg_temp.network_nodes;
CREATE TEMP TABLE network_nodes (nodo bigint, x float8, y float8, distancia float8,
                                 terminal text) ON COMMIT DROP;

-- name: index_nodes
ALTER TABLE network_nodes ADD COLUMN geom geometry(Point, 32719);
UPDATE network_nodes SET geom = ST_SetSRID(ST_MakePoint(x, y), 32719);
CREATE INDEX ON network_nodes USING gist (geom);
ANALYZE network_nodes;

-- name: terminal_nodes
-- Nodes within %(alcance)s m of each terminal (the network reaches the terminal there).
SELECT t.nombre, n.nodo
FROM {terminals} AS t JOIN network_nodes AS n ON ST_DWithin(t.geom, n.geom, %(alcance)s)
ORDER BY t.nombre, n.nodo;

-- name: terminal_names
SELECT DISTINCT nombre FROM {terminals} ORDER BY nombre;

-- name: distances
-- Each parcel with its distances, bands (from the bands given) and along-network distance:
-- to its nearest node reached from a terminal, then along the network to the terminal.
WITH bands AS (
    SELECT b.desde, b.hasta, b.etiqueta
    FROM unnest(%(desde)s::float8[], %(hasta)s::float8[], %(etiquetas)s::text[])
         AS b(desde, hasta, etiqueta)
)
SELECT c.rol, c.direccion, c.destino,
       round(c.d_ruta::numeric, 1)::float8, c.ruta,
       (SELECT b.etiqueta FROM bands AS b WHERE c.d_ruta >= b.desde AND c.d_ruta < b.hasta),
       round(c.d_terminal::numeric, 1)::float8, c.terminal,
       (SELECT b.etiqueta FROM bands AS b
        WHERE c.d_terminal >= b.desde AND c.d_terminal < b.hasta),
       round(n.acceso::numeric, 1)::float8, round(n.distancia::numeric, 1)::float8,
       round((n.acceso + n.distancia)::numeric, 1)::float8, n.terminal
       {geometry}
FROM parcel_port AS c
JOIN layers.parcels AS p ON p.fid = c.fid
LEFT JOIN LATERAL (
    SELECT ST_Distance(x.geom, p.geom) AS acceso, x.distancia, x.terminal
    FROM network_nodes AS x ORDER BY x.geom <-> p.geom LIMIT 1
) AS n ON true
ORDER BY c.rol;

-- name: residential_crossings
-- The truck routes' parts inside each residential zone (of the families given, or also
-- permitting the residential use when %(por_uso)s) within the area:
-- their length (overlapping routes counted once), the routes, their trucks per day, and
-- truck-kilometres per day (each route's length inside times its trucks per day).
WITH r AS (
    SELECT nombre, camiones_dia, geom FROM {routes} WHERE ruta_camiones
), parts AS (
    SELECT z.codigo, z.nombre, z.familia, ST_Area(z.geom) AS superficie, r.nombre AS ruta,
           r.camiones_dia, {recorte} AS geom
    FROM {zoning} AS z JOIN r ON ST_Intersects(z.geom, r.geom)
    WHERE z.familia = ANY(%(familias)s::text[])
       OR (%(por_uso)s AND %(uso)s = ANY(z.usos_permitidos))
), kept AS (
    SELECT * FROM parts WHERE ST_Length(geom) > 0
)
SELECT codigo, min(nombre), min(familia), round(min(superficie)::numeric, 1)::float8,
       round(ST_Length(ST_Union(geom))::numeric, 1)::float8,
       count(DISTINCT ruta), string_agg(DISTINCT ruta, '; ' ORDER BY ruta), max(camiones_dia),
       round(sum(ST_Length(geom) / 1000.0 * coalesce(camiones_dia, 0))::numeric, 1)::float8
       {geometry}
FROM kept
GROUP BY codigo
ORDER BY codigo;
