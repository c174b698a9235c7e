"""Search by rol, address, project code or name, for the web map's search box."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query

from api.dependencies import get_connection
from gis.search import DEFAULT_LIMIT, MAX_LIMIT, search

router = APIRouter(tags=["Búsqueda"])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]


@router.get("/buscar", summary="Buscar predios, direcciones, proyectos, zonas y lugares")
def find(
    conn: Conn,
    q: Annotated[str, Query(description="Rol (p. ej. 1999-54), dirección, código de "
                                        "proyecto o nombre")] = "",
    limite: Annotated[int, Query(ge=1, le=MAX_LIMIT,
                                 description=f"Máximo de resultados (hasta {MAX_LIMIT})")
                      ] = DEFAULT_LIMIT,
) -> dict[str, Any]:
    hits = search(conn, q, limite)
    return {
        "consulta": q,
        "cantidad": len(hits),
        "resultados": [{
            "capa": h.layer, "titulo_capa": h.layer_title, "fid": h.fid,
            "etiqueta": h.label, "campo": h.field, "titulo_campo": h.field_title,
            "coincidencia": h.matched, "bbox": list(h.bbox), "punto": list(h.point),
        } for h in hits],
    }
