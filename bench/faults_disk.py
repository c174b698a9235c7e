"""A full or read-only disk under the API: maps and data still served from the database,
writes that need no file still done, and writes that need the disk refused in Spanish
(no 500) with nothing stored.

The server (``secplac serve`` in a process of its own) gets its processed folder, its
state folder and its temporary folder (``tempfile.tempdir``: Python would otherwise fall
back to another one) on a broken folder: as root, a 1 MiB tmpfs filled to the last byte
(``lleno``: ENOSPC) or remounted read-only (``solo_lectura``: EROFS); as another user, a
folder without write permission (EACCES; root ignores permissions, hence the tmpfs).
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.faults import FaultBed, _project
from bench.faults_kill import _approved_proposal, layer_problems, layer_state, secplac_command
from bench.servers import free_port

_SERVE = ("import sys, tempfile; tempfile.tempdir = sys.argv[1]; "
          "sys.argv = ['secplac', 'serve', '--port', sys.argv[2]]; "
          "from gis.cli import main; main()")
SUBFOLDERS = ("processed", "estado", "tmp")
SPANISH_DISK = ("disco del servidor está lleno", "solo lectura")


@contextmanager
def broken_folder(path: Path, mode: str = "lleno") -> Iterator[str]:
    """``path`` (made here) with :data:`SUBFOLDERS`, where no file can be written; yields
    how (``tmpfs lleno``, ``tmpfs solo lectura`` or ``sin permiso de escritura``)."""
    if mode not in ("lleno", "solo_lectura"):
        raise ValueError(f"modo desconocido «{mode}» (lleno o solo_lectura)")
    path.mkdir(parents=True)
    if os.geteuid() != 0:
        for name in SUBFOLDERS:
            (path / name).mkdir(mode=0o555)
        try:
            yield "sin permiso de escritura"
        finally:
            for name in SUBFOLDERS:
                (path / name).chmod(0o755)
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(path)],
                   check=True, capture_output=True)
    try:
        for name in SUBFOLDERS:
            (path / name).mkdir()
        if mode == "lleno":
            _fill(path / "relleno")
            how = "tmpfs lleno"
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True,
                           capture_output=True)
            how = "tmpfs solo lectura"
        yield how
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(path: Path) -> None:
    """Write ``path`` until the file system has no byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)


