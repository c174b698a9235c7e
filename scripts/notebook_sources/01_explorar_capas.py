# ruff: noqa: B018, E402  (notebook cells: imports per cell, displayed values)
# %% [markdown]
# # 01 · Explorar las capas de la plataforma
#
# Qué datos tiene la plataforma territorial de la SECPLAC de San Antonio y cómo leerlos desde
# Python:
#
# - el **catálogo** de capas: qué versión está vigente, cuándo y desde qué archivo se cargó;
# - el **historial de versiones** de una capa (la zonificación del PRC);
# - la lectura de capas como `GeoDataFrame` con `gis.read_layer`, con filtros;
# - un **mapa interactivo** (folium) con el estilo y la leyenda de cada capa.
#
# Se ejecuta de arriba abajo contra la base de demostración (`make notebooks`). El catastro,
# la zonificación, las amenazas y la cartera de proyectos de la demostración son **datos
# sintéticos**; los límites comunales y el Censo 2017 son reales (INE).

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import gis

# La base de datos: la de DATABASE_URL si está definida; si no, la base local del proyecto
# (la que inicia «make notebooks»).
settings = gis.Settings()
MAPAS = "inline"  # Leaflet va dentro de cada mapa: se ven sin conexión a internet

# %% [markdown]
# ## El catálogo de capas
#
# Cada capa está declarada una sola vez en `layers/` (campos, estilo, procedencia); el
# catálogo une esa declaración con la versión vigente cargada en PostGIS.

# %%
from gis.catalog import catalog, layer_versions
from gis.database import connect

with connect(settings) as conn:
    entradas = catalog(conn)

catalogo = pd.DataFrame([{
    "capa": e.name,
    "título": e.layer.title,
    "tema": e.layer.theme.value,
    "tipo": e.layer.kind,
    "versión": e.current.version if e.current else None,
    "entidades o celdas": e.current.feature_count if e.current else None,
    "cargada": e.current.loaded_at.strftime("%Y-%m-%d %H:%M") if e.current else None,
    "demostración": e.current.demo if e.current else None,
} for e in entradas])
catalogo["versión"] = catalogo["versión"].astype("Int64")
catalogo

# %% [markdown]
# ## Historial de versiones
#
# Cada carga de una capa crea una versión nueva; las anteriores quedan en el historial con
# su vigencia (desde, hasta). Así cualquier análisis puede repetirse con la zonificación
# vigente a una fecha (`fecha="2024-06-30"`) o con una versión dada (`version=1`).

# %%
with connect(settings) as conn:
    versiones = layer_versions(conn, "zoning")

pd.DataFrame([{
    "versión": v.version,
    "vigente": v.in_force,
    "desde": v.valid_from.strftime("%Y-%m-%d %H:%M"),
    "hasta": v.valid_to.strftime("%Y-%m-%d %H:%M") if v.valid_to else "—",
    "zonas": v.feature_count,
    "archivo": Path(v.source_file).name,
    "CRS de origen": v.source_crs,
    "cargada por": v.loaded_by,
} for v in versiones])

# %% [markdown]
# ## Leer capas como GeoDataFrame
#
# `gis.read_layer(nombre, where=..., bbox=..., columns=..., crs=..., version=...)` devuelve
# la capa en EPSG:32719 (UTM 19S, en metros: las superficies salen en m²) salvo que se pida
# otro sistema de coordenadas.

# %%
zonas = gis.read_layer("zoning")
print(f"{len(zonas)} zonas del PRC, en {zonas.crs.to_string()}")
zonas[["codigo", "nombre", "familia", "densidad_maxima", "altura_maxima",
       "coef_constructibilidad"]].head(8)

# %%
familias = (zonas.assign(superficie_ha=zonas.area / 10_000)
            .groupby("familia")
            .agg(zonas=("codigo", "count"), superficie_ha=("superficie_ha", "sum"))
            .sort_values("superficie_ha", ascending=False)
            .round(1))

ax = familias["superficie_ha"].plot.barh(color="#5e8c61", figsize=(7, 3.5))
ax.invert_yaxis()
ax.set_xlabel("Superficie (ha)")
ax.set_ylabel("")
ax.set_title("Superficie del Plan Regulador por familia de zonas")
plt.show()
familias

