# ruff: noqa: B018, E402  (notebook cells: imports per cell, displayed values)
# %% [markdown]
# # 04 · Inversión y equidad territorial
#
# ¿Llega la inversión donde más se necesita? Con la cartera de proyectos y el Censo 2017
# (`gis.investment`):
#
# - el monto de cada proyecto se reparte entre las unidades territoriales según la parte de
#   su geometría en cada una (superficie, longitud o número de puntos); el monto de una
#   fuente es el aprobado, o el solicitado mientras no haya aprobación;
# - la población de los sectores se interpola desde las zonas censales, ponderada por los
#   predios residenciales;
# - el **índice de necesidad** (0 a 1) promedia cuatro indicadores normalizados: población,
#   % de edades dependientes (0–14 y 65+), densidad y % de superficie en riesgo alto;
# - el **ranking**: 1 = la unidad más subinvertida respecto de su necesidad.

# %%
import matplotlib.pyplot as plt

import gis
from gis.database import connect
from gis.investment import COLUMNS, budget_execution, investment_by_territory, investment_map
from gis.profile import profiles_table

settings = gis.Settings()  # DATABASE_URL, o la base local del proyecto
MAPAS = "inline"  # Leaflet dentro de cada mapa: se ven sin conexión a internet

with connect(settings) as conn:
    sectores = investment_by_territory(conn, "sector")
    zonas_censales = investment_by_territory(conn, "zona_censal")
    por_fuente = budget_execution(conn, "fuente")
    perfiles = profiles_table(conn, settings)

# %% [markdown]
# ## Ranking de los sectores de planificación
#
# Los sectores rurales no tienen población censal urbana: quedan al final del ranking.

# %%
columnas = ["ranking", "nombre", "poblacion", "n_proyectos", "monto_clp",
            "monto_por_habitante", "indice_necesidad", "monto_por_habitante_relativo"]
sectores.sort_values("ranking")[columnas].rename(columns=COLUMNS).set_index(COLUMNS["ranking"])

# %% [markdown]
# ## Inversión por habitante frente a necesidad
#
# Cada punto es una zona censal. Si la inversión siguiera a la necesidad, los puntos
# subirían hacia la derecha; la correlación de rangos (Spearman) lo resume.

# %%
urbanas = zonas_censales[zonas_censales["poblacion"] > 0]
rho = urbanas["monto_por_habitante"].corr(urbanas["indice_necesidad"], method="spearman")

fig, ax = plt.subplots(figsize=(8, 4.5))
ax.scatter(urbanas["indice_necesidad"], urbanas["monto_por_habitante"] / 1_000,
           s=urbanas["poblacion"] / 40, color="#2c7fb8", alpha=0.6, edgecolor="white")
for _, z in urbanas.nsmallest(5, "ranking").iterrows():
    ax.annotate(f"{z['codigo'][-6:]} (#{z['ranking']})",
                (z["indice_necesidad"], z["monto_por_habitante"] / 1_000),
                textcoords="offset points", xytext=(6, 4), fontsize=8, color="#b2182b")
ax.set_yscale("symlog", linthresh=10)
ax.set_xlabel("Índice de necesidad (0 a 1)")
ax.set_ylabel("Inversión por habitante (miles de CLP)")
ax.set_title(f"Zonas censales (tamaño: población) · Spearman ρ = {rho:.2f}")
plt.show()
print("La inversión por habitante", "acompaña" if rho > 0.3 else "no acompaña",
      f"a la necesidad (ρ = {rho:.2f}); en rojo, las cinco zonas más subinvertidas.")

# %% [markdown]
# ## Mapa de la inversión por habitante (folium)
#
# Clases por cuantiles; al hacer clic, todos los indicadores de la zona censal.

# %%
investment_map(zonas_censales, "monto_por_habitante",
               title="Inversión por habitante por zona censal", assets=MAPAS)

# %% [markdown]
# ## Necesidad e inversión relativa por sector urbano (mapas estáticos)

