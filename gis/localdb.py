"""The project's own PostgreSQL + PostGIS cluster, kept in the state folder.

It listens only on a Unix socket inside that folder, its superuser's password is random
and kept in a file only the owner can read, and its data survives restarts. PostgreSQL
refuses to run as root, so when we are root the server runs as the ``postgres`` system
user that Debian's package creates.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from gis.errors import SetupError

DB_NAME = "secplac"
DB_USER = "secplac"
SERVER_USER_WHEN_ROOT = "postgres"

SERVER_CONFIG = {
    "listen_addresses": "''",
    "port": "5432",
    "max_connections": "100",
    "shared_buffers": "'512MB'",
    "work_mem": "'64MB'",
    "maintenance_work_mem": "'1GB'",
    "max_wal_size": "'4GB'",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "timezone": "'America/Santiago'",
    "log_min_messages": "warning",
}
THROWAWAY_CONFIG = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def find_bindir() -> Path:
    """The newest installed PostgreSQL server whose PostGIS extension is installed."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                        key=lambda p: int(p.parent.parent.name), reverse=True)
    for initdb in candidates:
        version = initdb.parent.parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            return initdb.parent
    raise SetupError(
        "No se encontró un servidor PostgreSQL con PostGIS instalado.",
        hint="Ejecute «make setup» (instala postgresql y postgis con apt-get) o defina "
        "DATABASE_URL con una base PostGIS existente.",
    )


@dataclass
class LocalCluster:
    """A PostgreSQL cluster in ``root``: ``data/``, ``run/`` (socket), ``password``, log."""

    root: Path
    throwaway: bool = False

    def __post_init__(self) -> None:
        self.root = Path(self.root).absolute()

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def log_file(self) -> Path:
        return self.root / "run" / "postgres.log"

    def exists(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists() and self.password_file.exists()

    def url(self) -> str:
        if not self.password_file.exists():
            raise SetupError(
                f"La base local en {self.root} no está creada.",
                hint="Ejecute «secplac db up».",
            )
        password = quote(self.password_file.read_text().strip(), safe="")
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql://{DB_USER}:{password}@/{DB_NAME}?host={host}"

    # -- lifecycle ---------------------------------------------------------------------

    def init(self) -> None:
        """Create the cluster and the database if they do not exist yet."""
        if self.exists():
            return
        bindir = find_bindir()
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)  # a half-made cluster from an interrupted init
        self.data_dir.mkdir(mode=0o700)
        self.socket_dir.mkdir(exist_ok=True)
        password = secrets.token_urlsafe(24)
        pwfile = self.root / ".initdb-pw"
        pwfile.write_text(password + "\n")
        self._hand_to_server_user(self.data_dir, self.socket_dir, pwfile)
        try:
            self._run_as_server_user(
                str(bindir / "initdb"), "-D", str(self.data_dir), "-U", DB_USER,
                f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-instructions",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        config = dict(SERVER_CONFIG, unix_socket_directories=f"'{self.socket_dir}'")
        if self.throwaway:
            config.update(THROWAWAY_CONFIG)
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# secplac\n")
            conf.writelines(f"{k} = {v}\n" for k, v in config.items())
        self.password_file.write_text(password + "\n")
        os.chmod(self.password_file, 0o600)
        self.start()
        self._psql("postgres", f"CREATE DATABASE {DB_NAME}")

    def start(self) -> bool:
        """Start the server if it is not running; True if this call started it."""
        if self.running():
            return False
        bindir = find_bindir()
        self._run_as_server_user(
            str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
            "-w", "-t", "60", "start",
        )
        return True

    def stop(self) -> bool:
        """Stop the server if it is running; True if it was."""
        if not self.running():
            return False
        self._run_as_server_user(
            str(find_bindir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w",
            "stop",
        )
        return True

    def running(self) -> bool:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            return False
        except PermissionError:
            return True
        return True

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- running commands as the right user --------------------------------------------

    def _hand_to_server_user(self, *paths: Path) -> None:
        if os.geteuid() != 0:
            return
        shutil.chown(self.root, SERVER_USER_WHEN_ROOT)
        for p in paths:
            shutil.chown(p, SERVER_USER_WHEN_ROOT)
        probe = subprocess.run(
            ["runuser", "-u", SERVER_USER_WHEN_ROOT, "--", "test", "-w", str(self.data_dir)],
            capture_output=True,
        )
        if probe.returncode != 0:
            raise SetupError(
                f"El usuario «{SERVER_USER_WHEN_ROOT}» no puede acceder a {self.root}.",
                hint="Use una carpeta accesible con SECPLAC_STATE_DIR=/ruta o ejecute el "
                "proyecto como un usuario común.",
            )

    def _run_as_server_user(self, *cmd: str) -> None:
        argv = list(cmd)
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVER_USER_WHEN_ROOT, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, cwd="/")
        if done.returncode != 0:
            log = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise SetupError(
                f"Falló «{Path(cmd[0]).name}» de PostgreSQL: {done.stderr.strip()[-1500:]}",
                hint=f"Registro del servidor ({self.log_file}):\n{log}" if log else None,
            )

    def _psql(self, database: str, sql: str) -> None:
        env = dict(os.environ, PGPASSWORD=self.password_file.read_text().strip())
        done = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
             "-U", DB_USER, "-d", database, "-c", sql],
            capture_output=True, text=True, env=env,
        )
        if done.returncode != 0:
            raise SetupError(f"Error de PostgreSQL: {done.stderr.strip()}")

