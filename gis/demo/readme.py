"""The README (in Spanish) of the raw data folder: what each file is, its CRS and encoding,
how it was generated, and the attribution of the real data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
import pyogrio.errors

FILES = (  # path, content, CRS, encoding
    ("territorio/comunas_censo2017.geojson",
     "6 comunas de la provincia con población Censo 2017 por sexo y grupo de edad "
     "(conteos reales sumados por grupo)", "EPSG:4326", "UTF-8"),
    ("territorio/zonas_censales_censo2017.geojson",
     "26 zonas censales urbanas con población Censo 2017 por grupo de edad (conteos "
     "reales)", "EPSG:4326", "UTF-8"),
    ("territorio/sectores_planificacion.gpkg",
     "Sectores de planificación: localidades urbanas (uniones de zonas censales) y "
     "rurales (dibujadas)", "EPSG:32719", "UTF-8"),
    ("prc/limite_urbano.gpkg", "Límite urbano del PRC", "EPSG:32719", "UTF-8"),
    ("prc/zonificacion_prc.shp (+ .shx .dbf .prj .cpg)",
     "Zonificación PRC con normas urbanísticas (archivo municipal antiguo: columnas en "
     "mayúsculas)", "EPSG:24879 (PSAD56 / UTM 19S)", "Latin-1 (.cpg LATIN1)"),
    ("uso_suelo/uso_suelo_actual.gpkg",
     "Uso de suelo actual por manzana y grandes áreas", "EPSG:32719", "UTF-8"),
    ("catastro/catastro_predios.gpkg",
     "Catastro de predios: rol SII (con ceros a la izquierda variables), dirección, "
     "destino, serie, superficies y avalúo", "EPSG:5361 (SIRGAS-Chile 2002 / UTM 19S)",
     "UTF-8"),
    ("puerto/rutas_acceso_puerto.geojson",
     "Rutas de acceso al puerto (Ruta 78, Ruta 66, rutas urbanas de camiones, "
     "ferrocarril)", "EPSG:4326", "UTF-8"),
    ("puerto/terminales_portuarios.geojson",
     "Terminales portuarios en operación y Puerto Exterior (planificado)", "EPSG:4326",
     "UTF-8"),
    ("riesgos/dem_50m.tif", "Modelo digital de elevación, celdas de 50 m, float32, "
     "nodata -9999 (mar = 0)", "EPSG:32719", "GeoTIFF DEFLATE, teselado"),
    ("riesgos/tsunami_profundidad.tif",
     "Profundidad de inundación por tsunami (m), misma grilla; nodata -9999 en el agua",
     "EPSG:32719", "GeoTIFF DEFLATE, teselado"),
    ("riesgos/zonas_riesgo.gpkg",
     "Zonas de riesgo: tsunami, inundación, remoción en masa, incendio forestal "
     "(interfaz), humedal protegido, contaminación portuaria", "EPSG:32719", "UTF-8"),
    ("inversion/cartera_proyectos.xlsx",
     "Cartera de proyectos de inversión como la lleva la SECPLAC: planilla Excel con filas "
     "de título, una fila por proyecto, fuente de financiamiento y año (código BIP con "
     "dígito verificador o código municipal); ubicación por longitud/latitud (calles y "
     "áreas también en WKT), coordenadas UTM, rol SII o dirección de un predio del catastro",
     "EPSG:4326 (Longitud, Latitud, WKT); EPSG:32719 (Este, Norte)", "Excel .xlsx"),
    ("inversion/cartera_proyectos.csv",
     "La misma cartera en CSV, sin las filas de título (para quien no usa Excel)",
     "EPSG:4326 (Longitud, Latitud, WKT); EPSG:32719 (Este, Norte)",
     "UTF-8 con BOM, separado por punto y coma"),
)


def _attribution(source_md: Path) -> str:
    """The opening paragraphs of chile/SOURCE.md (everything before its file table)."""
    if not source_md.exists():
        return "(ver chile/SOURCE.md)"
    lines = []
    for line in source_md.read_text(encoding="utf-8").splitlines()[1:]:
        if line.startswith("|"):
            break
        lines.append(line)
    text = "\n".join(lines).strip()
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


def _census_note(chile: Path) -> str:
    """Why the census zones add up to less than the zone CSV (rural localities)."""
    try:
        csv = pd.read_csv(chile / "censo2017_zonas_san_antonio.csv", dtype={"geocodigo": str})
        zones = pyogrio.read_dataframe(chile / "zonas_censales_san_antonio.geojson",
                                       read_geometry=False)
    except (OSError, pyogrio.errors.DataSourceError):
        return ""
    with_polygon = csv[csv.geocodigo.isin(zones.geocodigo)].poblacion.sum()
    dots = "{:,}".format
    return (f"- Las {len(zones)} zonas censales suman {dots(with_polygon)} habitantes; el CSV "
            f"de zonas de `chile/` suma {dots(csv.poblacion.sum())} porque incluye también "
            "localidades rurales y códigos sin polígono.\n").replace(",", ".")


def render(raw_dir: Path, parcels: int, seed: int) -> str:
    """Text of ``raw_dir/README.md``."""
    rows = "\n".join(f"| `{p}` | {what} | {crs} | {enc} |" for p, what, crs, enc in FILES)
    count = f"{parcels:,}".replace(",", ".")
    return f"""# Datos de entrada (`data/raw`)

