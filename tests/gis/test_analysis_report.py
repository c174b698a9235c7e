"""The territorial report of a parcel or point, against the small territory of
``test_analysis_common`` (values computed by hand below), with a second zoning version
that declares overlays, a truck route and a terminal.

Parcel 1-3 is box(70, 50, 150, 100) (4,000 m²): 1,500 m² in ZH-1 and 2,500 m² (62.5 %)
in ZM-2, which rules it; wholly in the medium tsunami zone box(60, 0, 160, 100); its
point on surface lies in sector S-01 and census zone 05601011001. The DEM cells whose
centre lies in it are columns 7-14 and rows 0-4: elevation 70-140 m (mean 105), slope
45° everywhere (10 m per 10 m cell), tsunami depth 0-4 m (mean 2). Project P-2 (a line at
y 90) crosses it, P-1 (a point at 30, 30) is √(40² + 20²) = 44.7 m away. The truck route
runs at y -100: 150 m away, inside the 200 m band; the terminal box(0, -300, 50, -250) is
√(20² + 300²) = 300.7 m away.
"""

from __future__ import annotations

import html
from pathlib import Path

import psycopg
import pytest
import shapely
from markupsafe import escape
from pyproj import Transformer

from gis.analysis import AreaOutsideError
from gis.analysis.report import (
    ParcelNotFoundError,
    ReportInputError,
    parcel_report,
    parcel_report_html,
    parcel_report_pdf,
)
from gis.ingest import ingest
from gis.settings import Settings
from layers.zoning import LAYER as ZONING
from tests.gis.test_analysis_common import X, Y, box, territory, write, zoning  # noqa: F401

TO_LONLAT = Transformer.from_crs(32719, 4326, always_xy=True)
NASTY = "<script>alert('x')</script> & «Ensanche»"


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(X + x, Y + y)
    return float(lon), float(lat)


@pytest.fixture
def place(territory: Settings, tmp_path: Path) -> Settings:  # noqa: F811
    rows, geoms = zoning()
    rows[1] = {**rows[1], "nombre": "Mixta <b>2</b>", "areas_riesgo": "tsunami",
               "area_proteccion": "Zona de conservación histórica",
               "afectacion_utilidad_publica": NASTY, "altura_maxima": 14.0,
               "pisos_maximos": 4, "sistema_agrupamiento": "aislado; pareado"}
    ingest(territory, "zoning", write(tmp_path / "v2", "zoning", rows, geoms))
    ingest(territory, "port_routes", write(tmp_path / "v2", "port_routes", [
        {"nombre": "Av. Portuaria", "categoria": "ruta de camiones urbana",
         "camiones_dia": 1200, "ruta_camiones": True}],
        [shapely.LineString([(X - 100, Y - 100), (X + 400, Y - 100)])]))
    ingest(territory, "port_terminals", write(tmp_path / "v2", "port_terminals", [
        {"nombre": "Terminal Sur", "estado": "en operación", "tipo_carga": "graneles"}],
        [box(0, -300, 50, -250)]))
    return territory


def report(settings: Settings, **kwargs) -> dict:  # type: ignore[no-untyped-def, type-arg]
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return parcel_report(conn, settings, **kwargs)


