-- The territorial report of one parcel or point (gis/analysis/report.py): a few indexed
-- lookups around one geometry, never a whole-comuna analysis. %(geom)s is the subject
-- (the parcel's polygon, or the point) and %(punto)s its reference point (the parcel's
-- point on surface, or the point), both WKB in EPSG:32719. Shares are of the parcel's
-- area; a point counts whole in what contains it. Sections are separated by "-- name:".

-- name: parcel_by_rol
SELECT p.rol, p.direccion, p.destino, p.serie, p.superficie_terreno,
       p.superficie_construida, p.avaluo_terreno, p.avaluo_construccion, p.avaluo_total,
       ST_Area(p.geom) AS superficie_geometrica, ST_AsBinary(p.geom) AS geom,
       ST_AsBinary(ST_PointOnSurface(p.geom)) AS punto
FROM layers.parcels AS p
WHERE p.rol = %(rol)s;

-- name: parcel_at_point
-- The parcel under the point (the first by rol where overlapping parcels meet there).
SELECT p.rol, p.direccion, p.destino, p.serie, p.superficie_terreno,
       p.superficie_construida, p.avaluo_terreno, p.avaluo_construccion, p.avaluo_total,
       ST_Area(p.geom) AS superficie_geometrica, ST_AsBinary(p.geom) AS geom,
       ST_AsBinary(ST_PointOnSurface(p.geom)) AS punto
FROM layers.parcels AS p
WHERE ST_Intersects(p.geom, ST_GeomFromWKB(%(punto)s, 32719))
ORDER BY p.rol COLLATE "C"
LIMIT 1;

-- name: comuna
SELECT c.nombre, ST_Intersects(c.geom, ST_GeomFromWKB(%(punto)s, 32719)) AS dentro
FROM layers.comunas AS c
WHERE c.codigo_comuna = %(comuna)s;

