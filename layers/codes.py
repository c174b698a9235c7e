"""Code lists of Chilean planning shared by several layers (see domain notes)."""

OGUC_USES = (
    "residencial",
    "equipamiento científico",
    "equipamiento comercio",
    "equipamiento culto y cultura",
    "equipamiento deporte",
    "equipamiento educación",
    "equipamiento esparcimiento",
    "equipamiento salud",
    "equipamiento seguridad",
    "equipamiento servicios",
    "equipamiento social",
    "actividad productiva inofensiva",
    "actividad productiva molesta",
    "actividad productiva peligrosa",
    "infraestructura transporte",
    "infraestructura sanitaria",
    "infraestructura energética",
    "espacio público",
    "área verde",
)
"""Land-use classes of the OGUC (art. 2.1.24 ff.) used for permitted/prohibited uses."""

SII_DESTINOS = {
    "A": "agrícola", "B": "agroindustrial", "C": "comercio", "D": "deporte",
    "E": "educación", "F": "forestal", "G": "hotel, motel", "H": "habitacional",
    "I": "industria", "L": "bodega y almacenaje", "M": "minería", "O": "oficina",
    "P": "administración pública", "Q": "culto", "S": "salud",
    "T": "transporte y telecomunicaciones", "V": "otros", "W": "sitio eriazo",
    "Z": "estacionamiento",
}
"""SII destino codes of a parcel (from third-party code, not an official SII page)."""

SII_DESTINO_CLASS = {
    "B": "actividad productiva molesta", "C": "equipamiento comercio",
    "D": "equipamiento deporte", "E": "equipamiento educación",
    "G": "equipamiento comercio", "H": "residencial", "I": "actividad productiva molesta",
    "L": "actividad productiva inofensiva", "M": "actividad productiva molesta",
    "O": "equipamiento servicios", "P": "equipamiento servicios",
    "Q": "equipamiento culto y cultura", "S": "equipamiento salud",
    "T": "infraestructura transporte", "Z": "infraestructura transporte",
}
"""The OGUC use class (:data:`OGUC_USES`) a parcel's SII destino is judged by against its
PRC zone. It agrees with ``layers.land_use.OGUC_CLASS`` for the land use each destino
shows (housing, commerce, industry, storage, equipment), except where the OGUC is more
precise: offices (O) are «servicios», transport (T) and parking (Z) «infraestructura
transporte». Agricultural (A), forest (F), other (V) and vacant (W) parcels have no class:
the zoning does not regulate them."""

GROUPING_SYSTEMS = ("aislado", "pareado", "continuo")

HAZARD_LEVELS = ("alto", "medio", "bajo")