def test_parcel_report_by_rol(place: Settings) -> None:
    f = report(place, rol="1-3")
    assert f["sujeto"] == "predio" and f["consulta"] == {"rol": "1-3", "punto": None}
    assert f["predio"]["rol"] == "00001-00003" and f["predio"]["destino_nombre"] == "comercio"
    assert f["predio"]["superficie_geometrica_m2"] == 4000.0
    assert f["zonificacion"]["version"] == 2
    zone = f["zona"]
    assert (zone["codigo"], zone["nombre"], zone["porcentaje"]) == ("ZM-2", "Mixta <b>2</b>",
                                                                    62.5)
    norms = {n["campo"]: n for n in zone["normas"]}
    assert list(norms) == [fl.name for fl in ZONING.fields if fl.name not in ("codigo",
                                                                             "nombre")]
    assert norms["superficie_predial_minima"] == {
        "campo": "superficie_predial_minima", "titulo": "Superficie predial mínima",
        "valor": 300.0, "unidad": "m²"}
    assert norms["usos_permitidos"]["valor"] == ["residencial", "equipamiento comercio"]
    assert norms["densidad_maxima"]["unidad"] == "hab/ha" and norms["antejardin"]["valor"] is None
    assert [(z["codigo"], z["porcentaje"]) for z in f["zonas"]] == [("ZM-2", 62.5),
                                                                    ("ZH-1", 37.5)]
    assert f["superposiciones"] == {
        "areas_riesgo": [{"zona": "ZM-2", "area": "tsunami"}],
        "proteccion": [{"zona": "ZM-2", "area": "Zona de conservación histórica"}],
        "afectaciones": [{"zona": "ZM-2", "afectacion": NASTY}]}
    assert f["riesgos"] == [{"tipo": "tsunami", "nivel": "medio", "porcentaje": 100.0,
                             "fuente_estudio": None}]
    ra = f["rasters"]
    assert ra["elevacion"] == {"min": 70.0, "media": 105.0, "max": 140.0, "celdas": 40}
    assert ra["profundidad_tsunami"] == {"min": 0.0, "media": 2.0, "max": 4.0, "celdas": 40}
    assert ra["pendiente"]["min"] == ra["pendiente"]["max"] == 45.0
    assert f["territorio"]["sector"]["codigo"] == "S-01"
    assert f["territorio"]["zona_censal"]["geocodigo"] == "05601011001"
    assert f["territorio"]["limite_urbano"] is None
    assert f["uso_de_suelo"] == []
    port = f["puerto"]
    assert (port["ruta_camiones"]["nombre"], port["ruta_camiones"]["distancia_m"]) == (
        "Av. Portuaria", 150.0)
    assert port["en_banda"] == ["Av. Portuaria"] and port["banda_m"] == 200.0
    assert (port["terminal"]["nombre"], port["terminal"]["distancia_m"]) == ("Terminal Sur",
                                                                           300.7)
    near = f["proyectos_cercanos"]
    assert near["total"] == 2 and near["radio_m"] == 500.0
    assert [(p["codigo"], p["distancia_m"], p["etapa"], p["monto_clp"])
            for p in near["proyectos"]] == [("P-2", 0.0, "idea", 2_000_000),
                                            ("P-1", 44.7, "idea", 1_000_000)]
    verdict = f["cumplimiento"]
    assert (verdict["resultado"], verdict["regla"], verdict["zona"]) == (
        "conforme", "uso equipamiento comercio permitido en ZM-2", "ZM-2")
    cabida = f["cabida"]
    assert (cabida["edificable_max_m2"], cabida["ocupacion_max_m2"], cabida["viviendas_max"],
            cabida["lotes_max"], cabida["edificable_residual_m2"]) == (8000.0, 3200.0, 80.0,
                                                                       13, 8000.0)
    assert f["advertencias"] == []


def test_rol_forms_and_parcel_outside_the_prc(place: Settings) -> None:
    assert report(place, rol="00001-00002")["predio"]["rol"] == "00001-00002"
    assert report(place, rol=" 1 / 2 ")["predio"]["rol"] == "00001-00002"
    f = report(place, rol="1-7")  # x 280-380: 20 % in AV-3, 80 % outside every zone
    assert f["zona"] is None and [z["codigo"] for z in f["zonas"]] == ["AV-3"]
    assert f["cumplimiento"]["regla"] == "predio fuera de las zonas del Plan Regulador"
    assert f["cabida"]["edificable_max_m2"] == 0.0
    assert f["rasters"]["elevacion"] is None  # outside the DEM
    assert f["uso_de_suelo"] == []
    f = report(place, rol="1-8")  # box(0, 50, 70, 100): 400 of its 3,500 m² are security
    assert f["uso_de_suelo"] == [{"uso": "equipamiento seguridad", "porcentaje": 11.43}]
    assert f["predio"]["destino"] is None and f["predio"]["destino_nombre"] is None
    assert f["cumplimiento"]["regla"] == "predio sin destino SII"


