"""The project registry: field checks with Spanish messages, funding by source and year,
stage history, If-Match concurrency, attachments, and nothing saved on bad input."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import geopandas as gpd
import psycopg
import pytest
import shapely

from gis.database import connect
from gis.errors import ConflictError, PreconditionFailedError, PreconditionRequiredError
from gis.ingest import ingest
from gis.portfolio import attachments, store
from gis.portfolio.codes import check_digit, code_problem
from gis.portfolio.record import ProjectInputError, parse_number, parse_project
from gis.settings import Settings
from tests.conftest import query
from tests.samples import ORIGIN

X, Y = ORIGIN


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "codigo": "30132469-3", "nombre": "Construcción CESFAM Llolleo", "sector": "salud",
        "etapa": "diseño", "tipo": "proyecto", "situacion": "nueva", "rate": "RS",
        "item_presupuestario": "31.02.004", "beneficiarios": "12.500",
        "avance_fisico": "35,5", "fecha_inicio": "01-03-2025", "fecha_termino": "2027-12-31",
        "financiamiento": [
            {"fuente": "FNDR", "anio": 2025, "solicitado": "$ 1.500.000.000",
             "aprobado": 1_200_000_000, "ejecutado": 300_000_000},
            {"fuente": "municipal", "anio": 2026, "solicitado": 80_000_000}],
    }
    data.update(changes)
    return data


def project(**changes: Any) -> Any:
    return parse_project(body(**changes), geometry=shapely.Point(X, Y))


def problems(exc: pytest.ExceptionInfo[ProjectInputError]) -> dict[str, str]:
    return {p["campo"]: p["mensaje"] for p in exc.value.problems}


def counts(settings: Settings) -> tuple[int, ...]:
    return tuple(query(settings, f"SELECT count(*) FROM {t}")[0][0] for t in (
        "layers.projects", "cartera.registro", "cartera.financiamiento", "cartera.historial"))


# --- record: pure checks -------------------------------------------------------------------

def test_codes_and_check_digit() -> None:
    assert check_digit(30132469) == "3" and check_digit(19) == "1"
    assert code_problem("30132469-3") == ("30132469-3", None)
    assert code_problem("301324693") == ("30132469-3", None)  # dash left out
    assert code_problem("mun-2024-007") == ("MUN-2024-007", None)
    assert "no es 4 sino 3" in (code_problem("30132469-4")[1] or "")
    assert "no es un código BIP ni" in (code_problem("proyecto plaza")[1] or "")


def test_chilean_numbers_dates_and_labels_are_read() -> None:
    p = project(rate="recomendado satisfactoriamente", sector="Educacion")
    assert p.attributes["rate"] == "RS" and p.attributes["sector"] == "educación"
    assert p.attributes["beneficiarios"] == 12_500 and p.attributes["avance_fisico"] == 35.5
    assert str(p.attributes["fecha_inicio"]) == "2025-03-01"
    assert parse_number("1.234.567,5") == 1234567.5
    assert p.summary() == {"fuentes": ["FNDR", "municipal"], "monto_clp": 1_280_000_000,
                           "monto_ejecutado_clp": 300_000_000, "anio": 2025}


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"codigo": "30132469-7"}, "codigo", "dígito verificador"),
    ({"etapa": "licitación"}, "etapa", "no es un valor válido"),
    ({"sector": None}, "sector", "obligatorio"),
    ({"avance_fisico": 130}, "avance_fisico", "supera el máximo 100"),
    ({"fecha_termino": "2020-01-01"}, "fecha_termino", "anterior a la de inicio"),
    ({"financiamiento": [{"fuente": "FNDR", "anio": 2025, "aprobado": -5}]},
     "financiamiento[1].aprobado", "no puede ser negativo"),
    ({"financiamiento": [{"fuente": "FNDR", "anio": 2025, "aprobado": "mucho"}]},
     "financiamiento[1].aprobado", "no es un número"),
    ({"financiamiento": [{"fuente": "Lotería", "anio": 2025}]},
     "financiamiento[1].fuente", "no es una fuente de financiamiento conocida"),
    ({"financiamiento": [{"fuente": "FNDR", "anio": 1850}]},
     "financiamiento[1].anio", "no es un año"),
    ({"financiamiento": [{"fuente": "FNDR", "anio": 2025}, {"fuente": "fndr", "anio": 2025}]},
     "financiamiento[2]", "aparece dos veces"),
    ({"color": "rojo"}, "color", "no es un campo"),
])
def test_each_bad_field_is_named_in_spanish(changes: dict[str, Any], field: str,
                                            words: str) -> None:
    with pytest.raises(ProjectInputError) as exc:
        project(**changes)
    assert words in problems(exc)[field]
    assert "no se guardó" in exc.value.message


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ProjectInputError) as exc:
        project(codigo="30132469-7", etapa="x", avance_fisico=-1)
    assert {"codigo", "etapa", "avance_fisico"} <= set(problems(exc))


def test_executed_above_approved_warns_but_does_not_block() -> None:
    p = project(financiamiento=[{"fuente": "PMU", "anio": 2025, "aprobado": 100,
                                 "ejecutado": 150}])
    assert p.warnings == ["PMU 2025: el monto ejecutado ($ 150) supera el aprobado ($ 100)."]


# --- store ---------------------------------------------------------------------------------

@pytest.fixture
def comuna(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "comunas.gpkg"
    gpd.GeoDataFrame([{"codigo_comuna": "05601", "nombre": "San Antonio"}],
                     geometry=[shapely.box(X - 5000, Y - 5000, X + 5000, Y + 5000)],
                     crs=32719).to_file(path)
    ingest(settings, "comunas", path)
    return settings


def test_create_read_update_delete(comuna: Settings) -> None:
    settings = comuna
    with connect(settings) as conn:
        conn.autocommit = True
        saved = store.create_project(conn, settings, "ana", project())
        assert saved["version"] == 1 and saved["etag"] == '"p1"'
        assert saved["totales"]["aprobado"] == 1_200_000_000
        assert [h["etapa"] for h in saved["historial"]] == ["diseño"]
        row = query(settings, "SELECT fuentes, monto_clp, anio, rate FROM layers.projects")
        assert row == [(["FNDR", "municipal"], 1_280_000_000, 2025, "RS")]
        # the layer is in the catalog and its profile was computed on save
        assert query(settings, "SELECT feature_count FROM catalog.layer_versions WHERE "
                     "layer = 'projects' AND valid_to IS NULL") == [(1,)]
        assert query(settings, "SELECT count(*) FROM profiles.project_profiles") == [(1,)]

        moved = parse_project(body(etapa="ejecución", nota="Adjudicada la obra"),
                              geometry=shapely.Point(X + 100, Y))
        updated = store.update_project(conn, settings, "bea", "30132469-3", moved, '"p1"')
        assert updated["version"] == 2 and updated["modificado_por"] == "bea"
        assert [(h["etapa"], h["nota"]) for h in updated["historial"]] == [
            ("diseño", None), ("ejecución", "Adjudicada la obra")]
        assert query(settings, "SELECT ST_X(geom) FROM layers.projects") == [(X + 100,)]
        actions = [r[0] for r in query(settings, "SELECT action FROM audit.log ORDER BY id")]
        assert actions[-2:] == ["proyecto.crear", "proyecto.editar"]

        store.delete_project(conn, settings, "admin", "30132469-3", '"p2"')
    assert counts(settings) == (0, 0, 0, 0)
    assert query(settings, "SELECT count(*) FROM profiles.project_profiles") == [(0,)]


def test_connection_lost_after_the_commit_is_still_a_save(
        comuna: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile is computed after the save commits: losing the database then (here
    the server ends the session) must not report the saved project as failed."""
    import gis.profile

    def connection_lost(conn: psycopg.Connection, settings: Settings, codigo: str) -> None:
        conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    monkeypatch.setattr(gis.profile, "recompute_profile", connection_lost)
    with connect(comuna) as conn:
        conn.autocommit = True
        saved = store.create_project(conn, comuna, "ana", project())
        assert conn.closed or conn.broken
    assert saved["codigo"] == "30132469-3" and counts(comuna)[0] == 1


