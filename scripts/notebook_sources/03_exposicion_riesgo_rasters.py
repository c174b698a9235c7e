# ruff: noqa: B018, E402  (notebook cells: imports per cell, displayed values)
# %% [markdown]
# # 03 · Exposición a amenazas y estadísticas raster
#
# ¿Qué queda dentro de cada zona de amenaza (tsunami, inundación, remoción en masa, incendio
# forestal, contaminación portuaria…) y con qué nivel?
#
# - predios, superficie construida y avalúo fiscal;
# - **población estimada** (Censo 2017, interpolación areal ponderada por los predios
#   residenciales de cada zona censal);
# - proyectos de inversión y **equipamiento crítico** (salud, educación, seguridad).
#
# Luego, con los rasters (modelo de elevación de 50 m y profundidad de inundación por
# tsunami): elevación, pendiente y profundidad por sector y por predio, y el **suelo bajo la
# cota de seguridad de 30 m** (la regla de evacuación por tsunami).

# %%
import matplotlib.pyplot as plt

import gis
from gis.analysis import (
    ANALYSES,
    TSUNAMI_SAFE_ELEVATION_M,
    hazard_exposure,
    land_below_safe_elevation,
    raster_statistics,
)
from gis.maps import layer_map

settings = gis.Settings()  # DATABASE_URL, o la base local del proyecto
MAPAS = "inline"  # Leaflet dentro de cada mapa: se ven sin conexión a internet
NIVELES = ["alto", "medio", "bajo"]

# %% [markdown]
# ## Las zonas de amenaza
#
# Superficie (ha) de cada tipo de amenaza por nivel, tal como está cargada la capa.

# %%
amenazas = gis.read_layer("hazard_zones")
superficie = (amenazas.assign(superficie_ha=amenazas.area / 10_000)
              .pivot_table(index="tipo", columns="nivel", values="superficie_ha",
                           aggfunc="sum", fill_value=0)
              .reindex(columns=NIVELES, fill_value=0).round(1))
superficie

# %% [markdown]
# ## Exposición por tipo y nivel
#
# Un predio está expuesto si parte de su superficie cae en la amenaza (su construcción y su
# avalúo cuentan completos); un predio en dos niveles cuenta en ambos.

# %%
exposicion = ANALYSES["exposicion"].function(settings)
exposicion

# %%
poblacion = (exposicion.pivot_table(index="tipo", columns="nivel", values="poblacion",
                                    aggfunc="sum")
             .reindex(columns=NIVELES).fillna(0))
ax = poblacion.plot.barh(stacked=True, figsize=(8, 4),
                         color={"alto": "#d7301f", "medio": "#fc8d59", "bajo": "#fdcc8a"})
ax.set_xlabel("Población estimada (habitantes, Censo 2017)")
ax.set_ylabel("")
ax.set_title("Población expuesta por amenaza y nivel")
ax.legend(title="Nivel")
plt.show()

# %% [markdown]
# ### Equipamiento crítico y proyectos en amenaza alta

# %%
alto = exposicion[exposicion["nivel"] == "alto"].set_index("tipo")
alto[["predios", "poblacion", "equipamiento_salud", "equipamiento_educacion",
      "equipamiento_seguridad", "proyectos", "monto_proyectos_clp"]]

# %% [markdown]
# El mismo análisis acotado a un sector (por nombre o código): la exposición a tsunami del
# centro de San Antonio.

# %%
centro = hazard_exposure(settings, area="San Antonio centro")
centro[centro["tipo"] == "tsunami"][["nivel", "predios", "superficie_construida_m2",
                                      "avaluo_total_clp", "poblacion"]]

# %% [markdown]
# ## Elevación, pendiente y tsunami por sector
#
# Estadísticas zonales de los rasters en cada sector de planificación. `attrs` informa qué
# fracción del área cubre cada raster (y avisa si la cobertura es parcial).

# %%
rasters = raster_statistics(settings, por="sector")
print("Cobertura:", {k: round(v, 3) for k, v in rasters.attrs["cobertura"].items()},
      "| avisos:", rasters.attrs["avisos"] or "ninguno")
