-- Hazard exposure (gis/analysis/exposure.py) per hazard type and level. {hazards}: the
-- table of the hazard_zones version analysed; {en_area_*}: conditions "lies in the area"
-- (gis.analysis.common.area_condition) on each thing's point (parcels, residential
-- pieces, land use) or geometry (projects).

-- name: hazard_pieces
-- Each type and level dissolved (overlapping polygons count once), in indexed pieces.
DROP TABLE IF EXISTS pg_temp.hazard_pieces;
CREATE TEMP TABLE hazard_pieces ON COMMIT DROP AS
SELECT tipo, nivel, ST_Subdivide(geom, %(vertices)s) AS geom
FROM (SELECT tipo, nivel, ST_UnaryUnion(ST_Collect(geom)) AS geom
      FROM {hazards} GROUP BY tipo, nivel) AS u;
CREATE INDEX ON hazard_pieces USING gist (geom);
ANALYZE hazard_pieces;

-- name: exposed_parcels
-- A parcel is exposed to a type and level when a part of it with area lies inside. The
-- parcels are found from the hazard pieces (an index scan of the parcels per piece; the
-- piece first in ST_Covers / ST_Intersects is prepared once, and OFFSET 0 keeps the
-- areas computed in that order, as in analysis_common.sql).
DROP TABLE IF EXISTS pg_temp.exposed_parcels;
CREATE TEMP TABLE exposed_parcels ON COMMIT DROP AS
SELECT h.tipo, h.nivel, x.fid, sum(x.a) AS area
FROM hazard_pieces AS h
CROSS JOIN LATERAL (
    SELECT p.fid, CASE WHEN ST_Covers(h.geom, p.geom) THEN ST_Area(p.geom)
                       ELSE ST_Area(ST_Intersection(p.geom, h.geom)) END AS a
    FROM layers.parcels AS p
    CROSS JOIN LATERAL (SELECT ST_PointOnSurface(p.geom) AS pt) AS s
    WHERE ST_Intersects(h.geom, p.geom) AND {en_area_predio}
    OFFSET 0
) AS x
GROUP BY h.tipo, h.nivel, x.fid
HAVING sum(x.a) > 0;

-- name: summary
-- Population: each census zone's people times the share of its residential parcel area
-- (profiles.residential_pieces, by gis.profile.ensure_residential_weights) inside the
-- hazard; a zone without residential parcels by the share of its whole area.
WITH levels AS (
    SELECT DISTINCT tipo, nivel FROM hazard_pieces
), parcels AS (
    SELECT e.tipo, e.nivel, count(*) AS predios, sum(e.area) AS area,
           sum(coalesce(p.superficie_construida, 0)) AS construida,
           sum(coalesce(p.avaluo_total, 0)) AS avaluo,
           count(*) FILTER (WHERE p.destino = %(salud)s) AS salud,
           count(*) FILTER (WHERE p.destino = %(educacion)s) AS educacion
    FROM exposed_parcels AS e JOIN layers.parcels AS p ON p.fid = e.fid
    GROUP BY e.tipo, e.nivel
), residential AS (
    SELECT h.tipo, h.nivel, x.geocodigo, sum(x.area) AS area
    FROM hazard_pieces AS h
    CROSS JOIN LATERAL (
        SELECT r.geocodigo, CASE WHEN ST_Covers(h.geom, r.geom) THEN r.area
                                 ELSE ST_Area(ST_Intersection(r.geom, h.geom)) END AS area
        FROM profiles.residential_pieces AS r
        WHERE ST_Intersects(h.geom, r.geom) AND {en_area_pieza}
        OFFSET 0
    ) AS x
    GROUP BY h.tipo, h.nivel, x.geocodigo
), weighted AS (
    SELECT r.tipo, r.nivel, sum(z.poblacion * r.area / w.area_residencial) AS poblacion
    FROM residential AS r
    JOIN profiles.census_weights AS w ON w.geocodigo = r.geocodigo
    JOIN layers.census_zones AS z ON z.geocodigo = r.geocodigo
    WHERE w.area_residencial > 0
    GROUP BY r.tipo, r.nivel
), plain AS (
    SELECT h.tipo, h.nivel,
           sum(z.poblacion * ST_Area({recorte}) / nullif(ST_Area(z.geom), 0)) AS poblacion
    FROM layers.census_zones AS z
    LEFT JOIN profiles.census_weights AS w ON w.geocodigo = z.geocodigo
    JOIN hazard_pieces AS h ON ST_Intersects(z.geom, h.geom)
    WHERE coalesce(w.area_residencial, 0) = 0
    GROUP BY h.tipo, h.nivel
), projects AS (
    SELECT x.tipo, x.nivel, count(*) AS proyectos, sum(coalesce(x.monto_clp, 0)) AS monto
    FROM (SELECT DISTINCT h.tipo, h.nivel, pr.fid, pr.monto_clp
          FROM layers.projects AS pr
          JOIN hazard_pieces AS h ON ST_Intersects(pr.geom, h.geom)
          WHERE {en_area_proyecto}) AS x
    GROUP BY x.tipo, x.nivel
), security AS (
    SELECT x.tipo, x.nivel, count(*) AS seguridad
    FROM (SELECT h.tipo, h.nivel, u.fid
          FROM layers.land_use AS u
          CROSS JOIN LATERAL (SELECT ST_PointOnSurface(u.geom) AS pt) AS s
          JOIN hazard_pieces AS h ON ST_Intersects(u.geom, h.geom)
          WHERE u.uso = %(seguridad)s AND {en_area_uso}
          GROUP BY h.tipo, h.nivel, u.fid
          HAVING sum(ST_Area(ST_Intersection(u.geom, h.geom))) > 0) AS x
    GROUP BY x.tipo, x.nivel
)
SELECT l.tipo, l.nivel, coalesce(p.predios, 0), round(coalesce(p.area, 0)::numeric, 1)::float8,
       round(coalesce(p.construida, 0)::numeric, 1)::float8, coalesce(p.avaluo, 0)::bigint,
       round((coalesce(w.poblacion, 0) + coalesce(pl.poblacion, 0))::numeric, 1)::float8,
       coalesce(pr.proyectos, 0), coalesce(pr.monto, 0)::bigint,
       coalesce(p.salud, 0), coalesce(p.educacion, 0), coalesce(s.seguridad, 0)
FROM levels AS l
LEFT JOIN parcels AS p ON p.tipo = l.tipo AND p.nivel = l.nivel
LEFT JOIN weighted AS w ON w.tipo = l.tipo AND w.nivel = l.nivel
LEFT JOIN plain AS pl ON pl.tipo = l.tipo AND pl.nivel = l.nivel
LEFT JOIN projects AS pr ON pr.tipo = l.tipo AND pr.nivel = l.nivel
LEFT JOIN security AS s ON s.tipo = l.tipo AND s.nivel = l.nivel
ORDER BY l.tipo, array_position(%(niveles)s::text[], l.nivel), l.nivel;
