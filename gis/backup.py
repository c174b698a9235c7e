"""Backups of the platform database: ``pg_dump`` (custom format), rasters and a manifest.

A backup is a folder holding ``base.dump`` (the whole database, ``pg_dump -Fc``), the
GeoTIFF files of the raster layer versions (``rasters/...``) and ``manifest.json``: the
SHA-256 of every file, the schema revision, the row count of every platform table and the
catalog of layer versions, all taken from the same snapshot as the dump. :func:`verify`
restores the dump into a scratch database and compares it with the manifest;
:func:`restore` replaces the platform's schemas of the live database with the backup's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gis import migrate
from gis.database import connect, database_url
from gis.errors import PlatformError, SetupError
from gis.ingest.sources import file_sha256
from gis.schema import PLATFORM_SCHEMAS
from gis.settings import Settings

DUMP_FILE = "base.dump"
MANIFEST_FILE = "manifest.json"
RASTER_DIR = "rasters"
FORMAT = 1


def _sql_sections() -> dict[str, str]:
    text = files("gis").joinpath("sql/backup.sql").read_text(encoding="utf-8")
    parts = re.split(r"^-- name: (\w+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


SQL = _sql_sections()


class BackupError(PlatformError):
    """A backup that cannot be made, verified or restored."""


@dataclass
class BackupReport:
    """What a backup holds (its manifest) and where it is."""

    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        m = self.manifest
        rows = sum(m.get("row_counts", {}).values())
        return [
            f"Respaldo: {self.path}",
            f"Creado: {m.get('created')}",
            f"Revisión del esquema: {m.get('revision')}",
            f"Tablas: {len(m.get('row_counts', {}))}, filas: {rows:,}".replace(",", "."),
            f"Versiones de capas: {len(m.get('layer_versions', []))}, archivos ráster: "
            f"{sum(1 for f in m.get('files', {}) if f.startswith(RASTER_DIR + '/'))}",
        ]


# --- the PostgreSQL client programs --------------------------------------------------------

@dataclass
class _Client:
    """How to run pg_dump, pg_restore and psql against one database, password hidden."""

    bindir: Path | None
    conninfo: str
    env: dict[str, str]
    password: str

    @classmethod
    def of(cls, url: str, bindir: Path | None, dbname: str | None = None) -> _Client:
        params = conninfo_to_dict(url)
        password = str(params.pop("password", "") or "")
        if dbname:
            params["dbname"] = dbname
        env = dict(os.environ, PGPASSWORD=password) if password else dict(os.environ)
        return cls(bindir, make_conninfo("", **params), env, password)

    def program(self, name: str) -> str:
        if self.bindir and (self.bindir / name).exists():
            return str(self.bindir / name)
        found = shutil.which(name)
        if not found:
            raise SetupError(f"No se encontró el programa «{name}» de PostgreSQL.",
                             hint="Instale el cliente de PostgreSQL (make setup).")
        return found

    def run(self, name: str, *args: str, what: str) -> None:
        done = subprocess.run([self.program(name), *args], capture_output=True, text=True,
                              env=self.env, cwd="/")
        if done.returncode != 0:
            detail = done.stderr.strip()[-1500:]
            if self.password:
                detail = detail.replace(self.password, "********")
            raise BackupError(f"Falló {what} («{name}»).", hint=f"Detalle: {detail}")


def _server_bindir(conn: psycopg.Connection) -> Path | None:
    """The client programs of the server's major version, when installed here."""
    row = conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()
    folder = Path(f"/usr/lib/postgresql/{row[0] if row else 0}/bin")
    return folder if folder.exists() else None


# --- what the manifest records -------------------------------------------------------------

def _contents(conn: psycopg.Connection) -> dict[str, Any]:
    tables = conn.execute(SQL["platform_tables"], {"schemas": list(PLATFORM_SCHEMAS)}).fetchall()
    counts: dict[str, int] = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema),
                                                              sql.Identifier(table))
        row = conn.execute(query).fetchone()
        counts[f"{schema}.{table}"] = int(row[0]) if row else 0
    versions = [
        {"layer": r[0], "version": r[1], "kind": r[2], "feature_count": r[3],
         "source_sha256": r[4], "in_force": r[5], "data_location": r[6]}
        for r in conn.execute(SQL["layer_versions"]).fetchall()
    ] if "catalog.layer_versions" in counts else []
    revision = None
    if "catalog.alembic_version" in counts:
        row = conn.execute("SELECT version_num FROM catalog.alembic_version").fetchone()
        revision = row[0] if row else None
    return {"revision": revision, "row_counts": counts, "layer_versions": versions}


def _comparable(contents: dict[str, Any]) -> dict[str, Any]:
    versions = [{k: v for k, v in lv.items() if k not in ("data_location", "backup_file")}
                for lv in contents["layer_versions"]]
    return {"revision": contents["revision"], "row_counts": contents["row_counts"],
            "layer_versions": versions}


# --- backup ----------------------------------------------------------------------------------

