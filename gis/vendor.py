"""Front-end packages the platform serves itself (from the npm registry, installed by
``make frontend``): nothing a page or a folium map shows comes from a CDN."""

from __future__ import annotations

from dataclasses import dataclass

VENDOR_PACKAGES = {
    "maplibre-gl": "maplibre-gl/dist",
    "leaflet": "leaflet/dist",
    "jquery": "jquery/dist",
    "bootstrap": "bootstrap/dist",
    "fontawesome": "@fortawesome/fontawesome-free",
    "awesome-markers": "leaflet.awesome-markers/dist",
    "swagger-ui": "swagger-ui-dist",
    "terra-draw": "terra-draw/dist",
    "terra-draw-maplibre-gl-adapter": "terra-draw-maplibre-gl-adapter/dist",
}
"""URL name (``/vendor/<name>/``) → folder inside node_modules. Only these are reachable."""


@dataclass(frozen=True)
class VendorFile:
    """A file of one of :data:`VENDOR_PACKAGES`, served under ``/vendor/<package>/``."""

    package: str
    path: str

    @property
    def npm_folder(self) -> str:
        """Folder of ``node_modules`` served under the package's URL name."""
        return VENDOR_PACKAGES[self.package]
