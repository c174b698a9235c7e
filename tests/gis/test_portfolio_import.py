"""Importing a portfolio spreadsheet: every way of locating a project, several funding rows
per project, CSV and Excel as municipalities keep them, and every bad input reported with
its spreadsheet row and a Spanish reason, with nothing stored."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pytest
import shapely
from pyproj import Transformer

from gis.database import connect
from gis.ingest import ingest
from gis.portfolio import sheets
from gis.portfolio.codes import check_digit
from gis.portfolio.importer import PortfolioImportError, import_portfolio
from gis.portfolio.sheets import PortfolioFileError, PortfolioFileTooLargeError
from gis.settings import Settings
from tests.conftest import query
from tests.samples import ORIGIN

X, Y = ORIGIN
TO_LONLAT = Transformer.from_crs(32719, 4326, always_xy=True)
HEADER = ["Código BIP", "Nombre del proyecto", "Sector", "Etapa", "Fuente de financiamiento",
          "Año", "Monto solicitado ($)", "Monto aprobado", "Monto ejecutado", "Longitud",
          "Latitud"]
PARCELS = [  # rol, dirección, box (metres from ORIGIN)
    ("100-1", "Av. Barros Luco 1234", (0, 0, 50, 50)),
    ("100-2", "Manuel Rodríguez 455", (60, 0, 110, 50)),
    ("100-3", "Serrano 100", (120, 0, 170, 50)),
    ("100-4", "Serrano 100", (180, 0, 230, 50)),
    ("205-3", "Las Gaviotas 2769", (240, 0, 290, 50)),
]


def bip(n: int) -> str:
    number = 30_200_000 + n
    return f"{number}-{check_digit(number)}"


def lonlat(dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(X + dx, Y + dy)
    return round(lon, 7), round(lat, 7)


@pytest.fixture
def cadastre(settings: Settings, tmp_path: Path) -> Settings:
    """The comuna (a 10 km square around ORIGIN) and five parcels with addresses."""
    comuna = tmp_path / "comunas.gpkg"
    gpd.GeoDataFrame([{"codigo_comuna": "05601", "nombre": "San Antonio"}],
                     geometry=[shapely.box(X - 5000, Y - 5000, X + 5000, Y + 5000)],
                     crs=32719).to_file(comuna)
    ingest(settings, "comunas", comuna)
    parcels = tmp_path / "parcels.gpkg"
    gpd.GeoDataFrame([{"rol": r, "direccion": d} for r, d, _ in PARCELS],
                     geometry=[shapely.box(X + a, Y + b, X + c, Y + d)
                               for _, _, (a, b, c, d) in PARCELS], crs=32719).to_file(parcels)
    ingest(settings, "parcels", parcels)
    return settings


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]], *,
               titles: tuple[str, ...] = (), merge: tuple[str, ...] = (),
               sheet: str = "Cartera 2025") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for title in titles:
        ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append(row)
    for cells in merge:
        ws.merge_cells(cells)
    wb.save(path)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[Any]], *,
              delimiter: str = ",", encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(settings: Settings, path: Path, **options: Any) -> dict[str, Any]:
    with connect(settings) as conn:
        conn.autocommit = True
        return import_portfolio(conn, settings, "ana", path, **options)


def refused(settings: Settings, path: Path, **options: Any) -> dict[str, Any]:
    before = stored(settings)
    with pytest.raises(PortfolioImportError) as exc:
        run(settings, path, **options)
    assert stored(settings) == before
    assert "No se guardó nada" in exc.value.message or "no se guardó nada" in exc.value.message
    return exc.value.informe


def file_error(settings: Settings, path: Path, match: str, **options: Any) -> str:
    before = stored(settings)
    with pytest.raises(PortfolioFileError, match=match) as exc:
        run(settings, path, **options)
    assert stored(settings) == before
    return str(exc.value)


def stored(settings: Settings) -> tuple[int, int]:
    return (query(settings, "SELECT count(*) FROM layers.projects")[0][0],
            query(settings, "SELECT count(*) FROM cartera.financiamiento")[0][0])


def reasons(report: dict[str, Any]) -> dict[int, str]:
    """First row of each rejected project → its reasons joined."""
    return {r["filas"][0]: " | ".join(r["motivos"]) for r in report["rechazados"]}


def geometry_of(settings: Settings, code: str) -> shapely.Geometry:
    return shapely.from_wkt(query(settings, "SELECT ST_AsText(geom) FROM layers.projects "
                                  "WHERE codigo = %s", (code,))[0][0])


# --- the import paths -------------------------------------------------------------------------

def test_xlsx_with_title_rows_and_several_funding_rows_per_project(cadastre: Settings,
                                                                  tmp_path: Path) -> None:
    lon, lat = lonlat(100, 200)
    rows = [
        [bip(1), "Construcción CESFAM Llolleo", "salud", "ejecución", "FNDR", 2024,
         "1.500.000.000", 1_200_000_000, 300_000_000, lon, lat],
        [bip(1), "Construcción CESFAM Llolleo", "Salud", "Ejecución", "Sectorial", 2025,
         400_000_000, 400_000_000, None, lon, lat],
        [bip(1), "Construcción CESFAM Llolleo", "salud", "ejecución", "municipal", 2025,
         80_000_000, 50_000_000, 90_000_000, lon, lat],
        ["MUN-2025-004", "Plaza Villa El Sol", "áreas verdes", "diseño", "PMU", 2025,
         59_000_000, None, None, str(lon).replace(".", ","), str(lat).replace(".", ",")],
    ]
    path = write_xlsx(tmp_path / "cartera.xlsx", HEADER, rows,
                      titles=("Municipalidad de San Antonio - SECPLAC",
                              "Cartera de proyectos de inversión 2025", ""),
                      merge=("A1:K1", "A2:K2"))
    report = run(cadastre, path)
    assert report["fila_encabezado"] == 4 and report["hoja"] == "Cartera 2025"
    assert (report["filas_leidas"], report["proyectos"], report["creados"]) == (4, 2, 2)
    assert report["rechazados"] == [] and report["guardado"]
    assert [w for w in report["advertencias"] if "supera el aprobado" in w] == [
        f"Fila 7 ({bip(1)}): municipal 2025: el monto ejecutado ($ 90.000.000) supera el "
        "aprobado ($ 50.000.000)."]
    funding = query(cadastre, "SELECT fuente, anio, solicitado, aprobado, ejecutado FROM "
                    "cartera.financiamiento WHERE codigo = %s ORDER BY anio, fuente", (bip(1),))
    assert funding == [("FNDR", 2024, 1_500_000_000, 1_200_000_000, 300_000_000),
                       ("municipal", 2025, 80_000_000, 50_000_000, 90_000_000),
                       ("sectorial", 2025, 400_000_000, 400_000_000, 0)]
    assert query(cadastre, "SELECT fuentes, monto_clp, anio FROM layers.projects WHERE "
                 "codigo = %s", (bip(1),)) == [(["FNDR", "sectorial", "municipal"],
                                                1_650_000_000, 2024)]
    assert geometry_of(cadastre, bip(1)).distance(shapely.Point(X + 100, Y + 200)) < 0.05
    assert geometry_of(cadastre, "MUN-2025-004").distance(
        shapely.Point(X + 100, Y + 200)) < 0.05
    assert query(cadastre, "SELECT action, actor FROM audit.log WHERE action = "
                 "'proyecto.importar'") == [("proyecto.importar", "ana")]


def test_csv_semicolon_latin1_with_utm_wkt_rol_and_address(cadastre: Settings,
                                                          tmp_path: Path) -> None:
    line = shapely.LineString([lonlat(0, 500), lonlat(300, 500)])
    header = ["Cód. BIP", "Nombre", "Sector", "Etapa", "Tipología", "Avance físico (%)",
              "Fecha término", "Este", "Norte", "WKT", "Rol", "Dirección"]
    rows = [
        [bip(2), "Reposición Escuela Básica Barrancas", "educación", "diseño", "proyecto",
         "12,5", "31-12-2026", X + 400, Y - 300, "", "", ""],
        [bip(3), "Mejoramiento Av. Chile", "vialidad", "perfil", "", "", "", "", "",
         line.wkt, "", ""],
        ["MUN-2024-010", "Sede social Villa Las Gaviotas", "equipamiento comunitario",
         "idea", "", "", "", "", "", "", "00205-03", ""],
        ["MUN-2024-011", "Cámaras de televigilancia Llolleo", "seguridad", "idea", "", "",
         "", "", "", "", "", "AVENIDA BARROS LUCO N° 1234"],
        ["MUN-2024-012", "Centro del adulto mayor", "equipamiento comunitario", "idea", "",
         "", "", "", "", "", "", "Manuel Rodriguez 455"],
    ]
    path = write_csv(tmp_path / "cartera.csv", header, rows, delimiter=";",
                     encoding="latin-1")
    assert "Cód".encode("latin-1") in path.read_bytes()
    report = run(cadastre, path)
    assert report["creados"] == 5 and report["rechazados"] == [], report
    assert report["codificacion"] == "cp1252" and report["separador"] == ";"
    assert report["ubicaciones"] == {"coordenadas UTM 19S": 1, "WKT": 1, "rol": 1,
                                     "dirección": 2}
    assert geometry_of(cadastre, bip(2)).equals(shapely.Point(X + 400, Y - 300))
    assert geometry_of(cadastre, bip(3)).length == pytest.approx(300, abs=0.5)
    assert shapely.box(X + 240, Y, X + 290, Y + 50).contains(geometry_of(cadastre,
                                                                         "MUN-2024-010"))
    assert shapely.box(X, Y, X + 50, Y + 50).contains(geometry_of(cadastre, "MUN-2024-011"))
    assert shapely.box(X + 60, Y, X + 110, Y + 50).contains(
        geometry_of(cadastre, "MUN-2024-012"))
    assert query(cadastre, "SELECT avance_fisico, fecha_termino::text, tipo FROM "
                 "layers.projects WHERE codigo = %s", (bip(2),)) == [(12.5, "2026-12-31",
                                                                    "proyecto")]


def test_merged_data_cells_and_updates_keep_the_geometry(cadastre: Settings,
                                                        tmp_path: Path) -> None:
    lon, lat = lonlat(10, 10)
    rows = [[bip(4), "Colector aguas lluvia Pedro Montt", "saneamiento y aguas lluvia",
             "diseño", "FNDR", 2025, 900_000_000, None, None, lon, lat],
            [None, None, None, None, "FNDR", 2026, 700_000_000, None, None, None, None]]
    # the project's cells merged down over its two funding rows, as planners often do
    path = write_xlsx(tmp_path / "a.xlsx", HEADER, rows,
                      merge=("A2:A3", "B2:B3", "C2:C3", "D2:D3", "J2:J3", "K2:K3"))
    assert run(cadastre, path)["creados"] == 1
    assert stored(cadastre) == (1, 2)
    # the same code again, without location: the project is updated in place
    update = write_csv(tmp_path / "b.csv", ["Código", "Nombre", "Sector", "Etapa", "Rol"],
                       [[bip(4), "Colector aguas lluvia Pedro Montt", "saneamiento y aguas "
                         "lluvia", "ejecución", ""]])
    report = run(cadastre, update)
    assert (report["creados"], report["actualizados"]) == (0, 1)
    assert "1 proyectos ya estaban en la cartera: conservan lo que el archivo no trae " \
        "(Descripción, Tipología" in " ".join(report["advertencias"])
    assert stored(cadastre) == (1, 2)  # the funding the file does not bring is kept
    assert query(cadastre, "SELECT etapa, ST_X(geom)::int FROM layers.projects") == [
        ("ejecución", int(geometry_of(cadastre, bip(4)).x))]
    assert query(cadastre, "SELECT version FROM cartera.registro") == [(2,)]


# --- bad rows --------------------------------------------------------------------------------

BAD_ROWS = [  # (row, expected reason)
    ([bip(10), "Bueno uno", "salud", "idea", "FNDR", 2025, 100, 100, None], None),
    (["30132469-5", "Dígito malo", "salud", "idea", "FNDR", 2025, 1, 1, None],
     "el dígito verificador del código BIP 30132469-5 no es 5 sino 3"),
    ([bip(11), "Monto negativo", "salud", "idea", "FNDR", 2025, -5, None, None],
     "no puede ser negativo"),
    ([bip(12), "Monto con letras", "salud", "idea", "FNDR", 2025, "mucho", None, None],
     "«mucho» no es un número"),
    ([bip(13), "Fuente rara", "salud", "idea", "Lotería", 2025, 10, None, None],
     "«Lotería» no es una fuente de financiamiento conocida"),
    ([bip(14), "Etapa rara", "salud", "licitación", "FNDR", 2025, 10, None, None],
     "«licitación» no es un valor válido"),
    ([bip(15), "Fuera de la comuna", "salud", "idea", "FNDR", 2025, 10, None, None],
     "queda fuera de la comuna"),
    ([bip(16), "Sin ubicación", "salud", "idea", "FNDR", 2025, 10, None, None],
     "falta la ubicación"),
    ([bip(17), "Dirección inexistente", "salud", "idea", "FNDR", 2025, 10, None, None],
     "no se encontró la dirección «Av. Barros Lucco 1234» en el catastro; ¿quiso decir "
     "«Av. Barros Luco 1234» (rol 00100-00001)"),
    ([bip(18), "Dirección repetida", "salud", "idea", "FNDR", 2025, 10, None, None],
     "la dirección «Serrano 100» coincide con 2 predios (roles 00100-00003, 00100-00004); "
     "indique el rol"),
    ([bip(19), "Rol inexistente", "salud", "idea", "FNDR", 2025, 10, None, None],
     "el rol 999-1 no existe en el catastro de predios"),
    ([bip(20), "Bueno dos", "vialidad", "perfil", "", None, None, None, None], None),
]
LOCATIONS = {  # row index → (lon, lat, rol, dirección)
    6: (*lonlat(20_000, 0), "", ""), 7: ("", "", "", ""),
    8: ("", "", "", "Av. Barros Lucco 1234"), 9: ("", "", "", "Serrano 100"),
    10: ("", "", "999-1", ""),
}


def bad_file(tmp_path: Path) -> Path:
    header = HEADER[:9] + ["Longitud", "Latitud", "Rol", "Dirección"]
    rows = [cells + list(LOCATIONS.get(i, (*lonlat(5 * i, 0), "", "")))
            for i, (cells, _) in enumerate(BAD_ROWS)]
    return write_xlsx(tmp_path / "malo.xlsx", header, rows)


def test_every_bad_row_is_reported_with_its_row_and_nothing_is_saved(
        cadastre: Settings, tmp_path: Path) -> None:
    report = refused(cadastre, bad_file(tmp_path))
    found = reasons(report)
    for i, (_, reason) in enumerate(BAD_ROWS):
        row = i + 2  # the header is row 1
        if reason is None:
            assert row not in found
        else:
            assert reason in found[row], (row, found.get(row))
    assert report["validos"] == 2 and report["filas_rechazadas"] == 10
    assert stored(cadastre) == (0, 0)
    assert all(r["codigo"] for r in report["rechazados"])


def test_saving_the_valid_rows_only_and_a_dry_run(cadastre: Settings, tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    dry = run(cadastre, path, dry_run=True)
    assert dry["simulacion"] and not dry["guardado"] and dry["validos"] == 2
    assert len(dry["rechazados"]) == 10 and stored(cadastre) == (0, 0)
    report = run(cadastre, path, save_valid=True)
    assert report["guardado"] and report["creados"] == 2 and len(report["rechazados"]) == 10
    assert {r[0] for r in query(cadastre, "SELECT codigo FROM layers.projects")} == {
        bip(10), bip(20)}
    assert stored(cadastre) == (2, 1)


def test_conflicting_repeated_values_and_rows_without_code(cadastre: Settings,
                                                          tmp_path: Path) -> None:
    lon, lat = lonlat()
    rows = [[bip(30), "Plaza A", "áreas verdes", "idea", "PMU", 2025, 10, None, None, lon, lat],
            [bip(30), "Plaza B", "áreas verdes", "idea", "FRIL", 2025, 10, None, None, lon,
             lat],
            [None, "Sin código", "salud", "idea", None, None, None, None, None, lon, lat],
            ["Total", None, None, None, None, None, 20, None, None, None, None]]
    report = refused(cadastre, write_xlsx(tmp_path / "c.xlsx", HEADER, rows))
    found = reasons(report)
    assert "Fila 3: «Nombre del proyecto» es «Plaza B» pero otra fila del mismo proyecto " \
           "dice «Plaza A»" in found[2]
    assert "falta el código del proyecto" in found[4]
    assert any("Fila 5: fila de totales omitida" in w for w in report["advertencias"])


# --- bad files -------------------------------------------------------------------------------

def test_merged_header_cells(cadastre: Settings, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "m.xlsx", HEADER, [], titles=("Cartera",),
                      merge=("A2:C2",))
    file_error(cadastre, path, "Las celdas A2:C2 del encabezado están combinadas; separe "
                               "el encabezado en una columna por campo")


def test_missing_required_columns_are_named_with_the_columns_found(cadastre: Settings,
                                                                  tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", ["Código BIP", "Nombre del proyecto", "Monto"],
                     [[bip(1), "A", 5]])
    message = file_error(cadastre, path, "faltan columnas obligatorias: Sector, Etapa, una "
                                         "columna de ubicación")
    assert "Columnas encontradas en la fila 1: «Código BIP», «Nombre del proyecto», " \
           "«Monto»" in message


@pytest.mark.parametrize(("name", "content", "match"), [
    ("vacio.csv", b"", "está vacío"),
    ("blancos.csv", b"\r\n;;\r\n", "está vacío"),
    ("sin_encabezado.csv", b"a,b,c\n1,2,3\n", "no tiene una fila de encabezado"),
    ("viejo.xls", b"\xd0\xcf\x11\xe0", "Guárdelo como Excel"),
    ("roto.xlsx", b"PK\x03\x04 no es un zip", "no se pudo abrir como libro Excel"),
    ("binario.csv", b"abc\x00def", "no es un texto CSV"),
])
def test_unreadable_files(cadastre: Settings, tmp_path: Path, name: str, content: bytes,
                          match: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    file_error(cadastre, path, match)


def test_empty_sheet_and_sheet_option(cadastre: Settings, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Vacía"
    data = wb.create_sheet("Cartera")
    data.append(HEADER)
    data.append([bip(40), "Plaza", "áreas verdes", "idea", "PMU", 2025, 1, None, None,
                 *lonlat()])
    wb.save(tmp_path / "libro.xlsx")
    file_error(cadastre, tmp_path / "libro.xlsx", "La hoja «Vacía» del archivo «libro.xlsx» "
                                                  "está vacío")
    message = file_error(cadastre, tmp_path / "libro.xlsx", "no tiene una hoja «Proyectos»",
                         sheet="Proyectos")
    assert "«Vacía», «Cartera»" in message
    assert run(cadastre, tmp_path / "libro.xlsx", sheet="cartera")["creados"] == 1


def test_size_and_row_caps(cadastre: Settings, tmp_path: Path) -> None:
    big = tmp_path / "grande.csv"
    with big.open("wb") as fh:
        fh.truncate(sheets.MAX_BYTES + 1)
    with pytest.raises(PortfolioFileTooLargeError, match="el máximo es 20 MB"):
        run(cadastre, big)
    rows = [[bip(1), "A", "salud", "idea", "", "", "", "", "", "-71.6", "-33.6"]] * 20_011
    file_error(cadastre, write_csv(tmp_path / "largo.csv", HEADER, rows),
               "tiene más de 20.000 filas")
