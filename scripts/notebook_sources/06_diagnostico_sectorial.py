# ruff: noqa: B018, E402  (notebook cells: imports per cell, displayed values)
# %% [markdown]
# # 06 · Diagnóstico sectorial: carta de situación comunal por sectores
#
# La situación de cada sector de planificación, para priorizar (`gis.analysis.diagnosis`):
#
# - población y estructura de edades (Censo 2017, interpolada a los sectores ponderando los
#   predios residenciales), densidad y **razón de dependencia** ((0–14 + 65 y más) / 15–64);
# - predios residenciales y **mixtura de usos** del suelo (entropía de Shannon, 0 = un solo
#   uso, 1 = todos los usos por igual);
# - superficie y población en **amenaza alta** (cualquier tipo);
# - inversión atribuida y por habitante (`gis.investment`);
# - un **índice de prioridad** (0 a 1: dependencia, densidad, población en amenaza alta e
#   inversión por habitante invertida) y su ranking (1 = mayor prioridad).
#
# Con `unit="zona_censal"` se obtiene la misma carta por zona censal.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import gis
from gis.analysis import export
from gis.analysis.diagnosis import (
    TITLES,
    USE_COLUMNS,
    comuna_summary,
    diagnosis_figure,
    diagnosis_map,
    sector_diagnosis,
)

settings = gis.Settings()  # DATABASE_URL, o la base local del proyecto
MAPAS = "inline"  # Leaflet dentro de cada mapa: se ven sin conexión a internet

# %% [markdown]
# ## La carta por sector, ordenada por prioridad

# %%
carta = sector_diagnosis(settings, unit="sector")
principales = ["ranking", "nombre", "poblacion", "densidad_hab_ha", "razon_dependencia",
               "pct_mayores_65", "pct_poblacion_riesgo_alto", "indice_mixtura_usos",
               "inversion_por_habitante", "indice_prioridad"]
carta.sort_values("ranking")[principales].rename(columns=TITLES).set_index(TITLES["ranking"])

# %% [markdown]
# ## Resumen comunal
#
# Una fila con los totales de los sectores; las proporciones se recalculan con esos totales
# (no son promedios de los sectores).

# %%
comuna = comuna_summary(settings, unit="sector")


def cifra(valor: float) -> str:
    """Un número como se escribe en Chile: 12.345,6."""
    return f"{valor:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")


(comuna[["poblacion", "superficie_ha", "densidad_hab_ha", "predios", "predios_residenciales",
         "pct_superficie_riesgo_alto", "poblacion_riesgo_alto", "pct_poblacion_riesgo_alto",
         "inversion_clp", "inversion_por_habitante"]]
 .rename(columns=TITLES).iloc[0].map(cifra).to_frame(comuna.loc[0, "nombre"]))

# %% [markdown]
# ## Estructura de edades de los sectores urbanos

# %%
urbanos = carta[carta["poblacion"] > 0].sort_values("ranking")
edades = urbanos.set_index("nombre")[["pob_0_5", "pob_6_14", "pob_15_64", "pob_65_mas"]]
edades = 100 * edades.div(edades.sum(axis=1), axis=0)
ax = edades.plot.barh(stacked=True, figsize=(8, 4),
                      color=["#fdd49e", "#fc8d59", "#9ecae1", "#3182bd"])
ax.invert_yaxis()
ax.set_xlabel("% de la población")
ax.set_ylabel("")
ax.legend(["0 a 5", "6 a 14", "15 a 64", "65 y más"], title="Años", ncols=4,
          loc="upper center", bbox_to_anchor=(0.5, -0.18))
ax.set_title("Estructura de edades (Censo 2017), por prioridad")
plt.show()

# %% [markdown]
# ## Perfil de indicadores
#
# Cada indicador normalizado entre los sectores urbanos (0 = el menor, 1 = el mayor): dónde
# se concentran las carencias de cada sector.

# %%
indicadores = ["densidad_hab_ha", "razon_dependencia", "pct_mayores_65",
               "pct_poblacion_riesgo_alto", "indice_mixtura_usos", "inversion_por_habitante",
               "indice_prioridad"]
perfil = urbanos.set_index("nombre")[indicadores]
normalizado = (perfil - perfil.min()) / (perfil.max() - perfil.min()).where(
    perfil.max() > perfil.min())