def backup(settings: Settings, path: str | Path) -> BackupReport:
    """Back up the platform into the new folder ``path``.

    The dump, the row counts and the layer catalog come from one snapshot, so the manifest
    describes exactly what the dump holds. The raster files of every layer version are
    copied under ``rasters/``. Nothing is left behind if the backup fails.

    Parameters
    ----------
    settings : Settings
        Where the database and the processed data are.
    path : str or Path
        A folder that does not exist yet (or is empty).

    Returns
    -------
    BackupReport
        The folder and its manifest.
    """
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"«{target}» ya existe y no es una carpeta vacía.",
                          hint="Indique una carpeta nueva para el respaldo (por ejemplo con "
                          "la fecha en el nombre).")
    target.parent.mkdir(parents=True, exist_ok=True)
    # mode 0700: the dump holds the users' password hashes
    work = Path(tempfile.mkdtemp(prefix=".respaldo-", dir=target.parent.resolve()))
    try:
        manifest = _write_backup(settings, work)
        if target.exists():
            target.rmdir()
        shutil.move(str(work), str(target))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupReport(target, manifest)


def _write_backup(settings: Settings, work: Path) -> dict[str, Any]:
    url = database_url(settings)
    with psycopg.connect(url, application_name="secplac-respaldo") as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot(), current_setting('server_version')"
                           ).fetchone()
        snapshot, server_version = (row[0], row[1]) if row else ("", "")
        contents = _contents(conn)
        client = _Client.of(url, _server_bindir(conn))
        client.run("pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-password",
                   "-f", str(work / DUMP_FILE), "-d", client.conninfo,
                   what="el volcado de la base")
    checksums = {DUMP_FILE: file_sha256(work / DUMP_FILE)}
    for lv in contents["layer_versions"]:
        if lv["kind"] != "raster":
            continue
        source = Path(lv["data_location"])
        if not source.exists():
            raise BackupError(
                f"Falta el archivo ráster de «{lv['layer']}» versión {lv['version']}: "
                f"{source}.", hint="Recupere el archivo o vuelva a cargar la capa antes de "
                "respaldar; no se creó el respaldo.")
        rel = f"{RASTER_DIR}/{_raster_name(settings, source, lv)}"
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, work / rel)
        checksums[rel] = file_sha256(work / rel)
        lv["backup_file"] = rel
    manifest = {"format": FORMAT, "created": datetime.now(UTC).isoformat(),
                "server_version": server_version, "files": checksums, **contents}
    (work / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False),
                                      encoding="utf-8")
    return manifest


def _raster_name(settings: Settings, source: Path, lv: dict[str, Any]) -> str:
    try:
        return str(source.resolve().relative_to(
            (settings.processed_dir / RASTER_DIR).resolve()))
    except ValueError:
        return f"{lv['layer']}/v{lv['version']}{source.suffix}"


# --- checking a backup -----------------------------------------------------------------------

