"""Normas urbanísticas of each zone family of the demo PRC: permitted and prohibited OGUC
uses and the ranges of the numeric norms. Joined use lists stay within the 254 bytes of a
DBF text field."""

from __future__ import annotations

from typing import Any

import numpy as np

from layers.codes import OGUC_USES
from layers.zoning import PEOPLE_PER_DWELLING

PREFIX = {
    "residencial": "ZH", "mixta": "ZM", "centro": "ZC", "industrial": "ZI",
    "portuaria": "ZP", "equipamiento": "ZE", "área verde": "AV", "protección": "ZPR",
}

EQ = "equipamiento "
PERMITTED = {
    "residencial": ("residencial", EQ + "comercio", EQ + "culto y cultura", EQ + "deporte",
                    EQ + "educación", EQ + "salud", EQ + "social", "espacio público",
                    "área verde"),
    "mixta": ("residencial", EQ + "comercio", EQ + "servicios", EQ + "educación",
              EQ + "salud", EQ + "esparcimiento", "actividad productiva inofensiva",
              "espacio público", "área verde"),
    "centro": ("residencial", EQ + "comercio", EQ + "servicios", EQ + "culto y cultura",
               EQ + "esparcimiento", EQ + "seguridad", EQ + "social", "espacio público",
               "área verde"),
    "industrial": ("actividad productiva inofensiva", "actividad productiva molesta",
                   "infraestructura transporte", "infraestructura sanitaria",
                   "infraestructura energética", EQ + "comercio", EQ + "servicios",
                   "espacio público", "área verde"),
    "portuaria": ("infraestructura transporte", "actividad productiva inofensiva",
                  "actividad productiva molesta", EQ + "servicios", EQ + "seguridad",
                  "infraestructura energética", "espacio público"),
    "equipamiento": (EQ + "educación", EQ + "salud", EQ + "deporte", EQ + "social",
                     EQ + "seguridad", EQ + "culto y cultura", "espacio público",
                     "área verde"),
    "área verde": ("área verde", "espacio público", EQ + "deporte", EQ + "esparcimiento"),
    "protección": ("área verde", "espacio público", EQ + "científico"),
}
PROHIBITED = {
    "residencial": ("actividad productiva molesta", "actividad productiva peligrosa",
                    "infraestructura transporte", "infraestructura energética"),
    "mixta": ("actividad productiva molesta", "actividad productiva peligrosa",
              "infraestructura energética"),
    "centro": ("actividad productiva molesta", "actividad productiva peligrosa",
               "infraestructura energética", "infraestructura transporte"),
    "industrial": ("residencial", EQ + "educación", EQ + "salud",
                   "actividad productiva peligrosa"),
    "portuaria": ("residencial", EQ + "educación", EQ + "salud", EQ + "culto y cultura",
                  EQ + "deporte", EQ + "social"),
    "equipamiento": ("residencial", "actividad productiva molesta",
                     "actividad productiva peligrosa", "infraestructura energética"),
    "área verde": ("residencial", "actividad productiva inofensiva",
                   "actividad productiva molesta", "actividad productiva peligrosa",
                   "infraestructura transporte", "infraestructura energética"),
    "protección": ("residencial", EQ + "comercio", "actividad productiva inofensiva",
                   "actividad productiva molesta", "actividad productiva peligrosa",
                   "infraestructura transporte", "infraestructura energética"),
}
OPTIONAL = {  # uses some zones of the family add to the permitted ones
    "residencial": ("equipamiento servicios", "actividad productiva inofensiva"),
    "mixta": ("equipamiento culto y cultura", "equipamiento deporte"),
    "centro": ("equipamiento educación", "equipamiento salud"),
    "industrial": ("actividad productiva peligrosa",),
}

# family: sup_min choices (m²), dens_max range (hab/ha), pisos range, m per floor,
# agrupamientos, coef_const range, coef_ocup range, antejardín choices (m)
NUMERIC = {
    "residencial": ((160, 200, 300, 500), (120, 600), (2, 5), 3.5,
                    ("aislado; pareado", "aislado; pareado; continuo", "aislado"),
                    (0.8, 2.0), (0.4, 0.6), (2.0, 3.0, 5.0)),
    "mixta": ((200, 300, 400), (400, 800), (4, 7), 3.5, ("pareado; continuo", "continuo"),
              (1.8, 3.0), (0.6, 0.8), (0.0, 2.0)),
    "centro": ((300, 400), (800, 1200), (7, 10), 3.2, ("continuo",), (3.5, 4.5),
               (0.8, 1.0), (0.0,)),
    "industrial": ((1000, 1500, 2500), (0, 0), (3, 4), 6.0, ("aislado",), (0.8, 1.2),
                   (0.5, 0.7), (5.0, 10.0)),
    "portuaria": ((2500,), (0, 0), (3, 5), 7.0, ("aislado",), (0.6, 1.0), (0.6, 0.8),
                  (0.0,)),
    "equipamiento": ((500, 1000, 2500), (0, 80), (2, 4), 4.0, ("aislado",), (0.8, 1.6),
                     (0.4, 0.6), (3.0, 5.0)),
    "área verde": ((2500,), (0, 0), (1, 1), 4.0, ("aislado",), (0.02, 0.1), (0.02, 0.1),
                   (0.0,)),
    "protección": ((2500,), (0, 0), (1, 1), 3.5, ("aislado",), (0.01, 0.02), (0.01, 0.02),
                   (0.0,)),
}


def _join(uses: list[str]) -> str:
    order = {u: i for i, u in enumerate(OGUC_USES)}
    return "; ".join(sorted(set(uses), key=order.__getitem__))


def zone_norms(family: str, gen: np.random.Generator) -> dict[str, Any]:
    """Draw the normas urbanísticas of one zone of ``family``.

    Parameters
    ----------
    family : str
        One of ``layers.zoning.ZONE_FAMILIES``.
    gen : numpy.random.Generator

    Returns
    -------
    dict
        Source columns of the zoning shapefile (USOS_PERM ... ANTEJARDIN).
    """
    permitted = list(PERMITTED[family])
    permitted += [u for u in OPTIONAL.get(family, ()) if gen.random() < 0.35]
    prohibited = [u for u in PROHIBITED[family] if u not in permitted]
    sup, dens, floors, per_floor, grouping, const, occ, front = NUMERIC[family]
    pisos = int(gen.integers(floors[0], floors[1] + 1))
    density = 0 if dens[1] == 0 else int(round(gen.uniform(*dens) / 10.0) * 10)
    lot = float(gen.choice(sup))
    grouping_system = str(gen.choice(grouping))
    constructibility = round(float(gen.uniform(*const)), 2)
    occupation = round(float(gen.uniform(*occ)), 2)
    if density and "residencial" in permitted:  # one dwelling per minimum lot at least
        density = max(density, int(np.ceil(PEOPLE_PER_DWELLING * 10_000 / lot / 10.0)) * 10)
    # Built area cannot exceed the footprint on every floor.
    constructibility = min(constructibility, round(occupation * pisos, 2))
    return {
        "USOS_PERM": _join(permitted),
        "USOS_PROH": _join(prohibited),
        "SUP_MIN": lot,
        "DENS_MAX": float(density),
        "ALT_MAX_M": round(pisos * per_floor, 1),
        "PISOS_MAX": pisos,
        "AGRUPAM": grouping_system,
        "COEF_CONST": constructibility,
        "COEF_OCUP": occupation,
        "ANTEJARDIN": float(gen.choice(front)),
    }