-- name: sections
-- One row, one jsonb per section. The subject is computed once (s) and every lookup is
-- an index scan of one layer around it.
WITH s AS MATERIALIZED (
    SELECT g, ST_GeomFromWKB(%(punto)s, 32719) AS pt, ST_Dimension(g) = 2 AS areal,
           CASE WHEN ST_Dimension(g) = 2 THEN ST_Area(g) ELSE 1 END AS total
    FROM (SELECT ST_GeomFromWKB(%(geom)s, 32719) AS g) AS x
)
SELECT
    coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                   'codigo', h.codigo, 'nombre', h.nombre, 'familia', h.familia,
                   'porcentaje', round(least(100 * h.medida / nullif(s.total, 0), 100)::numeric, 2),
                   'normas', h.normas) ORDER BY h.medida DESC, h.codigo)
        FROM (SELECT z.codigo, z.nombre, z.familia, to_jsonb(z) - 'fid' - 'geom' AS normas,
                     CASE WHEN NOT s.areal THEN 1
                          WHEN ST_Covers(z.geom, s.g) THEN s.total
                          ELSE ST_Area(ST_Intersection(z.geom, s.g)) END AS medida
              FROM layers.zoning AS z
              WHERE ST_Intersects(z.geom, s.g)) AS h
        WHERE h.medida > 0), '[]') AS zonas,
    coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                   'tipo', r.tipo, 'nivel', r.nivel, 'fuente_estudio', r.fuente,
                   'porcentaje', round(least(100 * r.medida / nullif(s.total, 0), 100)::numeric, 2))
                   ORDER BY r.tipo, array_position(%(levels)s::text[], r.nivel))
        FROM (SELECT h.tipo, h.nivel, min(h.fuente_estudio) AS fuente,
                     sum(CASE WHEN NOT s.areal THEN 1
                              WHEN ST_Covers(h.geom, s.g) THEN s.total
                              ELSE ST_Area(ST_Intersection(h.geom, s.g)) END) AS medida
              FROM layers.hazard_zones AS h
              WHERE ST_Intersects(h.geom, s.g)
              GROUP BY h.tipo, h.nivel) AS r
        WHERE r.medida > 0), '[]') AS riesgos,
    coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                   'uso', u.uso,
                   'porcentaje', round(least(100 * u.medida / nullif(s.total, 0), 100)::numeric, 2))
                   ORDER BY u.medida DESC, u.uso)
        FROM (SELECT l.uso, sum(CASE WHEN NOT s.areal THEN 1
                                     WHEN ST_Covers(l.geom, s.g) THEN s.total
                                     ELSE ST_Area(ST_Intersection(l.geom, s.g)) END) AS medida
              FROM layers.land_use AS l
              WHERE ST_Intersects(l.geom, s.g)
              GROUP BY l.uso) AS u
        WHERE u.medida > 0), '[]') AS uso_de_suelo,
    jsonb_build_object(
        'sector', (SELECT jsonb_build_object('codigo', p.codigo, 'nombre', p.nombre,
                                             'area_tipo', p.area_tipo)
                   FROM layers.planning_sectors AS p WHERE ST_Intersects(p.geom, s.pt)
                   ORDER BY p.codigo LIMIT 1),
        'zona_censal', (SELECT jsonb_build_object('geocodigo', c.geocodigo,
                                                  'distrito', c.distrito,
                                                  'poblacion', c.poblacion)
                        FROM layers.census_zones AS c WHERE ST_Intersects(c.geom, s.pt)
                        ORDER BY c.geocodigo LIMIT 1),
        'limite_urbano', (SELECT jsonb_build_object('nombre', u.nombre,
                                                    'instrumento', u.instrumento)
                          FROM layers.urban_limit AS u WHERE ST_Intersects(u.geom, s.pt)
                          ORDER BY u.nombre LIMIT 1)) AS territorio,
    jsonb_build_object(
        'ruta_camiones', (
            SELECT jsonb_build_object('nombre', r.nombre, 'categoria', r.categoria,
                                      'camiones_dia', r.camiones_dia,
                                      'distancia_m', round(ST_Distance(r.geom, s.g)::numeric, 1))
            FROM layers.port_routes AS r WHERE r.ruta_camiones
            ORDER BY ST_Distance(r.geom, s.g), r.nombre LIMIT 1),
        'terminal', (
            SELECT jsonb_build_object('nombre', t.nombre, 'estado', t.estado,
                                      'tipo_carga', t.tipo_carga,
                                      'distancia_m', round(ST_Distance(t.geom, s.g)::numeric, 1))
            FROM layers.port_terminals AS t
            ORDER BY ST_Distance(t.geom, s.g), t.nombre LIMIT 1),
        'banda_m', %(banda)s::float8,
        'en_banda', coalesce((
            SELECT jsonb_agg(r.nombre ORDER BY r.nombre)
            FROM layers.port_routes AS r
            WHERE r.ruta_camiones AND ST_DWithin(r.geom, s.g, %(banda)s)), '[]')) AS puerto,
    jsonb_build_object(
        'total', (SELECT count(*) FROM layers.projects AS o
                  WHERE ST_DWithin(o.geom, s.g, %(radio)s)),
        'proyectos', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'codigo', n.codigo, 'nombre', n.nombre, 'sector', n.sector,
                       'etapa', n.etapa, 'monto_clp', n.monto_clp,
                       'distancia_m', round(n.m::numeric, 1)) ORDER BY n.m, n.codigo)
            FROM (SELECT o.codigo, o.nombre, o.sector, o.etapa, o.monto_clp,
                         ST_Distance(o.geom, s.g) AS m
                  FROM layers.projects AS o
                  WHERE ST_DWithin(o.geom, s.g, %(radio)s)
                  ORDER BY m, o.codigo LIMIT %(max_proyectos)s) AS n), '[]')) AS proyectos,
    ST_AsBinary(ST_Transform(s.pt, 4326)) AS lonlat
FROM s;
