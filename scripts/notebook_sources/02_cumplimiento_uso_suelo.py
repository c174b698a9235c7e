# ruff: noqa: B018, E402  (notebook cells: imports per cell, displayed values)
# %% [markdown]
# # 02 · Cumplimiento de usos de suelo
#
# Para cada predio del catastro, su **uso actual** (el destino SII traducido a clase de uso
# de la OGUC) frente a los usos **permitidos** y **prohibidos** de su zona del Plan Regulador:
#
# - **no conforme**: el uso está prohibido en la zona (lo prohibido prevalece);
# - **conforme**: el uso está permitido;
# - **no regulado**: la zona no menciona ese uso o no fija usos, el destino no tiene clase
#   OGUC (agrícola, forestal, sitio eriazo…) o el predio queda fuera de las zonas del PRC.
#
# Un predio pertenece a la zona que contiene la mayor parte de su superficie. El cálculo se
# hace en PostGIS (`gis.analysis.compliance`); aquí solo llegan los resultados, con la regla
# que decidió cada caso.

# %%
import tempfile
from pathlib import Path

import folium
import matplotlib.pyplot as plt
import pandas as pd

import gis
from gis.analysis import ANALYSES, compliance_summary, export
from gis.maps import add_layer, fit_to, new_map

settings = gis.Settings()  # DATABASE_URL, o la base local del proyecto
MAPAS = "inline"  # Leaflet dentro de cada mapa: se ven sin conexión a internet

# %% [markdown]
# ## Los análisis disponibles
#
# El registro `ANALYSES` reúne los análisis con el nombre que usan la línea de comandos
# (`secplac`) y la API; cada uno acepta `area=` (sector, zona censal o polígono) y
# `version=` / `fecha=` para la capa versionada.

# %%
pd.DataFrame([{"nombre": a.name, "título": a.title, "capa versionada": a.capa_versionada,
               "opciones": ", ".join(a.opciones)} for a in ANALYSES.values()])

# %% [markdown]
# ## Cumplimiento predio a predio
#
# Toda la comuna, con la zonificación vigente. `attrs` registra el área y la versión usadas.

# %%
cumplimiento = ANALYSES["cumplimiento"].function(settings)
print(cumplimiento.attrs)
conteo = cumplimiento["resultado"].value_counts()
conteo.to_frame("predios").assign(porcentaje=(100 * conteo / conteo.sum()).round(1))

# %% [markdown]
# ¿Qué usos chocan con la zonificación, y dónde? Los destinos de los predios no conformes
# por zona, y algunos casos con la regla que los decidió:

# %%
no_conformes = cumplimiento[cumplimiento["resultado"] == "no conforme"]
(no_conformes.groupby(["destino_nombre", "clase_oguc", "zona"]).size()
 .sort_values(ascending=False).head(10).to_frame("predios no conformes"))

# %%
no_conformes[["rol", "direccion", "destino_nombre", "zona", "regla", "superficie_m2"]].head(8)

# %% [markdown]
# ## Resumen por zona del PRC
#
# Las zonas con mayor proporción de predios no conformes son candidatas a revisar su norma
# de usos (o a fiscalizar).

# %%
por_zona = compliance_summary(settings, por="zona", geometria=False)
por_zona.sort_values("porcentaje_no_conforme", ascending=False).head(10)

# %% [markdown]
# ## Resumen por sector de planificación

# %%
por_sector = compliance_summary(settings, por="sector")
por_sector["nombre"] = por_sector["nombre"].fillna("Fuera de los sectores")
tabla = por_sector.drop(columns="geometry").set_index("nombre")

fig, (izq, der) = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
tabla[["conformes", "no_regulados", "no_conformes"]].plot.barh(
    stacked=True, ax=izq, color=["#74a9cf", "#d9d9d9", "#d7301f"])
izq.set_xlabel("Predios")
izq.set_ylabel("")
izq.legend(["Conformes", "No regulados", "No conformes"], loc="upper right")
izq.set_title("Predios por resultado")
tabla["porcentaje_no_conforme"].plot.barh(ax=der, color="#d7301f")
der.set_xlabel("% de predios no conformes")
der.set_title("Proporción de predios no conformes")
plt.tight_layout()
plt.show()
tabla

# %% [markdown]
# ## Mapa de los predios no conformes
#
# En rojo, los predios cuyo uso actual está prohibido en su zona; al pasar el cursor se ve
# el rol, la zona y la regla. Debajo, las zonas del PRC con su leyenda (clic: sus normas).

# %%
mapa = new_map(title="Predios no conformes con el uso de suelo del PRC", assets=MAPAS)
add_layer(mapa, gis.read_layer("zoning"), "zoning")
folium.GeoJson(
    no_conformes[["rol", "direccion", "destino_nombre", "zona", "regla", "geometry"]]
    .to_crs(4326),
    name="Predios no conformes",
    style_function=lambda f: {"color": "#99000d", "fillColor": "#ef3b2c", "weight": 1,
                              "fillOpacity": 0.85},
    tooltip=folium.GeoJsonTooltip(["rol", "direccion", "destino_nombre", "zona", "regla"],
                                  aliases=["Rol", "Dirección", "Destino", "Zona", "Regla"]),
).add_to(mapa)
folium.LayerControl(collapsed=False).add_to(mapa)
fit_to(mapa, tuple(no_conformes.to_crs(4326).total_bounds))
mapa

# %% [markdown]
# ## Un sector en detalle, y exportar
#
# El mismo resumen acotado al sector Llolleo (por nombre o código), exportado a Excel. La
# extensión elige el formato: `.xlsx`, `.csv`, `.gpkg` (GeoPackage) o `.parquet`
# (GeoParquet).

# %%
llolleo = compliance_summary(settings, area="Llolleo", por="zona", geometria=False)
archivo = export(llolleo, Path(tempfile.mkdtemp(prefix="secplac-")) / "cumplimiento_llolleo.xlsx")
print("Exportado a", archivo)
pd.read_excel(archivo).head()

# %% [markdown]
# ## Comprobaciones
#
# Las cifras clave; `make test` ejecuta el cuaderno y verifica que se cumplan.

# %%
with gis.connect(settings) as sa_conn:
    n_predios = int(pd.read_sql("SELECT count(*) AS n FROM layers.parcels", sa_conn)["n"][0])

resultados = {
    "predios": len(cumplimiento),
    "conformes": int(conteo.get("conforme", 0)),
    "no_conformes": int(conteo.get("no conforme", 0)),
    "no_regulados": int(conteo.get("no regulado", 0)),
    "zona_mas_no_conforme": por_zona.loc[por_zona["porcentaje_no_conforme"].idxmax(), "zona"],
    "predios_llolleo": int(llolleo["predios"].sum()),
}
assert len(cumplimiento) == n_predios and cumplimiento["rol"].is_unique
assert set(conteo.index) <= {"conforme", "no conforme", "no regulado"}
assert por_zona["predios"].sum() == n_predios == por_sector["predios"].sum()
for columna, resultado in (("conformes", "conforme"), ("no_conformes", "no conforme"),
                           ("no_regulados", "no regulado")):
    assert por_zona[columna].sum() == por_sector[columna].sum() == conteo.get(resultado, 0)
assert resultados["predios_llolleo"] == tabla.loc["Llolleo", "predios"]
assert (no_conformes["regla"].str.contains("prohibido")).all()
assert len(pd.read_excel(archivo)) == len(llolleo)
resultados
