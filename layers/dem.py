"""Digital elevation model of the comuna."""

from layers.base import RasterLayer, Theme

LAYER = RasterLayer(
    name="dem",
    title="Modelo digital de elevación",
    description="Elevación del terreno sobre el nivel del mar.",
    theme=Theme.RIESGOS,
    unit="m",
    band_title="Elevación",
)
