"""The territorial profile of an investment project (zoning, land use, cadastre, hazards,
rasters, port, territory, population served, nearby projects), always current."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Path

from api.dependencies import get_connection, get_settings
from gis.profile import current_profile
from gis.settings import Settings

router = APIRouter(tags=["Proyectos de inversión"])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]


@router.get("/proyectos/{codigo}/perfil", summary="Perfil territorial de un proyecto")
def project_profile(
    conn: Conn, settings: Annotated[Settings, Depends(get_settings)],
    codigo: Annotated[str, Path(max_length=100,
                                description="Código del proyecto (BIP o municipal)")],
) -> dict[str, Any]:
    """Zonas del PRC con sus normas y la compatibilidad del uso del proyecto, uso de suelo
    y predios que toca, zonas de riesgo, elevación, pendiente y profundidad de tsunami,
    relación con el puerto, zona censal y sector, población servida a 500 m y 1 km, y
    otros proyectos a menos de 500 m. Se recalcula cuando cambia una capa de la que
    depende; si no, se devuelve el perfil guardado."""
    return current_profile(conn, settings, codigo)
