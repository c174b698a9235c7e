"""Tsunami inundation depth (hazard raster)."""

from layers.base import RasterLayer, Theme

LAYER = RasterLayer(
    name="tsunami_depth",
    title="Profundidad de inundación por tsunami",
    description="Altura de la columna de agua esperada en tierra para el tsunami de diseño.",
    theme=Theme.RIESGOS,
    unit="m",
    band_title="Profundidad de inundación",
)
