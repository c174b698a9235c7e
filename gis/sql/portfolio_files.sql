-- Portfolio files: locating spreadsheet rows on the cadastre, and reading the registry for
-- export. Sections are separated by "-- name:"; values are bound parameters. Sections
-- with {columns} get the layer's field identifiers from the registry (psycopg sql).

-- name: parcel_count
SELECT count(*) FROM layers.parcels;

-- name: parcels_by_rol
-- The point of each parcel (always inside it) by normalised rol.
SELECT rol, ST_AsBinary(ST_PointOnSurface(geom)) AS wkb
FROM layers.parcels
WHERE rol = ANY(%(roles)s);

-- name: address_candidates
-- Parcels whose address contains the house number (the trigram index serves the LIKE);
-- the exact comparison of the normalised addresses is made in Python.
SELECT rol, direccion, ST_AsBinary(ST_PointOnSurface(geom)) AS wkb
FROM layers.parcels
WHERE direccion LIKE %(like)s
ORDER BY rol
LIMIT 2000;

-- name: address_suggestions
-- The closest addresses of the cadastre by trigram similarity ("¿quiso decir…?").
SELECT direccion, rol
FROM layers.parcels
WHERE direccion %% %(text)s
ORDER BY similarity(direccion, %(text)s) DESC, rol
LIMIT %(limit)s;

-- name: export_projects
-- One row per project: every layer field, the geometry, and the funding totals.
SELECT {columns}, ST_AsBinary(p.geom) AS wkb,
       coalesce(f.solicitado, 0) AS total_solicitado,
       coalesce(f.aprobado, 0) AS total_aprobado,
       coalesce(f.comprometido, 0) AS total_comprometido,
       coalesce(f.ejecutado, 0) AS total_ejecutado
FROM layers.projects AS p
LEFT JOIN (
    SELECT codigo, sum(solicitado)::bigint AS solicitado, sum(aprobado)::bigint AS aprobado,
           sum(comprometido)::bigint AS comprometido, sum(ejecutado)::bigint AS ejecutado
    FROM cartera.financiamiento
    WHERE codigo = ANY(%(codigos)s)
    GROUP BY codigo
) AS f USING (codigo)
WHERE p.codigo = ANY(%(codigos)s)
ORDER BY p.codigo;

-- name: export_funding
SELECT codigo, fuente, anio, solicitado, aprobado, comprometido, ejecutado
FROM cartera.financiamiento
WHERE codigo = ANY(%(codigos)s)
ORDER BY codigo, anio, fuente;