# %%
urbanos = sectores[sectores["poblacion"] > 0].to_crs(32719)
fig, (izq, der) = plt.subplots(1, 2, figsize=(11, 6))
urbanos.plot(column="indice_necesidad", cmap="OrRd", legend=True, ax=izq,
             edgecolor="#444444", linewidth=0.5,
             legend_kwds={"label": "Índice de necesidad", "shrink": 0.5})
urbanos.plot(column="monto_por_habitante_relativo", cmap="PuBu", legend=True, ax=der,
             edgecolor="#444444", linewidth=0.5,
             legend_kwds={"label": "Inversión por habitante / media comunal", "shrink": 0.5})
for eje, titulo in ((izq, "Necesidad"), (der, "Inversión por habitante relativa")):
    for _, s in urbanos.iterrows():
        punto = s.geometry.representative_point()
        eje.annotate(s["nombre"], (punto.x, punto.y), fontsize=7, ha="center")
    eje.set_axis_off()
    eje.set_title(titulo)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Ejecución presupuestaria por fuente de financiamiento

# %%
miles_de_millones = por_fuente[["aprobado", "ejecutado"]] / 1e9
ax = miles_de_millones.plot.barh(figsize=(8, 4), color=["#a6bddb", "#045a8d"])
ax.invert_yaxis()
ax.set_xlabel("Miles de millones de CLP")
ax.set_ylabel("")
ax.legend(["Aprobado", "Ejecutado"])
ax.set_title("Aprobado y ejecutado por fuente")
plt.show()
por_fuente

# %% [markdown]
# ## Inversión en zonas de riesgo alto
#
# El perfil territorial de cada proyecto (`gis.profile.profiles_table`) dice si toca una
# amenaza de nivel alto; con el costo total del proyecto, ¿cuánta inversión está expuesta?

# %%
costos = gis.read_layer("projects", columns=["codigo", "monto_clp"]).drop(columns="geometry")
perfiles = perfiles.merge(costos, on="codigo", how="left")
en_riesgo = perfiles[perfiles["riesgo_alto"]]
porcentaje = 100 * en_riesgo["monto_clp"].sum() / perfiles["monto_clp"].sum()
print(f"{len(en_riesgo)} de {len(perfiles)} proyectos tocan una amenaza alta: "
      f"{porcentaje:.1f} % del costo total de la cartera")
en_riesgo.sort_values("monto_clp", ascending=False)[
    ["codigo", "nombre", "sector", "etapa", "riesgos", "tsunami_max_m", "monto_clp"]].head(8)

# %% [markdown]
# ## Comprobaciones
#
# Las cifras clave; `make test` ejecuta el cuaderno y verifica que se cumplan.

# %%
censo = gis.read_layer("census_zones", columns=["poblacion"])
resultados = {
    "sectores": len(sectores),
    "sector_prioritario": sectores.loc[sectores["ranking"] == 1, "nombre"].item(),
    "poblacion_sectores": round(float(sectores["poblacion"].sum())),
    "monto_sectores_clp": round(float(sectores["monto_clp"].sum())),
    "monto_zonas_censales_clp": round(float(zonas_censales["monto_clp"].sum())),
    "proyectos": len(perfiles),
    "proyectos_riesgo_alto": len(en_riesgo),
}
assert sorted(sectores["ranking"]) == list(range(1, len(sectores) + 1))
assert sorted(zonas_censales["ranking"]) == list(range(1, len(zonas_censales) + 1))
assert abs(resultados["poblacion_sectores"] - censo["poblacion"].sum()) <= 1, \
    "la interpolación debe conservar la población censal"
assert resultados["monto_zonas_censales_clp"] <= resultados["monto_sectores_clp"] \
    <= perfiles["monto_clp"].sum() + 1
assert sectores["indice_necesidad"].between(0, 1).all()
assert (por_fuente["ejecutado"] <= por_fuente["solicitado"]).all()
resultados
