-- Backups (gis.backup): what a backup's manifest records and how a restore relocates rasters.

-- name: platform_tables
SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%(schemas)s)
  AND NOT c.relispartition
ORDER BY n.nspname, c.relname

-- name: layer_versions
SELECT layer, version, kind, feature_count, source_sha256, valid_to IS NULL AS in_force,
       data_location
FROM catalog.layer_versions
ORDER BY layer, version

-- name: relocate_raster
UPDATE catalog.layer_versions
SET data_location = %(new)s,
    processed_file = CASE WHEN processed_file = %(old)s THEN %(new)s ELSE processed_file END
WHERE kind = 'raster' AND data_location = %(old)s