fig, ax = plt.subplots(figsize=(9, 4.5))
imagen = ax.imshow(normalizado.fillna(0).to_numpy(), cmap="YlOrRd", aspect="auto")
ax.set_xticks(range(len(indicadores)), [TITLES[c] for c in indicadores], rotation=30,
              ha="right", fontsize=8)
ax.set_yticks(range(len(normalizado)), normalizado.index, fontsize=8)
for (i, j), valor in pd.DataFrame(perfil.to_numpy()).stack().items():
    ax.text(j, i, f"{valor:,.2f}" if abs(valor) < 1000 else f"{valor / 1e6:,.1f} M",
            ha="center", va="center", fontsize=7)
fig.colorbar(imagen, ax=ax, label="Valor normalizado entre sectores")
ax.set_title("Indicadores por sector urbano (ordenados por prioridad)")
plt.show()

# %% [markdown]
# ## Usos de suelo
#
# Proporción de la superficie con uso levantado; los usos menores se agrupan en «otros».

# %%
usos = urbanos.set_index("nombre")[list(USE_COLUMNS)].rename(columns=USE_COLUMNS)
mayores = usos.mean().nlargest(6).index
usos = usos[mayores].assign(otros=100 - usos[mayores].sum(axis=1))
ax = usos.plot.barh(stacked=True, figsize=(8, 4), colormap="tab10")
ax.invert_yaxis()
ax.set_xlabel("% de la superficie con uso levantado")
ax.set_ylabel("")
ax.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=8)
plt.show()

# %% [markdown]
# ## Mapas
#
# El índice de prioridad en un mapa interactivo (clic: todos los indicadores del sector) y
# dos mapas estáticos para informes (`diagnosis_figure(...).savefig("mapa.png")`).

# %%
diagnosis_map(carta, "indice_prioridad", title="Índice de prioridad por sector",
              assets=MAPAS)

# %%
diagnosis_figure(urbanos, "pct_poblacion_riesgo_alto",
                 title="Población en amenaza alta (%) por sector urbano")

# %%
diagnosis_figure(urbanos, "razon_dependencia", title="Razón de dependencia por sector urbano")

# %% [markdown]
# ## Exportar la carta
#
# A Excel (o `.csv`, `.gpkg`, `.parquet`), con los títulos en castellano como encabezados.

# %%
archivo = Path(tempfile.mkdtemp(prefix="secplac-")) / "carta_sectores.xlsx"
export(carta.sort_values("ranking").rename(columns=TITLES), archivo)
print("Exportada a", archivo)

# %% [markdown]
# ## Comprobaciones
#
# Las cifras clave; `make test` ejecuta el cuaderno y verifica que se cumplan.

# %%
from gis.database import connect
from gis.investment import investment_by_territory

with connect(settings) as conn:
    inversion = investment_by_territory(conn, "sector").set_index("codigo")
censo = gis.read_layer("census_zones", columns=["poblacion"])

resultados = {
    "sectores": len(carta),
    "sector_prioritario": carta.loc[carta["ranking"] == 1, "nombre"].item(),
    "poblacion": round(float(carta["poblacion"].sum())),
    "predios": int(carta["predios"].sum()),
    "poblacion_riesgo_alto": round(float(carta["poblacion_riesgo_alto"].sum())),
}
assert sorted(carta["ranking"]) == list(range(1, len(carta) + 1))
assert carta.sort_values("ranking")["poblacion"].gt(0).is_monotonic_decreasing, \
    "los sectores sin población van al final del ranking"
assert carta["indice_prioridad"].dropna().between(0, 1).all()  # sin población: sin índice
assert abs(resultados["poblacion"] - censo["poblacion"].sum()) <= 1
assert round(float(comuna.loc[0, "poblacion"])) == resultados["poblacion"]
assert int(comuna.loc[0, "predios"]) == resultados["predios"]
assert (carta["poblacion_riesgo_alto"] <= carta["poblacion"] + 0.1).all()
con_usos = carta[carta["superficie_usos_ha"] > 0]
assert ((con_usos[list(USE_COLUMNS)].sum(axis=1) - 100).abs() < 0.1).all()
assert (carta.set_index("codigo")["inversion_clp"].round() == inversion["monto_clp"].round()
        ).all(), "la inversión del diagnóstico es la de gis.investment"
assert len(pd.read_excel(archivo)) == len(carta)
resultados
