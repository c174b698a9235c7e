-- Land-use compliance (gis/analysis/compliance.py): each parcel's current use (its SII
-- destino's OGUC class) against the uses of its PRC zone. Reads the parcels with their
-- zones (the parcel_zone subquery of analysis_parcel_zones.sql). {zoning}: the
-- zoning version's table. The rule mirrors
-- gis.analysis.compliance.conformity (prohibited wins over permitted).

-- name: verdicts
-- Each parcel of parcel_zone with its verdict and the rule that decided it.
WITH classes AS (
    SELECT key AS destino, value AS clase FROM jsonb_each_text(%(clases)s::jsonb)
), names AS (
    SELECT key AS destino, value AS nombre FROM jsonb_each_text(%(destinos)s::jsonb)
), judged AS (
    SELECT pz.fid, pz.area, pz.zona, pz.porcentaje_zona, pz.rol, pz.direccion, pz.destino,
           n.nombre AS destino_nombre, c.clase,
           coalesce(cardinality(z.usos_permitidos), 0)
           + coalesce(cardinality(z.usos_prohibidos), 0) = 0 AS sin_usos,
           c.clase = ANY(z.usos_prohibidos) AS prohibido,
           c.clase = ANY(z.usos_permitidos) AS permitido
    FROM {parcel_zone} AS pz
    LEFT JOIN classes AS c ON c.destino = pz.destino
    LEFT JOIN names AS n ON n.destino = pz.destino
    LEFT JOIN {zoning} AS z ON z.codigo = pz.zona
)
SELECT fid, area, zona, porcentaje_zona, rol, direccion, destino, destino_nombre, clase,
       CASE WHEN zona IS NULL OR clase IS NULL OR sin_usos THEN 'no regulado'
            WHEN prohibido THEN 'no conforme'
            WHEN permitido THEN 'conforme'
            ELSE 'no regulado' END AS resultado,
       CASE WHEN zona IS NULL THEN 'predio fuera de las zonas del Plan Regulador'
            WHEN destino IS NULL THEN 'predio sin destino SII'
            WHEN clase IS NULL
                THEN 'destino ' || coalesce(destino_nombre, destino) || ' sin uso OGUC regulado'
            WHEN sin_usos THEN 'zona ' || zona || ' sin uso indicado'
            WHEN prohibido THEN 'uso ' || clase || ' prohibido en ' || zona
            WHEN permitido THEN 'uso ' || clase || ' permitido en ' || zona
            ELSE 'uso ' || clase || ' no indicado en ' || zona END AS regla
FROM judged

-- name: classify
-- The verdicts kept for the summaries.
DROP TABLE IF EXISTS pg_temp.compliance;
CREATE TEMP TABLE compliance ON COMMIT DROP AS {verdicts};
ANALYZE compliance;

-- name: parcels
-- The verdicts of every parcel streamed out, without keeping them.
SELECT c.rol, c.direccion, c.destino, c.destino_nombre, c.clase, c.zona,
       round(c.porcentaje_zona::numeric, 1)::float8, c.resultado, c.regla,
       round(c.area::numeric, 1)::float8 {geometry}
FROM ({verdicts}) AS c {parcels}
ORDER BY c.rol COLLATE "C";

-- name: by_zone
-- Parcels outside every zone make one row with zona NULL.
WITH agg AS (
    SELECT zona AS clave, count(*) AS predios,
           count(*) FILTER (WHERE resultado = 'conforme') AS conformes,
           count(*) FILTER (WHERE resultado = 'no conforme') AS no_conformes,
           count(*) FILTER (WHERE resultado = 'no regulado') AS no_regulados,
           sum(area) AS area,
           coalesce(sum(area) FILTER (WHERE resultado = 'no conforme'), 0) AS area_nc
    FROM compliance GROUP BY zona
)
SELECT a.clave, z.nombre, a.predios, a.conformes, a.no_conformes, a.no_regulados,
       round((100.0 * a.no_conformes / a.predios)::numeric, 1)::float8,
       round(a.area::numeric, 1)::float8, round(a.area_nc::numeric, 1)::float8 {geometry}
FROM agg AS a LEFT JOIN {zoning} AS z ON z.codigo = a.clave
ORDER BY a.clave NULLS LAST;

-- name: by_sector
-- Parcels whose point on surface lies in no sector make one row with sector NULL.
WITH agg AS (
    SELECT ps.sector AS clave, count(*) AS predios,
           count(*) FILTER (WHERE c.resultado = 'conforme') AS conformes,
           count(*) FILTER (WHERE c.resultado = 'no conforme') AS no_conformes,
           count(*) FILTER (WHERE c.resultado = 'no regulado') AS no_regulados,
           sum(c.area) AS area,
           coalesce(sum(c.area) FILTER (WHERE c.resultado = 'no conforme'), 0) AS area_nc
    FROM compliance AS c LEFT JOIN parcel_sector AS ps ON ps.fid = c.fid
    GROUP BY ps.sector
)
SELECT a.clave, z.nombre, a.predios, a.conformes, a.no_conformes, a.no_regulados,
       round((100.0 * a.no_conformes / a.predios)::numeric, 1)::float8,
       round(a.area::numeric, 1)::float8, round(a.area_nc::numeric, 1)::float8 {geometry}
FROM agg AS a LEFT JOIN layers.planning_sectors AS z ON z.codigo = a.clave
ORDER BY a.clave NULLS LAST;
