"""The demo data generator (gis.demo): files, CRS, choices, geometry and determinism.

No database needed: the generator runs once into a temporary folder (small cadastre).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import CRS

from gis.demo import CONCERNS, generate
from gis.demo.common import reproject
from gis.portfolio.codes import check_digit
from gis.portfolio.geocode import normalize_address
from gis.portfolio.importer import read_tables
from layers.codes import GROUPING_SYSTEMS, HAZARD_LEVELS, OGUC_USES, SII_DESTINOS
from layers.hazard_zones import HAZARD_TYPES
from layers.land_use import LAND_USES
from layers.parcels import normalize_rol
from layers.planning_sectors import LOCALITIES
from layers.port_routes import ROUTE_CATEGORIES
from layers.projects import FUNDING_CODES, PROJECT_SECTORS, STAGES
from layers.zoning import RISK_AREAS, ZONE_FAMILIES

CHILE = Path(__file__).resolve().parents[2] / "data" / "raw" / "chile"
PARCELS = 3_000
SEED = 2017

EXPECTED_CRS = {
    "territorio/comunas_censo2017.geojson": 4326,
    "territorio/zonas_censales_censo2017.geojson": 4326,
    "territorio/sectores_planificacion.gpkg": 32719,
    "prc/limite_urbano.gpkg": 32719,
    "prc/zonificacion_prc.shp": 24879,
    "uso_suelo/uso_suelo_actual.gpkg": 32719,
    "catastro/catastro_predios.gpkg": 5361,
    "puerto/rutas_acceso_puerto.geojson": 4326,
    "puerto/terminales_portuarios.geojson": 4326,
    "riesgos/zonas_riesgo.gpkg": 32719,
}
RASTERS = ("riesgos/dem_50m.tif", "riesgos/tsunami_profundidad.tif")


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo_raw")
    shutil.copytree(CHILE, root / "chile")
    generate(root, parcels=PARCELS, seed=SEED)
    return root


def read(raw: Path, rel: str, crs: int | None = None):  # type: ignore[no-untyped-def]
    gdf = pyogrio.read_dataframe(raw / rel)
    return gdf.to_crs(crs) if crs else gdf


def items(value: object) -> list[str]:
    """The items of a "; "-joined list value (none for empty/null)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return []
    return str(value).split("; ")


def comuna(raw: Path) -> shapely.Geometry:
    c = read(raw, "territorio/comunas_censo2017.geojson", 32719)
    return c.geometry[c.codigo_comuna == "05601"].iloc[0]


# ----------------------------------------------------------------------------- files / CRS


def test_every_file_exists_and_opens_with_its_crs(raw: Path) -> None:
    for rel, epsg in EXPECTED_CRS.items():
        info = pyogrio.read_info(raw / rel)
        assert info["features"] > 0, rel
        assert CRS.from_user_input(info["crs"]).to_epsg() == epsg, rel
    for rel in RASTERS:
        with rasterio.open(raw / rel) as src:
            assert src.crs.to_epsg() == 32719
            assert src.res == (50.0, 50.0)
            assert src.dtypes == ("float32",) and src.nodata == -9999
            assert src.profile["tiled"] and src.compression is not None
    assert (raw / "inversion/cartera_proyectos.xlsx").exists()
    assert (raw / "inversion/cartera_proyectos.csv").exists()
    assert (raw / "README.md").read_text(encoding="utf-8").count("datos de demostración")


def test_unknown_subset_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        generate(tmp_path, only={"cadastre", "catastro"})
    assert set(CONCERNS) >= {"territory", "zoning", "cadastre", "terrain", "hazards"}


# ----------------------------------------------------------------------------- census