def test_duplicate_code_is_a_conflict(comuna: Settings) -> None:
    with connect(comuna) as conn:
        conn.autocommit = True
        store.create_project(conn, comuna, "ana", project())
        before = counts(comuna)
        with pytest.raises(ConflictError, match="Ya existe un proyecto"):
            store.create_project(conn, comuna, "ana", project(nombre="Otro"))
    assert counts(comuna) == before


def test_stale_or_missing_if_match_saves_nothing(comuna: Settings) -> None:
    with connect(comuna) as conn:
        conn.autocommit = True
        store.create_project(conn, comuna, "ana", project())
        store.update_project(conn, comuna, "bea", "30132469-3", project(nombre="B"), '"p1"')
        with pytest.raises(PreconditionFailedError, match="Conflicto de edición: bea"):
            store.update_project(conn, comuna, "ana", "30132469-3", project(nombre="A"),
                                 '"p1"')
        with pytest.raises(PreconditionRequiredError):
            store.update_project(conn, comuna, "ana", "30132469-3", project(nombre="A"), None)
    assert query(comuna, "SELECT nombre FROM layers.projects") == [("B",)]


def test_simultaneous_saves_one_wins_the_other_conflicts(comuna: Settings) -> None:
    """Two editors who read version 1 save at the same moment: one save lands, the other
    gets a conflict (never a silent overwrite)."""
    with connect(comuna) as conn:
        conn.autocommit = True
        store.create_project(conn, comuna, "ana", project())
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(who: str) -> None:
        with psycopg.connect(comuna.database_url, autocommit=True) as conn:
            barrier.wait()
            try:
                store.update_project(conn, comuna, who, "30132469-3",
                                     project(nombre=f"Versión de {who}"), '"p1"')
                outcomes[who] = "guardado"
            except PreconditionFailedError:
                outcomes[who] = "conflicto"

    threads = [threading.Thread(target=save, args=(w,)) for w in ("ana", "bea")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["conflicto", "guardado"]
    winner = next(w for w, o in outcomes.items() if o == "guardado")
    assert query(comuna, "SELECT nombre FROM layers.projects") == [(f"Versión de {winner}",)]


@pytest.mark.parametrize(("geometry", "words"), [
    (shapely.Point(X + 9000, Y), "queda fuera de la comuna (San Antonio)"),
    (shapely.GeometryCollection([shapely.Point(X, Y), shapely.LineString(
        [(X, Y), (X + 10, Y)])]), "un solo tipo"),
    (shapely.Polygon([(X, Y), (X + 10, Y + 10), (X + 10, Y), (X, Y + 10)]), "no es válida"),
])
def test_bad_geometry_is_refused(comuna: Settings, geometry: shapely.Geometry,
                                 words: str) -> None:
    with connect(comuna) as conn, pytest.raises(ProjectInputError) as exc:
        conn.autocommit = True
        store.create_project(conn, comuna, "ana",
                             parse_project(body(), geometry=geometry))
    assert words in problems(exc)["geometria"]
    assert counts(comuna) == (0, 0, 0, 0)


def test_several_places_of_one_kind_are_one_project(comuna: Settings) -> None:
    places = shapely.MultiPoint([(X, Y), (X + 800, Y + 300)])
    with connect(comuna) as conn:
        conn.autocommit = True
        saved = store.create_project(conn, comuna, "ana", parse_project(body(),
                                                                        geometry=places))
    assert saved["geometria"]["type"] == "MultiPoint"


def test_flat_layer_load_keeps_the_registry_in_step(settings: Settings,
                                                    tmp_path: Path) -> None:
    from tests.samples import sample_projects

    path = tmp_path / "p.gpkg"
    sample_projects().to_file(path)
    ingest(settings, "projects", path)
    assert query(settings, "SELECT codigo, fuente, anio, aprobado FROM cartera.financiamiento "
                 "ORDER BY codigo") == [("30123456-K", "municipal", 2026, 95_000_000),
                                        ("40015248-0", "FNDR", 2024, 3_500_000_000),
                                        ("MUN-2024-012", "PMU", 2025, 820_000_000)]
    sample_projects().iloc[:1].to_file(path)
    ingest(settings, "projects", path)
    assert query(settings, "SELECT codigo FROM cartera.registro") == [("40015248-0",)]


def test_attachments_are_checked_by_content(comuna: Settings) -> None:
    with connect(comuna) as conn:
        conn.autocommit = True
        store.create_project(conn, comuna, "ana", project())
        pdf = b"%PDF-1.4\n" + b"x" * 100
        entry = attachments.add_attachment(conn, "ana", "30132469-3", "../../etc/acta.pdf",
                                           pdf, "Acta de adjudicación")
        assert entry["nombre"] == "acta.pdf" and entry["tipo"] == "application/pdf"
        assert attachments.get_attachment(conn, "30132469-3", entry["id"])[2] == pdf
        with pytest.raises(attachments.AttachmentError, match="no es de un tipo admitido"):
            attachments.add_attachment(conn, "ana", "30132469-3", "foto.jpg", b"MZ\x90\x00")
        with pytest.raises(attachments.AttachmentError, match="vacío"):
            attachments.add_attachment(conn, "ana", "30132469-3", "x.pdf", b"")
        listed = store.project_json(conn, "30132469-3")["adjuntos"]
        assert [a["nombre"] for a in listed] == ["acta.pdf"]


def test_saving_a_project_refreshes_its_profile_and_only_its_neighbours_list(
        comuna: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from gis import profile as profile_module

    with connect(comuna) as conn:
        conn.autocommit = True
        store.create_project(conn, comuna, "ana", project())
        store.create_project(conn, comuna, "ana", parse_project(
            body(codigo="MUN-2025-001", sector="educación"), geometry=shapely.Point(X + 50, Y)))
        calls: list[tuple[str, ...]] = []
        real = profile_module.compute_sections

        def spy(conn, settings, codes, sections):  # type: ignore[no-untyped-def]
            calls.append((tuple(codes), tuple(sections)))
            return real(conn, settings, codes, sections)

        monkeypatch.setattr(profile_module, "compute_sections", spy)
        near = profile_module.current_profile(conn, comuna, "30132469-3")
        assert [p["codigo"] for p in near["proyectos_cercanos"]["proyectos"]] == ["MUN-2025-001"]
        calls.clear()
        store.update_project(conn, comuna, "bea", "MUN-2025-001", parse_project(
            body(codigo="MUN-2025-001", sector="educación"), geometry=shapely.Point(X + 3000, Y)),
            '"p1"')
        assert calls == [(("MUN-2025-001",), tuple(profile_module.SECTION_LAYERS))]
        calls.clear()
        near = profile_module.current_profile(conn, comuna, "30132469-3")
        assert calls == [(("30132469-3",), ("proyectos_cercanos",))]
        assert near["proyectos_cercanos"]["proyectos"] == []