def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of the backup in ``path`` after checking every file's SHA-256.

    Raises :class:`BackupError` (in Spanish) for a missing or altered file.
    """
    folder = Path(path)
    manifest_file = folder / MANIFEST_FILE
    if not manifest_file.is_file():
        raise BackupError(f"«{folder}» no es un respaldo de la plataforma: falta "
                          f"{MANIFEST_FILE}.", hint="Indique la carpeta creada por "
                          "«secplac db backup».")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        expected = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"El manifiesto de «{folder}» está dañado; no se restauró nada.",
                          hint=f"Detalle: {exc}") from exc
    for rel, sha in expected.items():
        file = folder / rel
        if not file.is_file():
            raise BackupError(f"Falta el archivo «{rel}» del respaldo «{folder}»; no se "
                              "restauró nada.", hint="Use otro respaldo o recupere el "
                              "archivo.")
        if file_sha256(file) != sha:
            raise BackupError(
                f"El archivo «{rel}» del respaldo «{folder}» está dañado o fue modificado "
                "(su suma SHA-256 no coincide con el manifiesto); no se restauró nada.",
                hint="Use otro respaldo (por ejemplo el de la noche anterior).")
    return manifest


def verify(settings: Settings, path: str | Path) -> BackupReport:
    """Check the backup in ``path`` by restoring it into a scratch database.

    The checksums are checked first; then the dump is restored into a database created
    for the purpose (and dropped afterwards) and its row counts, schema revision and layer
    versions are compared with the manifest. Raises :class:`BackupError` on any difference.
    """
    manifest = read_manifest(path)
    url = database_url(settings)
    scratch = f"secplac_verificacion_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        bindir = _server_bindir(admin)
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
        except psycopg.Error as exc:
            raise BackupError("No se pudo crear la base temporal de verificación.",
                              hint="El usuario de la base necesita el permiso CREATEDB. "
                              f"Detalle: {exc.diag.message_primary or exc}") from exc
        try:
            client = _Client.of(url, bindir, scratch)
            client.run("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                       "--no-password", "-d", client.conninfo,
                       str(Path(path) / DUMP_FILE), what="la restauración de prueba")
            with psycopg.connect(client.conninfo, password=client.password or None) as conn:
                found = _contents(conn)
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(scratch)))
    _compare(_comparable(manifest), _comparable(found), Path(path))
    return BackupReport(Path(path), manifest)


def _compare(expected: dict[str, Any], found: dict[str, Any], path: Path) -> None:
    problems = []
    if expected["revision"] != found["revision"]:
        problems.append(f"revisión {found['revision']} en vez de {expected['revision']}")
    for table in sorted(set(expected["row_counts"]) | set(found["row_counts"])):
        a, b = expected["row_counts"].get(table), found["row_counts"].get(table)
        if a != b:
            problems.append(f"{table}: {b} filas en vez de {a}")
    if expected["layer_versions"] != found["layer_versions"]:
        problems.append("las versiones de capas no coinciden con el manifiesto")
    if problems:
        raise BackupError(f"El respaldo «{path}» no pasó la verificación: "
                          + "; ".join(problems[:10]) + ".",
                          hint="No use este respaldo; cree uno nuevo con «secplac db backup».")


# --- restore ---------------------------------------------------------------------------------

def restore(settings: Settings, path: str | Path, *, confirm: bool) -> BackupReport:
    """Replace the platform's data with the backup in ``path``, then migrate to head.

    Every platform schema is dropped and restored in one transaction (a failure leaves the
    database as it was); the raster files go back under ``processed_dir/rasters``.

    Parameters
    ----------
    settings : Settings
        The live database and processed folder.
    path : str or Path
        A folder made by :func:`backup`.
    confirm : bool
        Must be True: the current data is replaced.
    """
    if not confirm:
        raise BackupError("La restauración reemplaza todos los datos actuales de la "
                          "plataforma por los del respaldo; no se cambió nada.",
                          hint="Si está seguro, repita el comando con --si.")
    folder = Path(path)
    manifest = read_manifest(folder)
    _check_revision(settings, manifest.get("revision"))
    url = database_url(settings)
    with connect(settings) as conn:
        client = _Client.of(url, _server_bindir(conn))
    with tempfile.TemporaryDirectory(prefix="secplac-restauracion-") as tmp:
        # pg_restore --schema restores what is in the schemas, not the schemas themselves
        schemas = _dumped_schemas(client, folder / DUMP_FILE)
        drop = Path(tmp) / "drop.sql"
        drop.write_text("DROP SCHEMA IF EXISTS "
                        + ", ".join(f'"{s}"' for s in PLATFORM_SCHEMAS) + " CASCADE;\n"
                        + "".join(f'CREATE SCHEMA "{s}";\n' for s in schemas))
        script = Path(tmp) / "restore.sql"
        client.run("pg_restore", "--no-owner", "--no-privileges", "-f", str(script),
                   *(f"--schema={s}" for s in PLATFORM_SCHEMAS), str(folder / DUMP_FILE),
                   what="la lectura del respaldo")
        client.run("psql", "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1",
                   "--single-transaction", "-d", client.conninfo, "-f", str(drop),
                   "-f", str(script), what="la restauración")
    _restore_rasters(settings, folder, manifest)
    migrate.upgrade(settings)
    return BackupReport(folder, manifest)


def _dumped_schemas(client: _Client, dump: Path) -> list[str]:
    """The platform schemas the dump holds (from its table of contents)."""
    done = subprocess.run([client.program("pg_restore"), "--list", str(dump)],
                          capture_output=True, text=True, env=client.env, cwd="/")
    if done.returncode != 0:
        raise BackupError("No se pudo leer el contenido del respaldo; no se restauró nada.",
                          hint=f"Detalle: {done.stderr.strip()[-1500:]}")
    found = set(re.findall(r"^\d+; \d+ \d+ SCHEMA - (\w+) ", done.stdout, flags=re.M))
    return [s for s in PLATFORM_SCHEMAS if s in found]


def _check_revision(settings: Settings, revision: str | None) -> None:
    from alembic.script import ScriptDirectory

    if revision is None:
        return
    scripts = ScriptDirectory.from_config(migrate.alembic_config(settings))
    known = {rev.revision for rev in scripts.walk_revisions()}
    if revision not in known:
        raise BackupError(
            f"El respaldo viene de una versión más nueva de la plataforma (revisión del "
            f"esquema «{revision}», desconocida para esta instalación); no se restauró nada.",
            hint="Actualice primero la plataforma (git pull y make setup) y repita la "
            "restauración.")


def _restore_rasters(settings: Settings, folder: Path, manifest: dict[str, Any]) -> None:
    moves = []
    for lv in manifest.get("layer_versions", []):
        rel = lv.get("backup_file")
        if not rel:
            continue
        new = settings.processed_dir / RASTER_DIR / Path(rel).relative_to(RASTER_DIR)
        new.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / rel, new)
        if str(new) != lv["data_location"]:
            moves.append({"old": lv["data_location"], "new": str(new)})
    if moves:
        with connect(settings) as conn:
            for move in moves:
                conn.execute(SQL["relocate_raster"], move)
