"""Markup in data and in names, outside the web API: the report templates escape every
value (Jinja2 autoescape, no ``|safe``), folium maps escape popups, tooltips, legends and
titles, and the ``secplac`` command line prints hostile layer, analysis and project names
as text (Rich markup such as ``[/bold]`` once crashed it with a traceback) and refuses
unknown names in Spanish, changing nothing."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from markupsafe import escape

from api.ogc import templates
from gis.maps import add_layer, new_map
from gis.reports.render import environment
from gis.settings import Settings
from tests.conftest import query
from tests.gis.test_portfolio_import import lonlat
from tests.samples import ORIGIN

PROJECT = Path(__file__).resolve().parents[2]
HTML = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
RICH = "[/bold] [link=file:///etc/passwd]clic[/link] [red]rojo[/]"
"""Rich console markup: a closing tag with nothing open made ``rich`` raise."""


def test_templates_escape_every_value() -> None:
    for env in (environment(), templates.env):
        assert env.autoescape("x.html") is True if callable(env.autoescape) \
            else env.autoescape is True
        assert str(env.from_string("{{ v }}").render(v=HTML)) == str(escape(HTML))
    folders = [PROJECT / "gis" / "reports" / "templates", PROJECT / "api" / "templates"]
    unsafe = [f"{path.name}: {m}" for folder in folders for path in folder.glob("*.html")
              for m in re.findall(r"\|\s*safe\b|autoescape\s+false|Markup\(",
                                  path.read_text(encoding="utf-8"))]
    assert unsafe == []


def test_folium_layer_escapes_popups_tooltips_legend_and_title() -> None:
    x, y = ORIGIN
    projects = gpd.GeoDataFrame(
        {"codigo": ["INY-2026-001", "INY-2026-002"], "nombre": [HTML, "Plaza"],
         "etapa": [HTML, "diseño"], "descripcion": ["</script><script>alert(3)</script>",
                                                     None]},
        geometry=[shapely.Point(x, y), shapely.Point(x + 50, y)], crs=32719)
    m = new_map(title=HTML)
    add_layer(m, projects, "projects")
    page = m.get_root().render()
    for raw in ("<img src=x", "<script>alert(", "</script><script>"):
        assert raw not in page, raw
    assert str(escape(HTML)) in page  # the title, and the popup and tooltip in the data


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., Done]:
    """``secplac ARGS`` as its console script runs it (``gis.cli.main``), in this process:
    exit status, standard output and standard error."""
    from gis.cli import main

    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("SECPLAC_PROCESSED_DIR", str(settings.processed_dir))
    monkeypatch.setenv("SECPLAC_USER", "operadora")
    monkeypatch.setenv("COLUMNS", "250")

    def secplac(*args: str) -> Done:
        monkeypatch.setattr(sys, "argv", ["secplac", *args])
        with pytest.raises(SystemExit) as exit_:
            main()
        captured = capsys.readouterr()
        return Done(int(exit_.value.code or 0), captured.out, captured.err)

    return secplac


def refused_in_spanish(done: Done, words: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "MarkupError" not in done.stderr
    assert words in done.stderr, done.stderr


def test_cli_names_are_text_and_unknown_ones_refused(settings: Settings, tmp_path: Path,
                                                     run: Callable[..., Done]) -> None:
    versions = "SELECT count(*) FROM catalog.layer_versions"
    before = query(settings, versions)
    data = tmp_path / "zonas.geojson"
    data.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    for name in (RICH, "zoning; DROP TABLE catalog.layer_versions; --", "../../zoning"):
        refused_in_spanish(run("ingest", name, str(data)), f"La capa «{name}» no existe.")
        refused_in_spanish(run("layers", name), f"La capa «{name}» no existe.")
    refused_in_spanish(run("analisis", "ejecutar", RICH, "--salida", str(tmp_path / "x.csv")),
                       f"No existe el análisis «{RICH}».")
    refused_in_spanish(run("proyectos", "exportar", str(tmp_path / "c.xlsx"), "--formato",
                           f"xlsx;{RICH}"), "No se puede exportar la cartera")
    assert query(settings, versions) == before
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "c.xlsx").exists()


def test_cli_prints_hostile_project_names_as_text(tmp_path: Path,
                                                  run: Callable[..., Done]) -> None:
    name = f"{RICH} {HTML}"
    body = {"codigo": "INY-2026-010", "nombre": name, "sector": "deporte", "etapa": "perfil",
            "geometria": {"type": "Point", "coordinates": list(lonlat(30, 30))}}
    path = tmp_path / "proyecto.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    created = run("proyectos", "crear", "--archivo", str(path))
    assert created.returncode == 0, created.stderr
    for command in (["proyectos", "listar"], ["proyectos", "ver", "INY-2026-010"]):
        shown = run(*command)
        assert shown.returncode == 0, shown.stderr
        assert RICH in shown.stdout, shown.stdout  # the tags are shown, not applied
