"""Proposal operations, validation and diff on a hand-made zoning whose results are known:
four 100 m × 100 m zones in a 200 m × 200 m urban area."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from gis.proposals.diff import zoning_diff
from gis.proposals.operations import Operation, OperationError, apply_operation, replay
from gis.proposals.validation import changed_zones, policy_warnings, validate_zoning

X0, Y0 = 260_000.0, 6_280_000.0  # near San Antonio in UTM 19S
URBAN = shapely.box(X0, Y0, X0 + 200, Y0 + 200)
NORMS = {"nombre": "Zona", "familia": "residencial",
         "usos_permitidos": ["residencial", "área verde"], "usos_prohibidos": None,
         "superficie_predial_minima": 200.0, "densidad_maxima": 400.0, "altura_maxima": 7.0,
         "pisos_maximos": 2, "sistema_agrupamiento": ["aislado"],
         "coef_constructibilidad": 1.0, "coef_ocupacion_suelo": 0.6, "antejardin": 3.0,
         "areas_riesgo": None, "area_proteccion": None, "afectacion_utilidad_publica": None,
         "instrumento": "PRC"}


def square(i: int, j: int) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(X0 + 100 * i, Y0 + 100 * j,
                                             X0 + 100 * (i + 1), Y0 + 100 * (j + 1))])


@pytest.fixture
def zones() -> gpd.GeoDataFrame:
    rows = [{"codigo": f"Z{i}{j}", **NORMS} for i in range(2) for j in range(2)]
    rows[3]["familia"] = "área verde"
    rows[3]["usos_permitidos"] = ["área verde"]
    rows[3]["usos_prohibidos"] = ["residencial"]
    rows[3]["densidad_maxima"] = 0.0
    geoms = [square(i, j) for i in range(2) for j in range(2)]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=32719)


def area_of(z: gpd.GeoDataFrame, code: str) -> float:
    return float(z.loc[z["codigo"] == code].geometry.area.sum())


def test_the_hand_made_zoning_is_valid(zones: gpd.GeoDataFrame) -> None:
    assert validate_zoning(zones, URBAN, 1.0) == []


def test_split_along_a_line_gives_two_zones_with_the_same_norms(zones) -> None:  # type: ignore[no-untyped-def]
    line = shapely.LineString([(X0 - 5, Y0 + 30), (X0 + 105, Y0 + 30)])
    out = apply_operation(zones, Operation("dividir", codigo="Z00", geometria=line,
                                           nuevo_codigo="Z00b"))
    assert area_of(out, "Z00") == pytest.approx(7000)  # the larger part keeps the code
    assert area_of(out, "Z00b") == pytest.approx(3000)
    assert out.loc[out["codigo"] == "Z00b", "altura_maxima"].item() == 7.0
    assert validate_zoning(out, URBAN, 1.0) == []


def test_split_line_that_does_not_cross_is_refused(zones) -> None:  # type: ignore[no-untyped-def]
    line = shapely.LineString([(X0 + 10, Y0 + 10), (X0 + 50, Y0 + 50)])  # inside only
    with pytest.raises(OperationError, match="no atraviesa"):
        apply_operation(zones, Operation("dividir", codigo="Z00", geometria=line,
                                         nuevo_codigo="N"))


def test_merge_adjacent_and_refuse_non_adjacent(zones) -> None:  # type: ignore[no-untyped-def]
    out = apply_operation(zones, Operation("fusionar", codigos=["Z00", "Z01"]))
    assert area_of(out, "Z00") == pytest.approx(20_000) and "Z01" not in set(out["codigo"])
    with pytest.raises(OperationError, match="no son contiguas"):
        apply_operation(zones, Operation("fusionar", codigos=["Z00", "Z11"]))  # corner only


def test_delete_gives_the_area_to_a_neighbour(zones) -> None:  # type: ignore[no-untyped-def]
    out = apply_operation(zones, Operation("eliminar", codigo="Z00", destino="Z10"))
    assert area_of(out, "Z10") == pytest.approx(20_000)
    assert validate_zoning(out, URBAN, 1.0) == []
    with pytest.raises(OperationError, match="no es vecina"):
        apply_operation(zones, Operation("eliminar", codigo="Z00", destino="Z11"))


def test_create_carves_the_new_zone_out_of_the_others(zones) -> None:  # type: ignore[no-untyped-def]
    new = shapely.box(X0 + 50, Y0 + 50, X0 + 150, Y0 + 150)
    out = apply_operation(zones, Operation("crear", codigo="ZN", geometria=new,
                                           normas={**NORMS, "nombre": "Nueva"}))
    assert area_of(out, "ZN") == pytest.approx(10_000)
    assert area_of(out, "Z00") == pytest.approx(7_500)
    assert validate_zoning(out, URBAN, 1.0) == []


def test_reshape_reports_overlap_gap_and_outside_with_their_place(zones) -> None:  # type: ignore[no-untyped-def]
    grown = shapely.box(X0, Y0, X0 + 120, Y0 + 100)  # into Z10 by 20 m
    out = apply_operation(zones, Operation("geometria", codigo="Z00", geometria=grown))
    problems = validate_zoning(out, URBAN, 1.0)
    overlap = [p for p in problems if "superponen" in p.message]
    assert len(overlap) == 1 and overlap[0].zones == ["Z00", "Z10"]
    assert overlap[0].geometry.area == pytest.approx(2_000)
    shrunk = shapely.box(X0, Y0, X0 + 80, Y0 + 100)
    gap = validate_zoning(apply_operation(
        zones, Operation("geometria", codigo="Z00", geometria=shrunk)), URBAN, 1.0)
    assert [p.geometry.area for p in gap if "Vacío" in p.message] == [pytest.approx(2_000)]
    outside = shapely.box(X0 - 50, Y0, X0 + 100, Y0 + 100)
    out3 = validate_zoning(apply_operation(
        zones, Operation("geometria", codigo="Z00", geometria=outside)), URBAN, 1.0)
    assert any("fuera del límite urbano" in p.message for p in out3)


@pytest.mark.parametrize("geometry, words", [
    (shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)]),
     "se cruza"),
    (shapely.LineString([(X0, Y0), (X0 + 1, Y0 + 1)]), "polígono"),
    (None, "Falta el polígono"),
])
def test_bad_polygons_are_refused(zones, geometry, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationError, match=words):
        apply_operation(zones, Operation("geometria", codigo="Z00", geometria=geometry))


@pytest.mark.parametrize("norms, words", [
    ({"altura_maxima": -3}, "menor que el mínimo"),
    ({"coef_ocupacion_suelo": 1.5}, "supera el máximo"),
    ({"usos_permitidos": ["casino"]}, "códigos desconocidos"),
    ({"familia": "espacial"}, "no es un código válido"),
    ({"altura": 10}, "no es una norma"),
    ({"pisos_maximos": 2.5}, "entero"),
    ({"densidad_maxima": "mucha"}, "número"),
])
def test_norms_out_of_range_or_unknown_are_refused(zones, norms, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationError, match=words):
        apply_operation(zones, Operation("normas", codigo="Z00", normas=norms))


def test_incoherent_norms_are_validation_errors(zones) -> None:  # type: ignore[no-untyped-def]
    out = apply_operation(zones, Operation("normas", codigo="Z00", normas={
        "densidad_maxima": 100.0,  # 4 inhabitants per 200 m² lot need 200 hab/ha
        "coef_constructibilidad": 2.0}))  # above 0.6 × 2 floors
    messages = " ".join(p.message for p in validate_zoning(out, URBAN, 1.0))
    assert "no alcanza para una vivienda por predio mínimo" in messages
    assert "supera lo que permiten la ocupación" in messages


def test_policy_warnings(zones) -> None:  # type: ignore[no-untyped-def]
    hazards = gpd.GeoDataFrame(
        [{"tipo": "tsunami", "nivel": "alto"}, {"tipo": "humedal protegido", "nivel": "alto"}],
        geometry=[shapely.box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200),
                  shapely.box(X0 + 150, Y0 + 150, X0 + 200, Y0 + 200)], crs=32719)
    out = apply_operation(zones, Operation("normas", codigo="Z11", normas={
        "familia": "residencial", "usos_permitidos": ["residencial"], "usos_prohibidos": [],
        "densidad_maxima": 300.0}))
    warnings = policy_warnings(zones, out, hazards)
    text = " ".join(w.message for w in warnings)
    assert "uso residencial en zona de riesgo de tsunami" in text
    assert "Disminuyen las áreas verdes" in text and "humedal protegido" in text
    assert all(w.kind == "aviso" for w in warnings)


def test_replay_names_the_failing_change_and_diff_reports_changes(zones) -> None:  # type: ignore[no-untyped-def]
    ops = [Operation("normas", codigo="Z00", normas={"altura_maxima": 10.5}),
           Operation("fusionar", codigos=["Z10", "Z11"], normas={"nombre": "Fusionada"})]
    out = replay(zones, ops)
    assert changed_zones(zones, out) == ["Z00", "Z10", "Z11"]
    diff = zoning_diff(zones, out)
    by_code = {f["properties"]["codigo"]: f["properties"] for f in diff["features"]
               if "cambio" in f["properties"]}
    assert by_code["Z00"]["normas_cambiadas"]["altura_maxima"] == {
        "titulo": "Altura máxima de edificación", "antes": 7.0, "despues": 10.5}
    assert by_code["Z11"]["cambio"] == "eliminada"
    assert by_code["Z10"]["agregado_m2"] == pytest.approx(10_000)
    with pytest.raises(OperationError, match="Cambio 2"):
        replay(zones, [ops[0], Operation("normas", codigo="NADA", normas={})])