def test_point_report_on_a_parcel_and_off_the_cadastre(place: Settings) -> None:
    on = report(place, punto=lonlat(25, 25))
    assert on["sujeto"] == "predio" and on["predio"]["rol"] == "00001-00001"
    assert on["zona"]["codigo"] == "ZH-1" and on["cumplimiento"]["resultado"] == "conforme"
    off = report(place, punto=lonlat(255, 75))  # in AV-3, on no parcel
    assert off["sujeto"] == "punto" and off["predio"] is None
    assert off["cumplimiento"] is None and off["cabida"] is None
    assert off["zona"]["codigo"] == "AV-3" and off["zona"]["porcentaje"] == 100.0
    assert off["riesgos"] == [{"tipo": "inundación", "nivel": "medio", "porcentaje": 100.0,
                               "fuente_estudio": None}]
    assert off["territorio"]["sector"]["codigo"] == "S-02"
    assert off["ubicacion"]["x"] == round(X + 255, 1)
    assert off["rasters"]["elevacion"] is None  # the DEM ends at x 200
    inside = report(place, punto=lonlat(155, 75))  # DEM column 15
    assert inside["rasters"]["elevacion"]["max"] == 150.0
    assert inside["rasters"]["muestra"] == "celda del punto consultado"


def test_bad_rol_and_points_are_refused_in_spanish(place: Settings, tmp_path: Path) -> None:
    with pytest.raises(ParcelNotFoundError) as unknown:
        report(place, rol="9-9")
    assert "00009-00009 no está en el catastro" in str(unknown.value)
    assert "/buscar?q=9-9" in str(unknown.value) and unknown.value.http_status == 404
    with pytest.raises(ReportInputError, match="no es un rol de avalúo válido"):
        report(place, rol="calle 3")
    with pytest.raises(ReportInputError, match="uno de los dos"):
        report(place, rol="1-3", punto=lonlat(25, 25))
    with pytest.raises(ReportInputError, match="uno de los dos"):
        report(place)
    with pytest.raises(ReportInputError, match="fuera del mundo"):
        report(place, punto=(-71.6, -133.6))
    with pytest.raises(AreaOutsideError, match="fuera de el área de trabajo"):
        report(place, punto=(-70.0, -33.6))
    lon, lat = lonlat(25, 25)
    with pytest.raises(AreaOutsideError, match="invertidas"):
        report(place, punto=(lat, lon))
    # with the comuna's boundary loaded, a point of the work area outside it is refused
    ingest(place, "comunas", write(tmp_path / "c", "comunas", [
        {"codigo_comuna": "05601", "nombre": "San Antonio"}], [box(-1000, -1000, 1000, 1000)]))
    with pytest.raises(AreaOutsideError, match="fuera de la comuna de San Antonio"):
        report(place, punto=lonlat(2000, 0))
    assert report(place, punto=lonlat(500, 500))["sujeto"] == "punto"


def test_html_escapes_and_shows_every_norm(place: Settings) -> None:
    with psycopg.connect(place.database_url, autocommit=True) as conn:
        page = parcel_report_html(conn, place, rol="1-3")
        pdf = parcel_report_pdf(conn, place, rol="1-3", mapa=False)
    assert "<script>alert" not in page and "<b>2</b>" not in page
    assert str(escape(NASTY)) in page and "&lt;script&gt;" in page
    assert "Zona ZM-2: Mixta &lt;b&gt;2&lt;/b&gt;" in page
    for field in ZONING.fields:
        if field.name not in ("codigo", "nombre"):
            assert html.escape(field.title, quote=False) in page, field.name
    assert "300 m²" in page and "800 hab/ha" in page and "aislado, pareado" in page
    assert "uso equipamiento comercio permitido en ZM-2" in page
    assert "8.000,0 m²" in page  # edificable máxima
    assert "data:image/png;base64," in page
    assert 'href="/analisis/informe?rol=1-3&amp;formato=pdf"' in page
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