def test_census_totals_are_the_real_sums(raw: Path) -> None:
    zones = read(raw, "territorio/zonas_censales_censo2017.geojson")
    zone_csv = pd.read_csv(CHILE / "censo2017_zonas_san_antonio.csv", dtype={"geocodigo": str})
    assert zone_csv.poblacion.sum() == 87_139  # includes rural localities without polygon
    with_polygon = zone_csv[zone_csv.geocodigo.isin(zones.geocodigo)]
    assert len(zones) == 26
    assert zones.poblacion.sum() == with_polygon.poblacion.sum() == 82_332
    groups = ["pob_0_5", "pob_6_14", "pob_15_64", "pob_65_mas"]
    assert (zones[groups].sum(axis=1) == zones.poblacion).all()
    assert (zones.distrito == zones.geocodigo.str[5:7]).all()

    comunas = read(raw, "territorio/comunas_censo2017.geojson")
    sa = comunas[comunas.codigo_comuna == "05601"].iloc[0]
    assert sa.poblacion == 91_350 and sa.nombre == "San Antonio"
    assert len(comunas) == 6 and comunas.codigo_provincia.eq("056").all()
    assert (comunas.hombres + comunas.mujeres == comunas.poblacion).all()
    assert (comunas.pob_0_14 + comunas.pob_15_64 + comunas.pob_65_mas
            == comunas.poblacion).all()


# ----------------------------------------------------------------------------- PRC


def test_zoning_partitions_the_urban_limit(raw: Path) -> None:
    limit = read(raw, "prc/limite_urbano.gpkg").geometry.iloc[0]
    zones = read(raw, "prc/zonificacion_prc.shp", 32719)
    union = shapely.union_all(zones.geometry.values)
    assert 40 <= len(zones) <= 60
    assert shapely.symmetric_difference(union, limit).area / limit.area < 0.001
    assert (zones.area.sum() - union.area) / limit.area < 0.001  # no overlaps
    assert zones.is_valid.all() and zones.COD_ZONA.is_unique
    assert not shapely.Polygon(limit.exterior).difference(limit).area  # no holes


def test_zoning_values_are_valid_codes(raw: Path) -> None:
    zones = read(raw, "prc/zonificacion_prc.shp")
    assert set(zones.TIPO_ZONA) <= set(ZONE_FAMILIES)
    assert {"portuaria", "centro", "industrial", "área verde", "protección"} <= set(
        zones.TIPO_ZONA)
    for _, z in zones.iterrows():
        permitted, prohibited = set(items(z.USOS_PERM)), set(items(z.USOS_PROH))
        assert permitted and permitted <= set(OGUC_USES), z.COD_ZONA
        assert prohibited <= set(OGUC_USES) and not permitted & prohibited, z.COD_ZONA
        assert set(items(z.RIESGO)) <= set(RISK_AREAS)
        assert set(items(z.AGRUPAM)) <= set(GROUPING_SYSTEMS)
        assert 0 <= z.COEF_OCUP <= 1 and z.SUP_MIN > 0
    port = zones[zones.TIPO_ZONA == "portuaria"]
    assert port.USOS_PERM.str.contains("infraestructura transporte").all()
    assert port.USOS_PROH.str.contains("residencial").all()
    assert zones.RIESGO.fillna("").str.contains("tsunami").any()


def test_shapefile_is_latin1_with_cpg(raw: Path) -> None:
    shp = raw / "prc/zonificacion_prc.shp"
    assert shp.with_suffix(".cpg").read_text().strip() == "LATIN1"
    dbf = shp.with_suffix(".dbf").read_bytes()
    assert "área verde".encode("latin-1") in dbf
    assert "área verde".encode() not in dbf
    zones = pyogrio.read_dataframe(shp)
    assert "área verde" in set(zones.TIPO_ZONA)
    assert zones.USOS_PERM.str.contains("educación").any()


# ----------------------------------------------------------------------------- cadastre


def test_parcels_geometry(raw: Path) -> None:
    parcels = read(raw, "catastro/catastro_predios.gpkg")
    assert abs(len(parcels) - PARCELS) <= 0.01 * PARCELS
    geoms = parcels.geometry.values
    assert shapely.is_valid(geoms).all()
    vertices = shapely.get_num_coordinates(geoms) - shapely.get_num_geometries(geoms)
    assert vertices.min() >= 4 and vertices.max() <= 6
    assert np.allclose(parcels.sup_terr, np.round(shapely.area(geoms), 2), atol=0.005)
    tree = shapely.STRtree(geoms)
    sample = np.random.default_rng(0).choice(len(geoms), 400, replace=False)
    for i in sample:
        others = [j for j in tree.query(geoms[i], predicate="intersects") if j != i]
        if others:
            assert shapely.area(shapely.intersection(geoms[i], geoms[others])).max() < 1e-6
    limit = read(raw, "prc/limite_urbano.gpkg", 5361).geometry.iloc[0]
    assert shapely.within(geoms, limit.buffer(1.0)).all()


