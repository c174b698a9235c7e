-- Changes between two dates (gis/analysis/changes.py). {antes}, {despues}: the tables of
-- the versions in force at each date; {distintos}, {campos}, {detalle}: the comparisons of
-- every field of the layer (built from the layer registry); {en_area}: "lies in the area"
-- (gis.analysis.common.area_condition) on "pt".

-- name: cadastre
-- Parcels compared by rol: added, removed, and changed (any field, or the geometry by
-- more than %(tolerancia)s m² of symmetric difference).
WITH pairs AS (
    SELECT a.rol AS rol_a, b.rol AS rol_b, a.geom AS geom_a, b.geom AS geom_b,
           {campos} AS campos, {detalle} AS detalle,
           a.rol IS NOT NULL AND b.rol IS NOT NULL
               AND NOT ST_OrderingEquals(a.geom, b.geom)
               AND ST_Area(ST_SymDifference(a.geom, b.geom)) > %(tolerancia)s AS forma
    FROM {antes} AS a FULL JOIN {despues} AS b ON a.rol = b.rol
    WHERE a.rol IS NULL OR b.rol IS NULL OR {distintos}
       OR NOT ST_OrderingEquals(a.geom, b.geom)
)
SELECT coalesce(c.rol_b, c.rol_a),
       CASE WHEN c.rol_a IS NULL THEN 'agregado' WHEN c.rol_b IS NULL THEN 'eliminado'
            ELSE 'modificado' END,
       CASE WHEN c.rol_a IS NULL OR c.rol_b IS NULL THEN NULL
            ELSE array_to_string(c.campos || CASE WHEN c.forma THEN ARRAY['geometría']
                                                  ELSE ARRAY[]::text[] END, ', ') END,
       CASE WHEN c.rol_a IS NULL OR c.rol_b IS NULL THEN NULL
            ELSE nullif(concat_ws('; ', nullif(c.detalle, ''), CASE WHEN c.forma THEN
                 'Geometría: ' || round(ST_Area(c.geom_a)::numeric, 1) || ' → '
                 || round(ST_Area(c.geom_b)::numeric, 1) || ' m²' END), '') END,
       round(ST_Area(c.geom_a)::numeric, 1)::float8, round(ST_Area(c.geom_b)::numeric, 1)::float8
       {geometry}
FROM pairs AS c
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(coalesce(c.geom_b, c.geom_a)) AS pt) AS s
WHERE (c.rol_a IS NULL OR c.rol_b IS NULL OR cardinality(c.campos) > 0 OR c.forma)
  AND {en_area}
ORDER BY 1;

-- name: project_layer
-- Projects compared by code between two versions of the projects layer.
SELECT coalesce(b.codigo, a.codigo), coalesce(b.nombre, a.nombre),
       CASE WHEN a.codigo IS NULL THEN 'creado' WHEN b.codigo IS NULL THEN 'eliminado'
            ELSE 'modificado' END,
       CASE WHEN a.codigo IS NOT NULL AND b.codigo IS NOT NULL
            THEN array_to_string({campos}, ', ') END,
       a.etapa, b.etapa
FROM {antes} AS a FULL JOIN {despues} AS b ON a.codigo = b.codigo
WHERE a.codigo IS NULL OR b.codigo IS NULL OR {distintos}
ORDER BY 1;

-- name: audit_events
-- The portfolio's entries of the audit log in (desde, hasta].
SELECT at, actor, action, target, before, after
FROM audit.log
WHERE action LIKE 'proyecto.%%' AND outcome = 'ok' AND at > %(desde)s AND at <= %(hasta)s
ORDER BY at, id;

-- name: stage_history
-- Stage changes recorded in (desde, hasta], each with the stage before it.
SELECT codigo, fecha, anterior, etapa, usuario, nota
FROM (SELECT h.*, lag(h.etapa) OVER (PARTITION BY h.codigo ORDER BY h.fecha, h.id) AS anterior
      FROM cartera.historial AS h) AS x
WHERE fecha > %(desde)s AND fecha <= %(hasta)s
ORDER BY fecha, codigo;

-- name: registered
SELECT codigo FROM cartera.registro;

-- name: projects_in_area
-- Codes of the projects whose geometry (in either table) meets the area.
SELECT codigo FROM {antes} AS p WHERE {en_area}
UNION
SELECT codigo FROM {despues} AS p WHERE {en_area};
