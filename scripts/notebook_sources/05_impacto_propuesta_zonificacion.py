# ruff: noqa: B018, E402  (notebook cells: imports per cell, displayed values)
# %% [markdown]
# # 05 · Impacto de una propuesta de zonificación
#
# Una propuesta de modificación del PRC es una serie de cambios (crear, redibujar, cambiar
# normas, dividir, fusionar o eliminar zonas) sobre la versión vigente. En la plataforma web
# se guarda, se revisa y, una vez aprobada, se aplica como una nueva versión de la
# zonificación. Aquí se arma **en memoria** (no se guarda nada) y se mide su impacto con las
# mismas funciones que ve la revisión (`gis.proposals`):
#
# - predios que cambian de zona o de normas;
# - cabida teórica (superficie edificable, ocupación, viviendas) antes y después;
# - población del área modificada y cabida nueva dentro de zonas de riesgo;
# - usos de suelo y proyectos que cambian su conformidad.
#
# **Caso**: densificar parte de la zona residencial más extensa. Se divide con una línea
# norte–sur y la parte menor, una zona nueva («-B»), sube densidad, altura y
# constructibilidad.

# %%
import folium
import matplotlib.pyplot as plt
import pandas as pd
import shapely

import gis
from gis.analysis import capacity
from gis.database import connect
from gis.maps import add_layer, fit_to, new_map
from gis.proposals.diff import zoning_diff
from gis.proposals.impact import proposal_impact
from gis.proposals.operations import Operation, replay
from gis.proposals.store import base_zoning, zoning_version_in_force
from gis.proposals.validation import policy_warnings, validate_zoning
from gis.reading import version_table
from layers import get_layer

settings = gis.Settings()  # DATABASE_URL, o la base local del proyecto
MAPAS = "inline"  # Leaflet dentro de cada mapa: se ven sin conexión a internet

# %% [markdown]
# ## La zonificación vigente y la zona a modificar

# %%
with connect(settings) as conn:
    version = zoning_version_in_force(conn)
base = base_zoning(settings, version)
residenciales = base[base["familia"] == "residencial"]
zona = residenciales.loc[residenciales.area.idxmax()]
print(f"Zonificación vigente: versión {version}, {len(base)} zonas")
print(f"Zona elegida: {zona['codigo']} — {zona['nombre']} ({zona.geometry.area / 10_000:.1f} ha)")
normas = ["densidad_maxima", "altura_maxima", "pisos_maximos", "coef_constructibilidad",
          "coef_ocupacion_suelo", "superficie_predial_minima"]
zona[normas].to_frame("norma vigente")

# %% [markdown]
# ## Los cambios de la propuesta
#
# Las operaciones se aplican en orden sobre una copia de la zonificación (`replay`); cada una
# se valida antes (una línea que no corta la zona, un código repetido o una norma fuera de
# rango se rechazan con un mensaje en castellano).

# %%
centro = zona.geometry.representative_point()
oeste, sur, este, norte = zona.geometry.bounds
corte = shapely.LineString([(centro.x, sur - 50), (centro.x, norte + 50)])
nueva = f"{zona['codigo']}-B"
normas_nuevas = {"densidad_maxima": 800.0, "altura_maxima": 21.0, "pisos_maximos": 6,
                 "coef_constructibilidad": 2.4}
cambios = [
    Operation("dividir", codigo=zona["codigo"], nuevo_codigo=nueva, geometria=corte),
    Operation("normas", codigo=nueva, normas=normas_nuevas),
]
propuesta = replay(base, cambios)
print(f"La propuesta tiene {len(propuesta)} zonas (antes {len(base)})")

# %% [markdown]
# ## Validación
#
# Geometría y normas de la zonificación completa (polígonos válidos, dentro del límite
# urbano, sin traslapes ni vacíos) y los avisos para la revisión (vivienda nueva en zonas de
# riesgo, pérdida de áreas verdes, cambios en humedales protegidos).