def test_parcels_attributes(raw: Path) -> None:
    parcels = read(raw, "catastro/catastro_predios.gpkg")
    parts = parcels.rol_sii.str.split("-", expand=True)
    assert parts[0].str.fullmatch(r"\d{1,5}").all() and parts[1].str.fullmatch(r"\d{1,5}").all()
    normalised = parts[0].str.zfill(5) + "-" + parts[1].str.zfill(5)
    assert normalised.is_unique
    assert (parcels.rol_sii != normalised).any() and (parcels.rol_sii == normalised).any()
    assert set(parcels.dest) <= set(SII_DESTINOS)
    assert parcels.dest.eq("H").mean() > 0.6 and 0.02 < parcels.dest.eq("W").mean() < 0.1
    assert set(parcels.serie) == {"no agrícola"}
    assert (parcels.av_total == parcels.av_terreno + parcels.av_constr).all()
    assert (parcels.sup_const[parcels.dest == "W"] == 0).all()
    assert parcels.direccion.str.fullmatch(r".+ \d+").all()


def test_same_seed_gives_the_same_cadastre(raw: Path, tmp_path: Path) -> None:
    shutil.copytree(CHILE, tmp_path / "chile")
    generate(tmp_path, parcels=PARCELS, seed=SEED, only={"cadastre"})
    assert not (tmp_path / "prc").exists()
    a = read(raw, "catastro/catastro_predios.gpkg")
    b = read(tmp_path, "catastro/catastro_predios.gpkg")
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert (shapely.to_wkb(a.geometry.values) == shapely.to_wkb(b.geometry.values)).all()


# ----------------------------------------------------------------------------- other layers


def test_choice_fields_of_the_other_layers(raw: Path) -> None:
    sectors = read(raw, "territorio/sectores_planificacion.gpkg")
    assert set(sectors.sector) == set(LOCALITIES) and sectors.cod_sector.is_unique
    assert set(sectors.tipo) == {"urbana", "rural"}
    assert (sectors.area.sum() - shapely.union_all(sectors.geometry.values).area) < 1.0
    land_use = read(raw, "uso_suelo/uso_suelo_actual.gpkg")
    assert set(land_use.uso_actual) <= set(LAND_USES)
    assert pd.to_datetime(land_use.fecha, format="%Y-%m-%d").notna().all()
    hazards = read(raw, "riesgos/zonas_riesgo.gpkg")
    assert set(hazards.amenaza) == set(HAZARD_TYPES)
    assert set(hazards.nivel) <= set(HAZARD_LEVELS) and hazards.is_valid.all()
    routes = read(raw, "puerto/rutas_acceso_puerto.geojson")
    assert set(routes.category) == set(ROUTE_CATEGORIES)
    assert routes.trucks_day[routes.category == "ferrocarril"].eq(0).all()
    assert 3 <= routes.category.eq("ruta de camiones urbana").sum() <= 5
    terminals = read(raw, "puerto/terminales_portuarios.geojson")
    assert set(terminals.status) == {"en operación", "planificado"}


def test_routes_lie_in_the_comuna(raw: Path) -> None:
    area = comuna(raw).buffer(5.0)
    routes = read(raw, "puerto/rutas_acceso_puerto.geojson", 32719)
    assert shapely.within(routes.geometry.values, area).all()


