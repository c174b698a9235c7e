"""Tsunami inundation depth (hazard raster)."""

from layers.base import ColorStop, RasterLayer, Theme

LAYER = RasterLayer(
    name="tsunami_depth",
    title="Profundidad de inundación por tsunami",
    description="Altura de la columna de agua esperada en tierra para el tsunami de diseño.",
    theme=Theme.RIESGOS,
    unit="m",
    band_title="Profundidad de inundación",
    ramp=(ColorStop(0, "#deebf7"), ColorStop(1, "#9ecae1"), ColorStop(2, "#4292c6"),
          ColorStop(4, "#08519c"), ColorStop(8, "#08306b")),
)
