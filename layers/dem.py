"""Digital elevation model of the comuna."""

from layers.base import ColorStop, RasterLayer, Theme

LAYER = RasterLayer(
    name="dem",
    title="Modelo digital de elevación",
    description="Elevación del terreno sobre el nivel del mar.",
    theme=Theme.RIESGOS,
    unit="m",
    band_title="Elevación",
    ramp=(ColorStop(0, "#1a9850"), ColorStop(50, "#a6d96a"), ColorStop(100, "#fee08b"),
          ColorStop(200, "#d9a05b"), ColorStop(350, "#8c510a"), ColorStop(500, "#f5f5f5")),
)
