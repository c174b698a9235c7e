"""The notebooks run against the demo database the API tests use: ``api_settings`` (a
reset database with the demo data loaded, once for this package)."""

from tests.api.conftest import api_settings  # noqa: F401  (the fixture, for this package)
