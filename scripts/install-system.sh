#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the platform needs, only those that are missing.
# Runs apt-get directly as root, through sudo otherwise.
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }

pg_with_postgis() {
  for control in /usr/share/postgresql/*/extension/postgis.control; do
    [ -e "$control" ] || continue
    version=$(basename "$(dirname "$(dirname "$control")")")
    [ -x "/usr/lib/postgresql/$version/bin/initdb" ] && return 0
  done
  return 1
}

if ! pg_with_postgis; then
  need+=(postgresql postgresql-postgis)
fi
have_cmd psql || need+=(postgresql-client)
have_cmd ogr2ogr || need+=(gdal-bin)
have_cmd runuser || need+=(util-linux)
have_cmd npm || need+=(nodejs npm)
# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
have_cmd chromium || need+=(chromium)
# WeasyPrint (PDF reports) renders with Pango; DejaVu gives it Spanish glyphs.
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so.0' || need+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "Instalando paquetes del sistema: ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif have_cmd sudo; then
  SUDO="sudo"
else
  echo "Error: faltan paquetes (${need[*]}) y no hay sudo para instalarlos." >&2
  echo "Instálelos como administrador: apt-get install ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