@contextmanager
def _server(bed: FaultBed, broken: Path, in_process: bool) -> Iterator[str]:
    """The API with its processed, state and temporary folders on ``broken``: ``secplac
    serve`` in a process of its own, or (``in_process``, quicker for tests) an app served
    from a thread of this one, ``tempfile.tempdir`` moved meanwhile."""
    from gis.auth.tokens import signing_key

    key = signing_key(bed.settings).decode()
    if in_process:
        import tempfile

        from pydantic import SecretStr

        from api.app import create_app
        from bench.faults import serving

        settings = bed.settings.model_copy(update={
            "processed_dir": broken / "processed", "state_dir": broken / "estado",
            "secret_key": SecretStr(key)})
        saved, tempfile.tempdir = tempfile.tempdir, str(broken / "tmp")
        try:
            with serving(create_app(settings)) as url:
                yield url
        finally:
            tempfile.tempdir = saved
        return
    port = free_port()
    env = bed.env(SECPLAC_PROCESSED_DIR=str(broken / "processed"),
                  SECPLAC_STATE_DIR=str(broken / "estado"), TMPDIR=str(broken / "tmp"),
                  SECPLAC_SECRET_KEY=key)
    log = bed.root / f"servidor-{broken.name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-c", _SERVE, str(broken / "tmp"),
                                    str(port)], env=env, cwd=bed.root, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        if process.poll() is not None:
            raise RuntimeError(f"el servidor no inició:\n{log.read_text()[-3000:]}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


def disk_drill(bed: FaultBed, mode: str = "lleno", *, tag: str = "D",
               in_process: bool = False) -> dict[str, Any]:
    """The API and a load on a broken disk (``mode``: ``lleno`` or ``solo_lectura``):
    what is still served, and how what needs the disk is refused.

    With ``in_process`` the API is served from a thread and the load is an :func:`ingest`
    call (quicker); otherwise ``secplac serve`` and ``secplac ingest`` in processes.
    """
    broken = bed.root / f"disco-{mode}"
    tag = tag.upper()  # project codes are upper case (they are stored so)
    point = bed.comuna_point()
    zoning_before = layer_state(bed, "zoning")
    proposal = _approved_proposal(bed, 100 + len(tag))[3]
    code = f"SIM-{tag}-0001"
    tile = bed.zoning_tile()
    with broken_folder(broken, mode) as how:
        with _server(bed, broken, in_process) as url:
            def call(method: str, path: str, **kwargs: Any) -> tuple[int, str]:
                try:  # a connection each: one failure does not spoil the next request
                    res = httpx.request(method, url + path, timeout=120, **kwargs)
                    return res.status_code, res.text[:600]
                except httpx.HTTPError as exc:  # the server died or hung up
                    return 0, f"{type(exc).__name__}: {exc}"

            db_write = call("POST", "/proyectos", json=_project(code, point),
                            headers=bed.auth("editora"))
            reads = {
                "portada": call("GET", "/"),
                "entidades": call("GET", "/collections/zoning/items", params={"limit": 10}),
                "tesela_capa": call("GET", f"/collections/zoning/tiles/WebMercatorQuad/{tile}"),
                "tesela_mapa": call("GET", f"/tiles/WebMercatorQuad/{tile}"),
                "proyectos": call("GET", "/proyectos"),
                "visor": call("GET", "/mapa"),
                "ficha_pdf": call("GET", f"/proyectos/{code}/ficha.pdf"),  # made in memory
            }
            etag = httpx.get(f"{url}/propuestas/{proposal}", timeout=60).json()["etag"]
            disk_writes = {
                "exportar_gpkg": call("GET", "/proyectos/exportar", params={"formato": "gpkg"}),
                "exportar_xlsx": call("GET", "/proyectos/exportar", params={"formato": "xlsx"}),
                "importar_csv": call("POST", "/proyectos/importar", headers=bed.auth("editora"),
                                     files={"archivo": ("cartera.csv", _csv(tag, point),
                                                        "text/csv")}),
                "aplicar_propuesta": call("POST", f"/propuestas/{proposal}/aplicar",
                                          headers=bed.auth("admin", etag)),
            }
            alive = call("GET", "/collections/zoning/items", params={"limit": 1})[0] == 200
        load = _load_zoning(bed, broken / "processed", in_process)
    state = bed.query("SELECT estado FROM proposals.proposals WHERE id = %s", (proposal,))[0][0]
    return _disk_figures(mode, how, reads, db_write, disk_writes, alive, load, state,
                         zoning_before == layer_state(bed, "zoning")
                         and not layer_problems(bed, "zoning"))


def _load_zoning(bed: FaultBed, processed: Path, in_process: bool) -> tuple[int, str]:
    """Load the zoning again with the processed folder on the broken disk: exit code and
    what the user reads."""
    source = bed.settings.raw_dir / "prc" / "zonificacion_prc.shp"
    if in_process:
        from gis.errors import PlatformError
        from gis.ingest import ingest

        try:
            ingest(bed.settings.model_copy(update={"processed_dir": processed}), "zoning",
                   source)
        except PlatformError as exc:
            return 1, f"Error: {exc.message}\n{exc.hint or ''}"
        except Exception as exc:  # noqa: BLE001 - what the command line would show
            return 1, f"Traceback: {type(exc).__name__}: {exc}"
        return 0, ""
    done = subprocess.run([*secplac_command(), "ingest", "zoning", str(source)],
                          env=bed.env(SECPLAC_PROCESSED_DIR=str(processed)),
                          cwd=bed.root, capture_output=True, text=True)
    return done.returncode, done.stderr


def _csv(tag: str, point: dict[str, Any]) -> bytes:
    lon, lat = point["coordinates"]
    return ("codigo;nombre;sector;etapa;tipo;longitud;latitud\n"
            f"SIM-{tag}-0002;Importado en simulacro;áreas verdes;diseño;proyecto;{lon};{lat}\n"
            ).encode()


def _disk_figures(mode: str, how: str, reads: dict[str, tuple[int, str]],
                  db_write: tuple[int, str], disk_writes: dict[str, tuple[int, str]],
                  alive: bool, load: tuple[int, str], proposal_state: str,
                  zoning_unchanged: bool) -> dict[str, Any]:
    def spanish(text: str) -> bool:
        return any(s in text for s in SPANISH_DISK)

    answers = [*reads.values(), db_write, *disk_writes.values()]
    code, output = load
    return {
        "mode": mode, "method": how,
        "reads": {k: s for k, (s, _) in reads.items()},
        "reads_ok": sum(s == 200 for s, _ in reads.values()),
        "db_write_status": db_write[0],
        "disk_writes": {k: s for k, (s, _) in disk_writes.items()},
        "disk_writes_spanish": sum(spanish(t) for s, t in disk_writes.values()
                                   if s in (503, 507)),
        "disk_write_texts": {k: t for k, (s, t) in disk_writes.items() if s >= 400 or s == 0},
        "server_errors": sum(s == 500 or s == 0 for s, _ in answers),
        "server_alive_after": alive,
        "ingest_exit": code,
        "ingest_spanish": "Error:" in output and "la capa quedó como estaba" in output,
        "ingest_traceback": "Traceback" in output,
        "ingest_message": output[output.find("Error:"):][:400] if "Error:" in output
        else output[-400:],
        "proposal_state_after": proposal_state,
        "zoning_unchanged": zoning_unchanged,
    }
