"""Platform settings: one pydantic-settings object, built by the caller and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Where the database and the data live, and the limits of the work area.

    Read from the environment (``SECPLAC_*``, plus the usual ``DATABASE_URL``) when built
    with ``Settings()``; tests build it with explicit values.
    """

    model_config = SettingsConfigDict(env_prefix="SECPLAC_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "SECPLAC_DATABASE_URL")
    )
    """An existing PostGIS to use. When unset, the project's own local cluster is used."""

    state_dir: Path = PROJECT_ROOT / "var"
    """The project's local PostgreSQL cluster, its socket and its generated password."""

    raw_dir: Path = PROJECT_ROOT / "data" / "raw"
    processed_dir: Path = PROJECT_ROOT / "data" / "processed"

    area_of_interest: tuple[float, float, float, float] = (-71.90, -34.00, -71.25, -33.20)
    """Work area (lon/lat WGS 84: west, south, east, north): the Provincia de San Antonio
    with a margin. Features outside it are refused on ingest."""

    node_modules: Path = PROJECT_ROOT / "node_modules"
    """Front-end packages installed from the npm registry by ``make frontend``."""

    online_base_map: str | None = None
    """Optional online base map (XYZ tile URL template); the map never depends on it."""

    tile_cache_mib: int = 256
    db_pool_max: int = 20

    ingest_batch_size: int = 50_000
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    user: str | None = None
    """Who loads data (recorded in the catalog); defaults to the operating-system user."""

    @property
    def local_cluster_dir(self) -> Path:
        return self.state_dir / "postgres"
