-- Sector diagnosis (gis/analysis/diagnosis.py): the raw figures of each planning sector or
-- census zone. %(unit)s: 'sector' or 'zona_censal'; {hazards}: the table of the hazard
-- zones version analysed; {en_area}: "the unit belongs to the area" (u.geom).

-- name: units
-- The units of the area: those with at least half of their surface inside it, or holding
-- the area's point on surface (an area inside one unit selects it).
DROP TABLE IF EXISTS pg_temp.diag_units;
CREATE TEMP TABLE diag_units ON COMMIT DROP AS
SELECT u.codigo, u.nombre, u.geom, ST_Area(u.geom) AS area
FROM (SELECT codigo, nombre, geom FROM layers.planning_sectors
      WHERE %(unit)s::text = 'sector'
      UNION ALL
      SELECT geocodigo, 'Zona censal ' || geocodigo, geom FROM layers.census_zones
      WHERE %(unit)s::text = 'zona_censal') AS u
WHERE {en_area};
CREATE INDEX ON diag_units USING gist (geom);
ANALYZE diag_units;
DROP TABLE IF EXISTS pg_temp.high_hazard;
CREATE TEMP TABLE high_hazard ON COMMIT DROP AS
SELECT ST_Subdivide(ST_UnaryUnion(ST_Collect(geom)), %(vertices)s) AS geom
FROM {hazards} WHERE nivel = %(alto)s;
CREATE INDEX ON high_hazard USING gist (geom);
ANALYZE high_hazard

-- name: figures
-- Per unit: area, high-hazard area, parcels, and population by age and in high hazard by
-- areal interpolation from the census zones weighted by residential parcels (as in
-- gis/sql/investment.sql): a census zone's people go to a sector in proportion to its
-- residential area (profiles.residential_pieces) inside it, or to its plain area when the
-- zone has none; a census zone unit keeps its own figures. People in high hazard: the
-- same shares of the residential area (or plain area) inside the high-hazard zones.
WITH cut AS MATERIALIZED (
    SELECT u.codigo, rp.geocodigo,
           CASE WHEN ST_Covers(u.geom, rp.geom) THEN rp.geom
                ELSE ST_Intersection(rp.geom, u.geom) END AS geom
    FROM diag_units AS u
    JOIN profiles.residential_pieces AS rp ON ST_Intersects(u.geom, rp.geom)
    WHERE %(unit)s::text <> 'zona_censal' OR rp.geocodigo = u.codigo
), res AS MATERIALIZED (
    SELECT c.codigo, c.geocodigo, sum(ST_Area(c.geom)) AS area,
           sum(coalesce((SELECT sum(ST_Area(ST_Intersection(c.geom, h.geom)))
                         FROM high_hazard AS h WHERE ST_Intersects(h.geom, c.geom)), 0))
               AS alto
    FROM cut AS c GROUP BY c.codigo, c.geocodigo
), parts AS (
    SELECT u.codigo, z.poblacion, z.pob_0_5, z.pob_6_14, z.pob_15_64, z.pob_65_mas,
           (z.pob_0_5 + z.pob_6_14 + z.pob_15_64 + z.pob_65_mas) IS NOT NULL AS con_edad,
           CASE WHEN %(unit)s::text = 'zona_censal' AND u.codigo <> z.geocodigo THEN 0.0
                WHEN %(unit)s::text = 'zona_censal' AND coalesce(w.area_residencial, 0) = 0
                    THEN 1.0
                WHEN coalesce(w.area_residencial, 0) > 0
                    THEN coalesce(r.area, 0) / w.area_residencial
                ELSE ST_Area(ST_Intersection(z.geom, u.geom)) / nullif(ST_Area(z.geom), 0)
           END AS fraccion,
           CASE WHEN %(unit)s::text = 'zona_censal' AND u.codigo <> z.geocodigo THEN 0.0
                WHEN coalesce(w.area_residencial, 0) > 0
                    THEN coalesce(r.alto, 0) / w.area_residencial
                ELSE coalesce((SELECT sum(ST_Area(ST_Intersection(
                                   ST_Intersection(z.geom, u.geom), h.geom)))
                               FROM high_hazard AS h
                               WHERE ST_Intersects(h.geom, z.geom)
                                 AND ST_Intersects(h.geom, u.geom)), 0)
                     / nullif(ST_Area(z.geom), 0)
           END AS fraccion_alto
    FROM diag_units AS u
    JOIN layers.census_zones AS z ON ST_Intersects(z.geom, u.geom)
    LEFT JOIN profiles.census_weights AS w ON w.geocodigo = z.geocodigo
    LEFT JOIN res AS r ON r.codigo = u.codigo AND r.geocodigo = z.geocodigo
), pop AS (
    SELECT codigo,
           sum(coalesce(poblacion, 0) * coalesce(fraccion, 0)) AS poblacion,
           sum(pob_0_5 * fraccion) FILTER (WHERE con_edad) AS pob_0_5,
           sum(pob_6_14 * fraccion) FILTER (WHERE con_edad) AS pob_6_14,
           sum(pob_15_64 * fraccion) FILTER (WHERE con_edad) AS pob_15_64,
           sum(pob_65_mas * fraccion) FILTER (WHERE con_edad) AS pob_65_mas,
           sum(coalesce(poblacion, 0) * coalesce(fraccion_alto, 0)) AS poblacion_alto
    FROM parts GROUP BY codigo
), hazard AS (
    SELECT u.codigo, sum(ST_Area(ST_Intersection(u.geom, h.geom))) AS alto
    FROM diag_units AS u JOIN high_hazard AS h ON ST_Intersects(u.geom, h.geom)
    GROUP BY u.codigo
), parcels AS (
    SELECT u.codigo, count(*) AS predios,
           count(*) FILTER (WHERE p.destino = %(residencial)s) AS residenciales
    FROM diag_units AS u
    JOIN layers.parcels AS p ON p.geom && u.geom
    WHERE ST_Intersects(u.geom, ST_PointOnSurface(p.geom))
    GROUP BY u.codigo
)
-- (A unit meeting no census zone has no people: 0 in each age group, not unknown.)
SELECT u.codigo, u.nombre, u.area, coalesce(pop.poblacion, 0),
       CASE WHEN pop.codigo IS NULL THEN 0 ELSE pop.pob_0_5 END,
       CASE WHEN pop.codigo IS NULL THEN 0 ELSE pop.pob_6_14 END,
       CASE WHEN pop.codigo IS NULL THEN 0 ELSE pop.pob_15_64 END,
       CASE WHEN pop.codigo IS NULL THEN 0 ELSE pop.pob_65_mas END,
       coalesce(pop.poblacion_alto, 0),
       coalesce(hz.alto, 0), coalesce(pa.predios, 0), coalesce(pa.residenciales, 0)
       {geometry}
FROM diag_units AS u
LEFT JOIN pop ON pop.codigo = u.codigo
LEFT JOIN hazard AS hz ON hz.codigo = u.codigo
LEFT JOIN parcels AS pa ON pa.codigo = u.codigo
ORDER BY u.codigo;

-- name: land_use
-- Area of each current land use (layers.land_use) inside each unit.
SELECT u.codigo, l.uso, sum(ST_Area(CASE WHEN ST_Covers(u.geom, l.geom) THEN l.geom
                                         ELSE ST_Intersection(l.geom, u.geom) END)) AS area
FROM diag_units AS u JOIN layers.land_use AS l ON ST_Intersects(u.geom, l.geom)
GROUP BY u.codigo, l.uso
ORDER BY u.codigo, l.uso;