Archivos tal como los recibiría la Municipalidad de San Antonio (SECPLAC), para cargarlos
en la plataforma con el pipeline de ingesta. Los nombres de columna son los de origen; la
ingesta los asocia a los campos de cada capa (`layers/`). Las listas de valores se
escriben en un solo texto separado por `"; "`.

## Origen

- `chile/`: **datos reales** (INE, SUBDERE, BCN vía chilemapas; ver `chile/SOURCE.md`).
- Todo lo demás son **datos de demostración** generados por `secplac demo generate`
  (o `python -m gis.demo`; en Python `gis.demo.generate`) con la semilla **{seed}** y
  **{count}** predios. Con la misma semilla y tamaño se obtienen exactamente los
  mismos archivos. Son datos sintéticos, no oficiales: calles, direcciones, roles,
  avalúos, zonas del PRC, riesgos y proyectos no corresponden a la realidad.
  Excepción parcial: `territorio/comunas_censo2017.geojson` y
  `territorio/zonas_censales_censo2017.geojson` conservan las geometrías y los conteos
  reales de `chile/`, solo reorganizados (una columna por grupo de edad o sexo).

## Archivos

| archivo | contenido | SRC | codificación |
| --- | --- | --- | --- |
{rows}

Notas:
- Los rol SII vienen escritos como los digitan los usuarios (`1999-54`, `01999-00054`,
  `205-3`); son únicos al normalizarlos a 5+5 dígitos.
- El shapefile de zonificación está en PSAD56 (unos 400 m desplazado respecto de WGS 84):
  debe reproyectarse con su `.prj`, nunca leerse como si fuera WGS 84.
- Los códigos BIP llevan dígito verificador módulo 11 (como el RUT; `K` para 10).
- La cartera de proyectos se carga con el importador de carteras (`secplac proyectos
  importar`), que ubica los proyectos sin coordenadas por el rol o la dirección en el
  catastro: por eso se genera junto con él (mismos predios).
{_census_note(raw_dir / "chile")}
## Atribución de los datos reales (`chile/SOURCE.md`)

{_attribution(raw_dir / "chile" / "SOURCE.md")}
"""


def write_readme(raw_dir: Path, parcels: int, seed: int) -> Path:
    """Write ``raw_dir/README.md``."""
    path = Path(raw_dir) / "README.md"
    path.write_text(render(Path(raw_dir), parcels, seed), encoding="utf-8")
    return path
