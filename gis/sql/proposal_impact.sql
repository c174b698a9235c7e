-- Impact of a zoning proposal, computed where the data lives.
-- Inputs: temp table proposed_zones (the proposal's zoning), {base} (the version in force),
-- %(changed)s (codes of the zones that change). Sections are separated by "-- name:".
-- {lote_predio} and {cabida_antes} / {cabida_despues} (built area, footprint and dwellings
-- under the zone before / after) come from gis.analysis.capacity, the one place of the
-- capacity rules.

-- name: changed_area
CREATE TEMP TABLE changed_area ON COMMIT DROP AS
SELECT ST_Subdivide(ST_Union(geom), 64) AS geom FROM (
    SELECT geom FROM proposed_zones WHERE codigo = ANY(%(changed)s)
    UNION ALL
    SELECT geom FROM {base} WHERE codigo = ANY(%(changed)s)
) AS s;
CREATE INDEX ON changed_area USING gist (geom);
ANALYZE changed_area;

-- name: affected_parcels
-- Parcels are found through indexed pieces of the changed zones as they were (which also
-- gives their zone before); only inside %(reassigned)s (area that changes zone, from the
-- caller) is the zone after looked up among the proposed zones.
CREATE TEMP TABLE base_changed_pieces ON COMMIT DROP AS
SELECT codigo, ST_Subdivide(geom, 64) AS geom FROM {base} WHERE codigo = ANY(%(changed)s);
CREATE INDEX ON base_changed_pieces USING gist (geom);
ANALYZE base_changed_pieces;
CREATE TEMP TABLE reassigned_pieces ON COMMIT DROP AS
SELECT ST_Subdivide(g, 64) AS geom
FROM (SELECT ST_SetSRID(ST_GeomFromWKB(%(reassigned)s), 32719) AS g) AS r
WHERE NOT ST_IsEmpty(g);
CREATE INDEX ON reassigned_pieces USING gist (geom);
CREATE TEMP TABLE proposed_pieces ON COMMIT DROP AS
SELECT codigo, ST_Subdivide(geom, 128) AS geom FROM proposed_zones;
CREATE INDEX ON proposed_pieces USING gist (geom);
ANALYZE reassigned_pieces;
ANALYZE proposed_pieces;
CREATE TEMP TABLE zone_norms ON COMMIT DROP AS
SELECT 'antes' AS cual, codigo, coef_constructibilidad, coef_ocupacion_suelo,
       densidad_maxima, to_jsonb(z) - 'fid' - 'geom' - 'codigo' - 'nombre' AS norms
FROM (SELECT * FROM {base}) AS z
UNION ALL
SELECT 'despues', codigo, coef_constructibilidad, coef_ocupacion_suelo, densidad_maxima,
       to_jsonb(z) - 'geom' - 'codigo' - 'nombre'
FROM (SELECT * FROM proposed_zones) AS z;
CREATE TEMP TABLE located_parcels ON COMMIT DROP AS
WITH candidates AS (
    SELECT DISTINCT ON (p.fid) p.fid, p.rol, p.destino,
           {lote_predio} AS lote, s.pt,
           b.codigo AS zona_antes
    FROM layers.parcels AS p
    CROSS JOIN LATERAL (SELECT ST_PointOnSurface(p.geom) AS pt) AS s
    JOIN base_changed_pieces AS b ON p.geom && b.geom AND ST_Intersects(b.geom, s.pt)
)
SELECT c.*,
       CASE WHEN EXISTS (SELECT 1 FROM reassigned_pieces AS r WHERE ST_Intersects(r.geom, c.pt))
            THEN (SELECT codigo FROM proposed_pieces AS n WHERE ST_Intersects(n.geom, c.pt)
                  LIMIT 1)
            ELSE c.zona_antes END AS zona_despues
FROM candidates AS c;
CREATE TEMP TABLE affected_parcels ON COMMIT DROP AS
SELECT l.fid, l.rol, l.destino, l.lote, l.pt, l.zona_antes, l.zona_despues,
       {cabida_antes},
       {cabida_despues},
       b.norms IS DISTINCT FROM n.norms AS normas_cambian
FROM located_parcels AS l
LEFT JOIN zone_norms AS b ON b.cual = 'antes' AND b.codigo = l.zona_antes
LEFT JOIN zone_norms AS n ON n.cual = 'despues' AND n.codigo = l.zona_despues;
CREATE INDEX ON affected_parcels USING gist (pt);
ANALYZE affected_parcels;

-- name: totals
SELECT count(*) FILTER (WHERE zona_antes IS DISTINCT FROM zona_despues) AS predios_cambian_zona,
       count(*) FILTER (WHERE normas_cambian) AS predios_cambian_normas,
       coalesce(sum(lote) FILTER (WHERE normas_cambian), 0) AS superficie_m2,
       coalesce(sum(edificable_antes), 0) AS edificable_antes_m2,
       coalesce(sum(edificable_despues), 0) AS edificable_despues_m2,
       coalesce(sum(ocupacion_antes), 0) AS ocupacion_antes_m2,
       coalesce(sum(ocupacion_despues), 0) AS ocupacion_despues_m2,
       coalesce(sum(viviendas_antes), 0) AS viviendas_antes,
       coalesce(sum(viviendas_despues), 0) AS viviendas_despues
FROM affected_parcels;

-- name: parcels
SELECT rol, destino, round(lote::numeric, 1) AS lote_m2, zona_antes, zona_despues,
       round((edificable_despues - edificable_antes)::numeric, 1) AS delta_edificable_m2,
       round((ocupacion_despues - ocupacion_antes)::numeric, 1) AS delta_ocupacion_m2,
       round((viviendas_despues - viviendas_antes)::numeric, 2) AS delta_viviendas
FROM affected_parcels WHERE normas_cambian ORDER BY rol LIMIT %(max_rows)s;

-- name: population
SELECT coalesce(sum(z.poblacion * ST_Area(ST_Intersection(z.geom, c.geom))
                    / nullif(ST_Area(z.geom), 0)), 0)
FROM layers.census_zones AS z JOIN changed_area AS c ON ST_Intersects(z.geom, c.geom);

-- name: hazard_capacity
SELECT h.tipo, h.nivel,
       coalesce(sum(a.viviendas_despues - a.viviendas_antes), 0) AS delta_viviendas
FROM affected_parcels AS a
JOIN layers.hazard_zones AS h ON ST_Intersects(h.geom, a.pt)
WHERE h.tipo = ANY(%(risk_types)s) AND a.normas_cambian
GROUP BY h.tipo, h.nivel HAVING sum(a.viviendas_despues - a.viviendas_antes) <> 0
ORDER BY h.tipo, h.nivel;

-- name: land_use
SELECT u.fid, u.uso, u.manzana,
       b.usos_permitidos AS permitidos_antes, b.usos_prohibidos AS prohibidos_antes,
       n.usos_permitidos AS permitidos_despues, n.usos_prohibidos AS prohibidos_despues,
       ST_Area(u.geom) AS area_m2
FROM layers.land_use AS u
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(u.geom) AS pt) AS p
JOIN LATERAL (SELECT 1 FROM changed_area AS c WHERE ST_Intersects(c.geom, p.pt) LIMIT 1)
    AS inside ON true
