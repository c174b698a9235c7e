-- Investment by territorial unit (gis/investment.py). %(unit)s chooses the units:
-- 'sector' (planning sectors), 'zona_censal' (census zones) or 'zona_prc' (PRC zones).
-- The marker {units} is replaced, when the module loads, by the unit_geometries section.

-- name: unit_geometries
SELECT codigo, nombre, geom FROM layers.planning_sectors WHERE %(unit)s::text = 'sector'
UNION ALL
SELECT geocodigo, 'Zona censal ' || geocodigo, geom FROM layers.census_zones
WHERE %(unit)s::text = 'zona_censal'
UNION ALL
SELECT codigo, nombre, geom FROM layers.zoning WHERE %(unit)s::text = 'zona_prc'

-- name: units
-- Each unit with its area, its population by areal interpolation from the census zones and
-- its area in high-level hazard zones. A census zone's population goes to a sector or PRC
-- zone in proportion to the zone's residential parcel area inside it
-- (profiles.residential_pieces), or to its plain area when the zone has no residential
-- parcels; a census zone unit keeps its own figures. (Unit first in the spatial tests: the
-- unit's geometry is the one PostGIS prepares and reuses over the many pieces.) Age shares count only census zones
-- with every age group known (con_edad).
WITH u AS MATERIALIZED ({units}
), res AS (
    SELECT u.codigo, rp.geocodigo,
           sum(CASE WHEN ST_Contains(u.geom, rp.geom) THEN rp.area
                    ELSE ST_Area(ST_Intersection(rp.geom, u.geom)) END) AS area
    FROM u JOIN profiles.residential_pieces AS rp ON ST_Intersects(u.geom, rp.geom)
    WHERE %(unit)s::text <> 'zona_censal'
    GROUP BY u.codigo, rp.geocodigo
), parts AS (
    SELECT u.codigo, z.poblacion, z.pob_0_5 + z.pob_6_14 AS menores, z.pob_65_mas AS mayores,
           z.pob_0_5 + z.pob_6_14 + z.pob_15_64 + z.pob_65_mas AS con_edad,
           CASE WHEN %(unit)s::text = 'zona_censal' THEN (u.codigo = z.geocodigo)::int::float8
                WHEN coalesce(w.area_residencial, 0) > 0
                    THEN coalesce(res.area, 0) / w.area_residencial
                ELSE ST_Area(ST_Intersection(z.geom, u.geom)) / nullif(ST_Area(z.geom), 0)
           END AS fraccion
    FROM u
    JOIN layers.census_zones AS z ON ST_Intersects(z.geom, u.geom)
    LEFT JOIN profiles.census_weights AS w ON w.geocodigo = z.geocodigo
    LEFT JOIN res ON res.codigo = u.codigo AND res.geocodigo = z.geocodigo
), pop AS (
    SELECT codigo,
           sum(coalesce(poblacion, 0) * coalesce(fraccion, 0)) AS poblacion,
           sum(menores * fraccion) FILTER (WHERE con_edad IS NOT NULL) AS menores,
           sum(mayores * fraccion) FILTER (WHERE con_edad IS NOT NULL) AS mayores,
           sum(con_edad * fraccion) AS con_edad
    FROM parts GROUP BY codigo
)
SELECT u.codigo, u.nombre, ST_Area(u.geom) / 10000.0 AS superficie_ha,
       coalesce(pop.poblacion, 0) AS poblacion, pop.menores, pop.mayores, pop.con_edad,
       coalesce((SELECT ST_Area(ST_Union(ST_Intersection(h.geom, u.geom)))
                 FROM layers.hazard_zones AS h
                 WHERE h.nivel = 'alto' AND ST_Intersects(h.geom, u.geom)), 0) / 10000.0
           AS riesgo_alto_ha,
       ST_AsBinary(ST_Transform(u.geom, 4326)) AS geom
FROM u LEFT JOIN pop ON pop.codigo = u.codigo
ORDER BY u.codigo;

-- name: unit_stamp
-- What the units' figures are computed from: revision and time of change of each layer.
SELECT layer, revision, changed_at FROM catalog.layer_revisions
WHERE layer = ANY(%(layers)s::text[]) ORDER BY layer;

-- name: shares
-- The share of each project's geometry in each unit: area, length or number of points
-- (profiles.measure) of its part inside the unit over its whole measure, or over the sum
-- of its parts when these exceed it (a point on a shared border, overlapping units), so
-- that a project never gets more than its whole amount attributed.
WITH u AS MATERIALIZED ({units}
), p AS (
    SELECT codigo, geom, ST_Dimension(geom) AS dim,
           profiles.measure(geom, ST_Dimension(geom)) AS total
    FROM layers.projects
), hits AS (
    SELECT u.codigo AS unidad, p.codigo AS proyecto, p.total,
           CASE WHEN ST_CoveredBy(p.geom, u.geom) THEN p.total
                ELSE profiles.measure(ST_Intersection(u.geom, p.geom), p.dim) END AS medida
    FROM p JOIN u ON ST_Intersects(u.geom, p.geom)
    WHERE p.total > 0
)
SELECT unidad, proyecto,
       medida / greatest(total, sum(medida) OVER (PARTITION BY proyecto)) AS fraccion
FROM hits WHERE medida > 0
ORDER BY unidad, proyecto;

-- name: projects
-- The projects that pass the sector and stage filters.
SELECT codigo, sector, etapa, eje_pladeco
FROM layers.projects
WHERE (%(sector)s::text IS NULL OR sector = %(sector)s::text)
  AND (%(etapa)s::text IS NULL OR etapa = %(etapa)s::text)
ORDER BY codigo;

-- name: funding
-- Funding rows (one per project, source and year) of the projects that pass the filters.
-- The amount invested (monto) is the approved amount, or the requested one while nothing
-- is approved, as in the project's total cost (layers.projects.monto_clp).
SELECT f.codigo, p.sector, p.etapa, p.eje_pladeco, f.fuente, f.anio,
       f.solicitado, f.aprobado, f.comprometido, f.ejecutado,
       CASE WHEN f.aprobado > 0 THEN f.aprobado ELSE f.solicitado END AS monto
FROM cartera.financiamiento AS f
JOIN layers.projects AS p USING (codigo)
WHERE (%(anio)s::int IS NULL OR f.anio = %(anio)s::int)
  AND (%(fuente)s::text IS NULL OR f.fuente = %(fuente)s::text)
  AND (%(sector)s::text IS NULL OR p.sector = %(sector)s::text)
  AND (%(etapa)s::text IS NULL OR p.etapa = %(etapa)s::text)
ORDER BY f.codigo, f.anio, f.fuente;

-- name: years
SELECT DISTINCT anio FROM cartera.financiamiento ORDER BY anio;