def test_portfolio_is_a_municipal_spreadsheet(raw: Path) -> None:
    table, funding, facts = read_tables(raw / "inversion/cartera_proyectos.xlsx",
                                        "cartera_proyectos.xlsx", None)
    assert facts["hoja"] == "Cartera" and table.header_row == 5 and funding is None
    assert {"codigo", "nombre", "tipo", "situacion", "rate", "item_presupuestario",
            "unidad_responsable", "eje_pladeco", "objetivo_pladeco", "beneficiarios",
            "avance_fisico", "avance_financiero", "fecha_inicio", "fecha_termino", "fuente",
            "anio", "solicitado", "aprobado", "comprometido", "ejecutado", "rol", "direccion",
            "longitud", "latitud", "este", "norte", "wkt"} <= set(table.headers)
    rows = [r.values for r in table.rows]
    projects = {r["codigo"]: r for r in rows}
    assert 120 <= len(projects) <= 180 and len(rows) > len(projects) + 20  # several rows
    codes = list(projects)
    bip = [c for c in codes if not c.startswith("MUN-")]
    assert 0.2 < 1 - len(bip) / len(codes) < 0.5
    assert all(check_digit(int(c[:-2])) == c[-1] for c in bip)
    for r in rows:
        assert r["sector"] in PROJECT_SECTORS and r["etapa"] in STAGES
        assert r["fuente"] in FUNDING_CODES and 2018 <= r["anio"] <= 2028
        assert r["solicitado"] >= r["aprobado"] >= r["comprometido"] >= 0
    overspent = {r["codigo"] for r in rows if r["ejecutado"] > r["aprobado"]}
    assert 1 <= len(overspent) <= 5
    assert sum(r["ejecutado"] <= r["comprometido"] for r in rows) > 0.95 * len(rows)
    # where: mostly lon/lat (lines and areas also WKT), some UTM, rol and address
    by = {k: [p for p in projects.values() if p.get(k) is not None]
          for k in ("longitud", "wkt", "este", "rol", "direccion")}
    assert (len(by["rol"]), len(by["direccion"]), len(by["este"])) == (10, 5, 5)
    assert len(by["longitud"]) == len(projects) - 20 and len(by["wkt"]) > 40
    points = shapely.points([(p["longitud"], p["latitud"]) for p in by["longitud"]])
    assert shapely.within(reproject(points, 4326, 32719), comuna(raw)).all()
    wkt = shapely.from_wkt([p["wkt"] for p in by["wkt"]])
    assert shapely.within(reproject(wkt, 4326, 32719), comuna(raw).buffer(5.0)).all()
    parcels = read(raw, "catastro/catastro_predios.gpkg")
    rols = set(parcels.rol_sii.map(normalize_rol))
    assert all(normalize_rol(p["rol"]) in rols for p in by["rol"])
    addresses = parcels.direccion.map(normalize_address).value_counts()
    assert all(addresses.get(normalize_address(p["direccion"])) == 1
               for p in by["direccion"])
    # the CSV holds the same table, without the title rows
    with open(raw / "inversion/cartera_proyectos.csv", encoding="utf-8-sig") as fh:
        lines = list(csv.DictReader(fh, delimiter=";"))
    assert len(lines) == len(rows)
    assert [ln["Código BIP"] for ln in lines] == [r["codigo"] for r in rows]


def test_same_seed_gives_the_same_portfolio_bytes(raw: Path, tmp_path: Path) -> None:
    shutil.copytree(CHILE, tmp_path / "chile")
    generate(tmp_path, parcels=PARCELS, seed=SEED, only={"projects"})
    for name in ("cartera_proyectos.xlsx", "cartera_proyectos.csv"):
        assert (tmp_path / "inversion" / name).read_bytes() == \
            (raw / "inversion" / name).read_bytes()


def test_check_digit_as_rut() -> None:
    assert check_digit(12_345_678) == "5"
    assert check_digit(11_111_111) == "1"
    assert {check_digit(n) for n in range(10_000_000, 10_000_400)} >= {"K", "0"}


# ----------------------------------------------------------------------------- rasters


def test_dem_has_sea_west_and_hills_east(raw: Path) -> None:
    with rasterio.open(raw / "riesgos/dem_50m.tif") as src:
        dem = src.read(1)
        row, _ = src.index(256_500, 6_280_000)  # the port's latitude
    assert dem[row, :5].max() <= 0 or (dem[row, :5] == -9999).all()  # sea at the west edge
    east = dem[:, dem.shape[1] // 2:]
    assert east.max() > 100 and np.percentile(east, 50) > 100
    land = dem[(dem > 0)]
    assert land.min() > 0 and land.max() < 800


def test_tsunami_only_on_low_ground(raw: Path) -> None:
    with rasterio.open(raw / "riesgos/dem_50m.tif") as d, \
            rasterio.open(raw / "riesgos/tsunami_profundidad.tif") as t:
        dem, depth = d.read(1), t.read(1)
        assert t.transform == d.transform and t.shape == d.shape
    wet = depth > 0
    assert wet.sum() > 100
    assert dem[wet].max() < 16.0
    assert (depth[dem > 20] <= 0).all()
    assert (depth[dem == 0] == -9999).mean() > 0.9  # water cells are nodata
