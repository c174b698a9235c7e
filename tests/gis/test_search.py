"""The search engine's text handling, without a database: cleaning, patterns, errors."""

from __future__ import annotations

import re

import pytest

from gis.search import (
    MAX_QUERY_LENGTH,
    SearchError,
    accent_pattern,
    clean_query,
    fold,
    searchable_layers,
)
from layers.base import FieldType


def test_fold_ignores_case_and_spanish_accents() -> None:
    assert fold("Jardín Infantil ÑUÑOA, Güemes") == "jardin infantil nunoa, guemes"


@pytest.mark.parametrize(("typed", "stored"), [
    ("jardin", "Construcción Jardín Infantil"), ("PEÑA", "Calle Peña 12"),
    ("ávila", "AVILA"), ("nunoa", "Ñuñoa"), ("1.2", "Km 1.2"), ("a+b (c)", "x A+B (C) y"),
])
def test_accent_pattern_matches_any_accent_and_case(typed: str, stored: str) -> None:
    assert re.search(accent_pattern(typed), stored, re.IGNORECASE)


@pytest.mark.parametrize(("typed", "stored"), [("1.2", "Km 132"), ("a+b", "aab"),
                                               ("[a-z]", "q"), ("x|y", "y"), (".*", "abc")])
def test_accent_pattern_has_no_operators(typed: str, stored: str) -> None:
    assert not re.search(accent_pattern(typed), stored, re.IGNORECASE)


def test_clean_query_trims_and_collapses_spaces() -> None:
    assert clean_query("  1999 \t -  54 ") == "1999 - 54"
    assert clean_query("Av.\u00a0Barros  Luco") == "Av. Barros Luco"


@pytest.mark.parametrize("text", [None, "", "   ", "\x00\x07"])
def test_empty_query_is_refused_in_spanish(text: str | None) -> None:
    with pytest.raises(SearchError, match="Escriba qué buscar") as err:
        clean_query(text)
    assert err.value.http_status == 400 and "rol" in (err.value.hint or "")


def test_too_long_query_is_refused_in_spanish() -> None:
    assert clean_query("x" * MAX_QUERY_LENGTH)
    with pytest.raises(SearchError, match="demasiado larga"):
        clean_query("x" * (MAX_QUERY_LENGTH + 1))


def test_search_fields_are_declared_text_fields() -> None:
    layers = {lyr.name: lyr for lyr in searchable_layers()}
    assert {"parcels", "projects", "zoning", "comunas"} <= set(layers)
    assert layers["parcels"].search == ("rol", "direccion")
    for layer in layers.values():
        assert layer.style.label is not None, layer.name
        for name in layer.search:
            assert layer.field(name).type is FieldType.TEXT, (layer.name, name)
