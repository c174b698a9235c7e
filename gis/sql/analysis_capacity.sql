-- Zoning capacity (cabida, gis/analysis/capacity.py) of each parcel under the norms of
-- its PRC zone. Reads the parcels with their zones (the parcel_zone subquery of
-- analysis_parcel_zones.sql, whose lot area "lote" is
-- gis.analysis.capacity.lot_area_sql). {zoning}: the version's table; {cabida}: the
-- capacity columns of gis.analysis.capacity.cabida_sql, shared with the proposal impact
-- (gis/sql/proposal_impact.sql).

-- name: capacities
-- Each parcel of parcel_zone with its capacity.
SELECT q.*, greatest(q.edificable - q.construida, 0) AS residual
FROM (
    SELECT pz.fid, pz.rol, pz.destino, pz.zona, pz.lote, {cabida},
           CASE WHEN z.superficie_predial_minima > 0
                THEN greatest(floor(pz.lote / z.superficie_predial_minima), 1) END AS lotes,
           coalesce(pz.construida, 0) AS construida,
           pz.destino IS NOT DISTINCT FROM %(eriazo)s AS eriazo
    FROM {parcel_zone} AS pz
    LEFT JOIN {zoning} AS z ON z.codigo = pz.zona
    WHERE %(todos)s OR pz.destino = %(eriazo)s
) AS q

-- name: compute
-- The capacities kept for the summary.
DROP TABLE IF EXISTS pg_temp.capacity;
CREATE TEMP TABLE capacity ON COMMIT DROP AS {capacities}

-- name: parcels
-- The capacity of every parcel streamed out, without keeping it.
SELECT c.rol, c.destino, c.zona, round(c.lote::numeric, 1)::float8,
       round(c.edificable::numeric, 1)::float8, round(c.ocupacion::numeric, 1)::float8,
       round(c.viviendas::numeric, 2)::float8, c.lotes::bigint,
       round(c.construida::numeric, 1)::float8, round(c.residual::numeric, 1)::float8,
       c.eriazo {geometry}
FROM ({capacities}) AS c {parcels}
ORDER BY c.rol COLLATE "C";

-- name: by_zone
-- Parcels outside every zone have no norms and no row.
WITH agg AS (
    SELECT zona, count(*) AS predios, sum(lote) AS lote, sum(edificable) AS edificable,
           sum(ocupacion) AS ocupacion, sum(viviendas) AS viviendas, sum(lotes) AS lotes,
           sum(construida) AS construida, sum(residual) AS residual,
           count(*) FILTER (WHERE eriazo) AS eriazos,
           coalesce(sum(lote) FILTER (WHERE eriazo), 0) AS lote_eriazo,
           coalesce(sum(edificable) FILTER (WHERE eriazo), 0) AS edificable_eriazo,
           coalesce(sum(viviendas) FILTER (WHERE eriazo), 0) AS viviendas_eriazo
    FROM capacity WHERE zona IS NOT NULL GROUP BY zona
)
SELECT a.zona, z.nombre, a.predios, round(a.lote::numeric, 1)::float8,
       round(a.edificable::numeric, 1)::float8, round(a.ocupacion::numeric, 1)::float8,
       round(a.viviendas::numeric, 2)::float8, a.lotes::bigint,
       round(a.construida::numeric, 1)::float8, round(a.residual::numeric, 1)::float8,
       a.eriazos, round(a.lote_eriazo::numeric, 1)::float8,
       round(a.edificable_eriazo::numeric, 1)::float8,
       round(a.viviendas_eriazo::numeric, 2)::float8 {geometry}
FROM agg AS a JOIN {zoning} AS z ON z.codigo = a.zona
ORDER BY a.zona;
