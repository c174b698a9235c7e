"""Platform settings: one pydantic-settings object, built by the caller and passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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

    zoning_gap_tolerance_m2: float = 25.0
    """Gaps and overlaps between zones smaller than this are slivers, not errors."""

    truck_route_band_m: float = 200.0
    """Width on each side of an authorised truck route of its influence band (noise,
    dust, traffic), used by the projects' territorial profile."""
    profile_raster_buffer_m: float = 50.0
    """Buffer around a point or line project over which raster statistics are taken."""

    comuna_code: str = "05601"
    """CUT code of the comuna the platform plans (San Antonio): projects must lie in it."""
    project_sea_margin_m: float = 200.0
    """How far outside the comuna boundary (at sea: piers, breakwaters) a project may reach."""

    max_body_mib: int = 25
    """Largest request body the API accepts (MiB): attachments and portfolio files of up
    to 20 MB fit; anything bigger gets a 413 before it is read."""
    max_json_mib: int = 8
    """Largest JSON or form body (MiB). A drawn geometry of 100,000 vertices, the most a
    project or a zone may have, takes about 4 MB; parsed, JSON takes ten times its size."""

    ingest_batch_size: int = 50_000
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    user: str | None = None
    """Who loads data (recorded in the catalog); defaults to the operating-system user."""

    secret_key: SecretStr | None = None
    """Key that signs access tokens (``SECPLAC_SECRET_KEY``). When unset, a random key is
    generated once in ``state_dir/secret_key`` (mode 0600, outside git)."""
    access_token_seconds: int = 1800
    """Lifetime of the access tokens issued at login (OAuth2 password flow)."""
    reads_require_login: bool = False
    """When true, every read (data, tiles, maps) needs a logged-in user; writes always do."""
    login_max_failures: int = 5
    """Consecutive failed logins for one username that trigger a cooldown."""
    login_max_failures_per_client: int = 50
    """Failed logins from one client address (any username) that trigger a cooldown."""
    login_window_seconds: int = 900
    login_cooldown_seconds: int = 900
    cors_origins: Annotated[list[str], NoDecode] = []
    """Other web origins (``https://host[:port]``) whose pages may call the API from the
    browser (``SECPLAC_CORS_ORIGINS``, comma-separated). Empty: none (same origin only)."""

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            return value
        origins = []
        for item in value:
            origin = str(item).strip().rstrip("/")
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname or \
                    "*" in origin or parts.path or parts.query or parts.fragment:
                raise ValueError(f"SECPLAC_CORS_ORIGINS: «{origin}» no es un origen web; "
                                 "use la forma https://servidor[:puerto], sin ruta ni «*».")
            origins.append(origin)
        return origins

    @property
    def local_cluster_dir(self) -> Path:
        return self.state_dir / "postgres"
