"""Platform settings: one pydantic-settings object, built by the caller and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
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

    @property
    def local_cluster_dir(self) -> Path:
        return self.state_dir / "postgres"