# %%
limite_urbano = gis.read_layer("urban_limit").union_all()
problemas = validate_zoning(propuesta, limite_urbano, settings.zoning_gap_tolerance_m2)
avisos = policy_warnings(base, propuesta, gis.read_layer("hazard_zones"))
print("Errores:", [p.message for p in problemas] or "ninguno")
print("Avisos:", [p.message for p in avisos] or "ninguno")

# %% [markdown]
# ## Diferencias con la versión vigente

# %%
diferencias = zoning_diff(base, propuesta)
cambiadas = [f["properties"] for f in diferencias["features"] if "cambio" in f["properties"]]
pd.DataFrame([{"zona": c["codigo"], "cambio": c["cambio"],
               "agregado (ha)": round(c["agregado_m2"] / 10_000, 2),
               "quitado (ha)": round(c["quitado_m2"] / 10_000, 2),
               "normas cambiadas": ", ".join(
                   f"{n['titulo']}: {n['antes']} → {n['despues']}"
                   for n in c["normas_cambiadas"].values()) or "—"}
              for c in cambiadas])

# %% [markdown]
# ## Impacto
#
# Calculado en PostGIS contra la versión base (`proposal_impact`), con las reglas de cabida
# de `gis.analysis.capacity`. El resumen es el párrafo que ve el Concejo.

# %%
with connect(settings) as conn:
    impacto = proposal_impact(conn, version_table(get_layer("zoning"), version, settings),
                              base, propuesta)
print(impacto["resumen"])

t = impacto["totales"]
cabida = pd.DataFrame(
    {"antes": [t["edificable_antes_m2"], t["ocupacion_antes_m2"], t["viviendas_antes"]],
     "después": [t["edificable_despues_m2"], t["ocupacion_despues_m2"],
                 t["viviendas_despues"]]},
    index=["Superficie edificable (m²)", "Ocupación de suelo (m²)", "Viviendas"])
cabida["diferencia"] = cabida["después"] - cabida["antes"]
cabida.round(0)

# %%
predios = pd.DataFrame(impacto["predios"])
riesgo = pd.DataFrame(impacto["capacidad_en_riesgo"])
fig, (izq, der) = plt.subplots(1, 2, figsize=(11, 3.5))
predios["delta_viviendas"].plot.hist(bins=30, ax=izq, color="#fd8d3c")
izq.set_xlabel("Viviendas adicionales por predio")
izq.set_ylabel("Predios")
izq.set_title(f"{len(predios)} predios afectados")
if not riesgo.empty:
    (riesgo.assign(amenaza=riesgo["tipo"] + " (" + riesgo["nivel"] + ")")
     .set_index("amenaza")["delta_viviendas"].plot.barh(ax=der, color="#d7301f"))
der.set_xlabel("Viviendas de cabida agregadas")
der.set_ylabel("")
der.set_title("Cabida nueva dentro de zonas de riesgo")
plt.tight_layout()
plt.show()
riesgo

# %% [markdown]
# ## Mapa de la propuesta
#
# Las zonas modificadas y los predios afectados (al pasar el cursor: las viviendas que
# agrega cada uno).

# %%
afectados = gis.read_layer("parcels", where={"rol": predios["rol"].tolist()},
                           columns=["rol", "direccion", "destino"])
afectados = afectados.merge(predios[["rol", "zona_antes", "zona_despues", "delta_viviendas"]],
                            on="rol")
zonas_nuevas = propuesta[propuesta["codigo"].isin(impacto["zonas_cambiadas"])]

mapa = new_map(title=f"Propuesta: división de {zona['codigo']}", assets=MAPAS)
add_layer(mapa, zonas_nuevas.set_crs(base.crs, allow_override=True), "zoning",
          name="Zonas de la propuesta")
