"""The API's test server (from tests/api) over a database of this package's own, with only
the layers its write paths need: the comuna's boundary (projects must lie in it), the urban
limit and the zoning (proposals edit it). Loading the whole demo would take most of the
time these tests are allowed."""

from __future__ import annotations

import pytest

from bench.common import load_demo_layers
from gis.settings import Settings
from tests.api.conftest import app, server  # noqa: F401  (fixtures over api_settings)
from tests.conftest import reset_database

LAYERS = ("comunas", "urban_limit", "zoning")


@pytest.fixture(scope="package")
def api_settings(base_settings: Settings, demo_raw, tmp_path_factory) -> Settings:  # type: ignore[no-untyped-def]
    reset_database(base_settings)
    settings = base_settings.model_copy(update={
        "processed_dir": tmp_path_factory.mktemp("hostile-api-processed"), "raw_dir": demo_raw})
    load_demo_layers(settings, LAYERS)
    return settings
