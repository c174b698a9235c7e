"""The descriptive fields and the funding rows of a demo project: typology, situation,
RATE, budget item, responsible unit, PLADECO axis and objective, beneficiaries, progress,
dates, and amounts by source and year consistent with the stage (requested ≥ approved ≥
committed ≥ executed)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from layers.projects import PLADECO_AXES

UNITS = {
    "vialidad": "Dirección de Tránsito", "áreas verdes": "Dirección de Medio Ambiente, Aseo "
    "y Ornato", "salud": "Departamento de Salud Municipal", "educación": "Departamento de "
    "Administración de Educación Municipal", "deporte": "Dirección de Desarrollo "
    "Comunitario", "seguridad": "Dirección de Seguridad Pública",
    "saneamiento y aguas lluvia": "Dirección de Obras Municipales",
    "equipamiento comunitario": "Dirección de Desarrollo Comunitario",
    "vivienda": "Entidad Patrocinante Municipal (EGIS)", "borde costero": "SECPLAC",
    "puerto y logística": "SECPLAC",
}
AXES = {  # sector: (index of PLADECO_AXES, objective)
    "vialidad": (0, "Mejorar la conectividad vial y peatonal de los barrios"),
    "áreas verdes": (2, "Aumentar las áreas verdes por habitante"),
    "salud": (3, "Acercar la atención primaria de salud a la población"),
    "educación": (3, "Mejorar la infraestructura de la educación pública"),
    "deporte": (3, "Promover la actividad física y el deporte en los barrios"),
    "seguridad": (4, "Reducir la victimización en los espacios públicos"),
    "saneamiento y aguas lluvia": (2, "Reducir las inundaciones y completar el saneamiento"),
    "equipamiento comunitario": (3, "Fortalecer la organización comunitaria"),
    "vivienda": (0, "Reducir el déficit habitacional de la comuna"),
    "borde costero": (1, "Integrar el borde costero a la vida de la ciudad"),
    "puerto y logística": (1, "Ordenar el tránsito de camiones y la logística portuaria"),
}
DESCRIPTIONS = {
    "vialidad": "Pavimentación de calzadas, veredas, aguas lluvia y señalización.",
    "áreas verdes": "Paisajismo, riego, juegos infantiles, mobiliario e iluminación.",
    "salud": "Recinto de salud primaria con box de atención, urgencia y farmacia.",
    "educación": "Reposición o ampliación de salas, laboratorios y patios cubiertos.",
    "deporte": "Recinto deportivo con cierre perimetral, camarines e iluminación.",
    "seguridad": "Equipamiento e infraestructura para la seguridad de los vecinos.",
    "saneamiento y aguas lluvia": "Colectores, sumideros y redes de alcantarillado.",
    "equipamiento comunitario": "Sede o centro comunitario con salón multiuso y cocina.",
    "vivienda": "Viviendas sociales con urbanización y áreas verdes.",
    "borde costero": "Paseo peatonal, ciclovía, miradores y accesos a la playa.",
    "puerto y logística": "Obras viales y de apoyo para el tránsito de carga portuaria.",
}
BENEFICIARIES = {  # sector: (min, max) people
    "vialidad": (400, 12_000), "áreas verdes": (300, 8_000), "salud": (8_000, 40_000),
    "educación": (300, 1_600), "deporte": (500, 6_000), "seguridad": (2_000, 30_000),
    "saneamiento y aguas lluvia": (300, 9_000), "equipamiento comunitario": (150, 2_500),
    "vivienda": (200, 1_500), "borde costero": (5_000, 60_000),
    "puerto y logística": (1_000, 20_000),
}
SPENT = {  # stage: (chance of an approval, approved/requested, committed/approved,
    #          executed/committed) — ranges of shares
    "prefactibilidad": (0.5, (0.8, 1.0), (0.0, 0.0), (0.0, 0.0)),
    "factibilidad": (0.6, (0.8, 1.0), (0.0, 0.3), (0.0, 0.0)),
    "diseño": (1.0, (0.85, 1.0), (0.0, 0.6), (0.0, 0.5)),
    "ejecución": (1.0, (0.85, 1.0), (0.6, 1.0), (0.2, 0.95)),
    "terminado": (1.0, (0.9, 1.0), (1.0, 1.0), (0.95, 1.0)),
}
"""Stages before these (idea, perfil) only have requested amounts."""


def attributes(code: str, name: str, sector: str, stage: str, year: int, municipal: bool,
               gen: np.random.Generator) -> dict[str, Any]:
    """The registry fields of one project (besides the financial progress)."""
    kind = str(gen.choice(["estudio básico", "proyecto", "programa"], p=[.07, .89, .04]))
    if kind == "estudio básico":
        name = "Estudio de prefactibilidad " + name[0].lower() + name[1:]
    elif kind == "programa":
        name = "Programa " + name[0].lower() + name[1:]
    later = stage in ("diseño", "ejecución", "terminado")
    rate = None
    if not municipal and stage != "idea":
        rate = str(gen.choice(["RS", "RE"], p=[.9, .1]) if later else
                   gen.choice(["RS", "FI", "OT", "AD"], p=[.55, .25, .1, .1]))
    axis, objective = AXES[sector]
    lo, hi = BENEFICIARIES[sector]
    start, end, physical = _schedule(stage, year, gen)
    return {
        "codigo": code, "nombre": name, "descripcion": DESCRIPTIONS[sector], "tipo": kind,
        "sector": sector, "etapa": stage,
        "situacion": "reevaluación" if gen.random() < 0.05 else
        "arrastre" if stage in ("ejecución", "terminado") and year < 2025 else "nueva",
        "rate": rate, "item_presupuestario": _item(kind, stage, sector, gen),
        "unidad_responsable": UNITS[sector], "eje_pladeco": PLADECO_AXES[axis],
        "objetivo_pladeco": objective,
        "beneficiarios": int(round(np.exp(gen.uniform(np.log(lo), np.log(hi))), -1)),
        "avance_fisico": physical, "avance_financiero": None,
        "fecha_inicio": start, "fecha_termino": end,
    }


def _item(kind: str, stage: str, sector: str, gen: np.random.Generator) -> str | None:
    if kind == "estudio básico":
        return "31.01"
    if kind == "programa":
        return "31.03"
    if stage == "idea":
        return None
    if stage in ("ejecución", "terminado"):
        equipment = sector in ("salud", "educación", "seguridad") and gen.random() < 0.2
        return "31.02.005" if equipment else "31.02.004"
    return "31.02.002"


def _schedule(stage: str, year: int, gen: np.random.Generator
              ) -> tuple[date | None, date | None, float | None]:
    """Start and end dates and physical progress (%), for works designed or under way."""
    if stage not in ("diseño", "ejecución", "terminado"):
        return None, None, None
    start = date(year, int(gen.integers(1, 13)), 1)
    months = int(gen.integers(6, 31))
    end_month = start.month - 1 + months
    end = date(start.year + end_month // 12, end_month % 12 + 1, 1)
    if stage == "diseño":
        return (start, None, None) if gen.random() < 0.5 else (None, None, None)
    physical = 100.0 if stage == "terminado" else round(float(gen.uniform(5, 95)), 1)
    return start, end, physical


def funding(sector: str, stage: str, year: int, source: str, amount: int, multi: bool,
            gen: np.random.Generator) -> list[dict[str, Any]]:
    """The funding rows (source, year, amounts in CLP) of one project: the main source,
    and for some projects a second year of it and a municipal co-financing."""
    plan: list[tuple[str, int, float]] = [(source, year, amount)]
    if multi:
        if stage in ("diseño", "ejecución", "terminado", "factibilidad") and year < 2027:
            share = float(gen.uniform(0.2, 0.5))
            plan = [(source, year, amount * (1 - share)), (source, year + 1, amount * share)]
        if source != "municipal":
            plan.append(("municipal", year, amount * float(gen.uniform(0.05, 0.15))))
    return [_amounts(s, y, int(round(a, -3)), stage, gen) for s, y, a in plan]


def _amounts(source: str, year: int, requested: int, stage: str,
             gen: np.random.Generator) -> dict[str, Any]:
    approved = committed = executed = 0
    if stage in SPENT:
        chance, (a0, a1), (c0, c1), (e0, e1) = SPENT[stage]
        if gen.random() < chance:
            approved = int(round(requested * gen.uniform(a0, a1), -3))
            committed = int(round(approved * gen.uniform(c0, c1), -3))
            executed = int(round(committed * gen.uniform(e0, e1), -3))
    return {"fuente": source, "anio": year, "solicitado": requested, "aprobado": approved,
            "comprometido": committed, "ejecutado": executed}


def financial_progress(rows: list[dict[str, Any]]) -> float | None:
    """Executed as a share of approved (%), capped at 100; None before any approval."""
    approved = sum(r["aprobado"] for r in rows)
    if not approved:
        return None
    return round(min(100.0, 100.0 * sum(r["ejecutado"] for r in rows) / approved), 1)