# %% [markdown]
# Los filtros: `where` compara campos con un valor o con una lista de valores; `bbox` recorta
# por extensión (en el sistema de coordenadas pedido). Por ejemplo, los predios de educación
# (destino SII «E») y los proyectos en ejecución, en coordenadas geográficas:

# %%
colegios = gis.read_layer("parcels", where={"destino": "E"}, crs=4326)
en_ejecucion = gis.read_layer("projects", where={"etapa": "ejecución"},
                              columns=["codigo", "nombre", "sector", "monto_clp"], crs=4326)
print(f"{len(colegios)} predios de educación; {len(en_ejecucion)} proyectos en ejecución")
en_ejecucion.drop(columns="geometry").sort_values("monto_clp", ascending=False).head()

# %% [markdown]
# ## Población por sector de planificación
#
# Los sectores urbanos son uniones de zonas censales (campo `zonas_censales`); los rurales no
# tienen zonas censales urbanas, por lo que aquí quedan con población 0.

# %%
sectores = gis.read_layer("planning_sectors")
censo = gis.read_layer("census_zones")

poblacion = (sectores[["codigo", "nombre", "area_tipo", "zonas_censales"]]
             .explode("zonas_censales")
             .merge(censo[["geocodigo", "poblacion", "pob_0_5", "pob_6_14", "pob_65_mas"]],
                    left_on="zonas_censales", right_on="geocodigo", how="left")
             .groupby(["codigo", "nombre", "area_tipo"], as_index=False)
             [["poblacion", "pob_0_5", "pob_6_14", "pob_65_mas"]].sum())
poblacion["% 0 a 14 años"] = (100 * (poblacion["pob_0_5"] + poblacion["pob_6_14"])
                              / poblacion["poblacion"].where(poblacion["poblacion"] > 0)).round(1)
poblacion["% 65 y más"] = (100 * poblacion["pob_65_mas"]
                           / poblacion["poblacion"].where(poblacion["poblacion"] > 0)).round(1)
poblacion.drop(columns=["pob_0_5", "pob_6_14", "pob_65_mas"]).sort_values(
    "poblacion", ascending=False)

# %% [markdown]
# ## Mapa interactivo
#
# `gis.maps.layer_map` dibuja una capa con el estilo, la leyenda y las fichas (al hacer clic)
# de su declaración; `add_layer` agrega otras. No hay mapa base en línea: el contorno
# comunal sirve de fondo (con internet se puede pedir uno con `tiles="OpenStreetMap"`).

# %%
from gis.maps import add_layer, layer_map

proyectos = gis.read_layer("projects")
mapa = layer_map("zoning", title="Zonificación PRC, sectores y proyectos", assets=MAPAS)
add_layer(mapa, sectores, "planning_sectors", popups=False, legend=False, show=False)
add_layer(mapa, proyectos, "projects")
mapa

# %% [markdown]
# ## Comprobaciones
#
# Las cifras clave de este cuaderno; `make test` lo ejecuta y verifica que se cumplan.
# `gis.connect()` da una conexión SQLAlchemy para consultas propias con pandas.

# %%
with gis.connect(settings) as sa_conn:
    en_base = pd.read_sql("SELECT (SELECT count(*) FROM layers.zoning) AS zonas, "
                          "(SELECT count(*) FROM layers.projects) AS proyectos, "
                          "(SELECT sum(poblacion) FROM layers.census_zones) AS poblacion",
                          sa_conn).iloc[0]

resultados = {
    "capas_registradas": len(catalogo),
    "capas_cargadas": int(catalogo["versión"].notna().sum()),
    "zonas_prc": len(zonas),
    "version_zonificacion": versiones[0].version,
    "proyectos": len(proyectos),
    "poblacion_sectores": int(poblacion["poblacion"].sum()),
}
assert resultados["capas_cargadas"] == resultados["capas_registradas"], "hay capas sin cargar"
assert versiones[0].in_force and versiones[0].feature_count == len(zonas)
assert len(zonas) == en_base["zonas"] and len(proyectos) == en_base["proyectos"]
assert abs(zonas.area.sum() / 10_000 - familias["superficie_ha"].sum()) < 1
assert resultados["poblacion_sectores"] == en_base["poblacion"], \
    "cada zona censal debe estar en exactamente un sector urbano"
resultados