LEFT JOIN LATERAL (SELECT usos_permitidos, usos_prohibidos FROM {base} AS z
                   WHERE ST_Intersects(z.geom, p.pt) LIMIT 1) AS b ON true
LEFT JOIN LATERAL (SELECT usos_permitidos, usos_prohibidos FROM proposed_zones AS z
                   WHERE ST_Intersects(z.geom, p.pt) LIMIT 1) AS n ON true;

-- name: projects
SELECT pr.codigo, pr.nombre, pr.sector,
       b.codigo AS zona_antes, b.usos_permitidos AS permitidos_antes,
       b.usos_prohibidos AS prohibidos_antes,
       n.codigo AS zona_despues, n.usos_permitidos AS permitidos_despues,
       n.usos_prohibidos AS prohibidos_despues
FROM layers.projects AS pr
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(pr.geom) AS pt) AS p
JOIN LATERAL (SELECT 1 FROM changed_area AS c WHERE ST_Intersects(c.geom, p.pt) LIMIT 1)
    AS inside ON true
LEFT JOIN LATERAL (SELECT codigo, usos_permitidos, usos_prohibidos FROM {base} AS z
                   WHERE ST_Intersects(z.geom, p.pt) LIMIT 1) AS b ON true
LEFT JOIN LATERAL (SELECT codigo, usos_permitidos, usos_prohibidos FROM proposed_zones AS z
                   WHERE ST_Intersects(z.geom, p.pt) LIMIT 1) AS n ON true;