folium.GeoJson(
    afectados.to_crs(4326), name="Predios afectados",
    style_function=lambda f: {"color": "#a63603", "fillColor": "#fd8d3c", "weight": 0.5,
                              "fillOpacity": 0.7},
    tooltip=folium.GeoJsonTooltip(["rol", "direccion", "zona_antes", "zona_despues",
                                   "delta_viviendas"],
                                  aliases=["Rol", "Dirección", "Zona vigente",
                                           "Zona propuesta", "Viviendas adicionales"]),
).add_to(mapa)
folium.LayerControl(collapsed=False).add_to(mapa)
fit_to(mapa, tuple(zonas_nuevas.to_crs(4326).total_bounds))
mapa

# %% [markdown]
# ## Contraste con el análisis de cabida
#
# El impacto usa las reglas de cabida de `gis.analysis.capacity`, así que debe coincidir con
# ese análisis sobre la zonificación vigente: sus totales «antes» cubren todos los predios de
# las zonas cambiadas (también los que conservan su norma), y lo que agrega cada predio de la
# zona nueva es su lote por la diferencia de constructibilidad, y sus viviendas vigentes por
# el cociente de densidades.

# %%
cabida_vigente = capacity(settings, geometria=False)
en_zona = cabida_vigente[cabida_vigente["zona"] == zona["codigo"]]
en_zona_nueva = cabida_vigente[cabida_vigente["rol"].isin(predios["rol"])]
mas_edificable = normas_nuevas["coef_constructibilidad"] - zona["coef_constructibilidad"]
mas_viviendas = normas_nuevas["densidad_maxima"] / zona["densidad_maxima"] - 1
contraste = pd.DataFrame({
    "análisis de cabida": [en_zona["edificable_max_m2"].sum(), en_zona["viviendas_max"].sum(),
                           en_zona_nueva["superficie_m2"].sum() * mas_edificable,
                           en_zona_nueva["viviendas_max"].sum() * mas_viviendas],
    "impacto de la propuesta": [t["edificable_antes_m2"], t["viviendas_antes"],
                                predios["delta_edificable_m2"].sum(),
                                predios["delta_viviendas"].sum()]},
    index=[f"Edificable vigente en {zona['codigo']} (m²)",
           f"Viviendas vigentes en {zona['codigo']}",
           f"Edificable agregado en {nueva} (m²)", f"Viviendas agregadas en {nueva}"])
contraste["diferencia (%)"] = 100 * (contraste["impacto de la propuesta"]
                                     / contraste["análisis de cabida"] - 1)
contraste.round(2)

# %% [markdown]
# ## Comprobaciones
#
# Las cifras clave; `make test` ejecuta el cuaderno y verifica que se cumplan (también que
# nada quedó guardado en la base).

# %%
with connect(settings) as conn:
    sigue_vigente = zoning_version_in_force(conn)

resultados = {
    "zona": zona["codigo"],
    "zona_nueva": nueva,
    "zonas_cambiadas": impacto["zonas_cambiadas"],
    "predios_afectados": len(predios),
    "viviendas_antes": t["viviendas_antes"],
    "viviendas_despues": t["viviendas_despues"],
    "version_vigente": version,
}
assert not problemas, problemas
assert impacto["zonas_cambiadas"] == sorted([zona["codigo"], nueva])
assert not impacto["predios_truncado"] and len(predios) == t["predios_cambian_normas"]
assert set(predios["zona_antes"]) == {zona["codigo"]}
assert set(predios["zona_despues"]) <= {zona["codigo"], nueva}
assert t["viviendas_despues"] > t["viviendas_antes"]
assert t["edificable_despues_m2"] > t["edificable_antes_m2"]
assert t["ocupacion_despues_m2"] == t["ocupacion_antes_m2"], "la ocupación no cambió"
assert len(en_zona_nueva) == len(predios)
assert (contraste["diferencia (%)"].abs() < 0.1).all(), contraste
assert sigue_vigente == version, "la propuesta en memoria no debe crear una versión"
resultados
