"""The investment portfolio (cartera de inversión): the project registry and its files.

- :mod:`gis.portfolio.codes`: BIP and municipal project codes (check digit).
- :mod:`gis.portfolio.record`: one project as entered, checked field by field.
- :mod:`gis.portfolio.store`: create, read, update and delete in PostGIS, with funding by
  source and year, stage history, attachments and optimistic concurrency.
- :mod:`gis.portfolio.importer` (with :mod:`~gis.portfolio.sheets` and
  :mod:`~gis.portfolio.geocode`): portfolio spreadsheets (CSV, Excel) checked row by row,
  projects located by coordinates, rol or address on the cadastre.
- :mod:`gis.portfolio.exporter`: the registry as GeoPackage, GeoJSON, Excel or CSV.
"""