rasters.drop(columns="geometry")[[
    "sector", "nombre", "elevacion_media_m", "pendiente_media_grados", "pendiente_max_grados",
    "porcentaje_bajo_cota", "tsunami_max_m"]]

# %% [markdown]
# ## Suelo bajo la cota de seguridad (30 m) por zona censal

# %%
bajo_cota = land_below_safe_elevation(settings, por="zona_censal")
fig, ax = plt.subplots(figsize=(6, 7))
bajo_cota.plot(column="porcentaje_bajo_cota", cmap="Blues", legend=True, ax=ax,
               edgecolor="#555555", linewidth=0.4,
               legend_kwds={"label": f"% de la superficie bajo {TSUNAMI_SAFE_ELEVATION_M:g} m",
                            "shrink": 0.6})
ax.set_axis_off()
ax.set_title("Zonas censales: suelo bajo la cota de seguridad de tsunami")
plt.show()
bajo_cota.drop(columns="geometry").sort_values("porcentaje_bajo_cota", ascending=False).head(8)

# %% [markdown]
# ## Predio a predio: Llolleo
#
# Con `por="predio"` cada predio toma la celda bajo su punto interior cuando es menor que una
# celda del raster (50 m).

# %%
predios = raster_statistics(settings, area="Llolleo", por="predio", geometria=False)
inundables = predios[predios["tsunami_max_m"] > 0]
bajo_30 = predios[predios["elevacion_media_m"] < TSUNAMI_SAFE_ELEVATION_M]
print(f"{len(predios)} predios en Llolleo: {len(inundables)} con inundación por tsunami "
      f"(hasta {predios['tsunami_max_m'].max():.1f} m) y {len(bajo_30)} bajo "
      f"{TSUNAMI_SAFE_ELEVATION_M:g} m de elevación")
ax = predios["elevacion_media_m"].plot.hist(bins=40, color="#6baed6", figsize=(7, 3))
ax.axvline(TSUNAMI_SAFE_ELEVATION_M, color="#d7301f", linestyle="--")
ax.set_xlabel("Elevación del predio (m)")
ax.set_ylabel("Predios")
plt.show()

# %% [markdown]
# ## Mapa de la amenaza de tsunami

# %%
layer_map("hazard_zones", where={"tipo": "tsunami"}, title="Amenaza de tsunami por nivel",
          assets=MAPAS)

# %% [markdown]
# ## Comprobaciones
#
# Las cifras clave; `make test` ejecuta el cuaderno y verifica que se cumplan.

# %%
censo = gis.read_layer("census_zones", columns=["geocodigo", "poblacion"])
tsunami_alto = exposicion.set_index(["tipo", "nivel"]).loc[("tsunami", "alto")]
resultados = {
    "filas_exposicion": len(exposicion),
    "predios_tsunami_alto": int(tsunami_alto["predios"]),
    "poblacion_tsunami_alto": round(float(tsunami_alto["poblacion"])),
    "zonas_censales": len(bajo_cota),
    "predios_llolleo": len(predios),
    "predios_llolleo_inundables": len(inundables),
}
assert set(zip(exposicion["tipo"], exposicion["nivel"], strict=True)) == set(
    zip(amenazas["tipo"], amenazas["nivel"], strict=True))
assert (exposicion["poblacion"] <= censo["poblacion"].sum() + 1).all()
assert resultados["predios_tsunami_alto"] > 0 and resultados["poblacion_tsunami_alto"] > 0
assert (centro["predios"] <= exposicion["predios"]).all()
assert len(bajo_cota) == len(censo)
assert bajo_cota["porcentaje_bajo_cota"].between(0, 100).all()
assert (bajo_cota["superficie_bajo_cota_m2"] <= bajo_cota["superficie_m2"] + 1).all()
assert rasters.attrs["cobertura"]["dem"] > 0.99
assert (inundables["elevacion_min_m"] < TSUNAMI_SAFE_ELEVATION_M).all(), \
    "un predio inundable por tsunami no puede estar sobre la cota de seguridad"
resultados
