"""What every report shares: the Jinja2 environment (autoescaped, Chilean number and date
formats), the report SQL, images as data URIs and the PDF made locally by WeasyPrint.

The same HTML is served as a web page and printed to PDF: the stylesheet's ``@page`` rules
(A4, the municipality's header and page numbers in the margin boxes) apply only to the
PDF. Nothing is fetched from the network: fonts are the machine's DejaVu, images are
embedded.
"""

from __future__ import annotations

import base64
import re
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Any

import jinja2

from gis.portfolio.record import money as _money

HEADER = "Municipalidad de San Antonio — SECPLAC"
"""Printed in the top margin of every page of a PDF."""
MISSING = "—"


def _sql_sections() -> dict[str, str]:
    text = files("gis").joinpath("sql/reports.sql").read_text(encoding="utf-8")
    parts = re.split(r"^-- name: (\w+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


SQL = _sql_sections()


# --- formats -------------------------------------------------------------------------------

def money(value: Any) -> str:
    """CLP as in Chile (``$ 1.500.000``); a dash when unknown."""
    return MISSING if value is None else _money(float(value))


def number(value: Any, decimals: int = 0) -> str:
    """A number with Chilean separators: ``12.500``, ``45,5``; a dash when unknown."""
    if value is None:
        return MISSING
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if value != value:  # NaN
        return MISSING
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u0001").replace(".", ",").replace("\u0001", ".")


def percent(value: Any, decimals: int = 1) -> str:
    """``45,5 %``; a dash when unknown."""
    text = number(value, decimals)
    return text if text == MISSING else f"{text} %"


def distance(value: Any) -> str:
    """Metres below 1 km (``312 m``), kilometres above (``1,25 km``, ``2 km``)."""
    if value is None:
        return MISSING
    value = float(value)
    if value < 1000:
        return f"{number(value)} m"
    return number(value / 1000, 2).rstrip("0").rstrip(",") + " km"


def day(value: Any) -> str:
    """A date as ``dd-mm-aaaa`` (from a date, a datetime or ISO text)."""
    when = _as_datetime(value)
    return MISSING if when is None else f"{when:%d-%m-%Y}"


def moment(value: Any) -> str:
    """A date and time as ``dd-mm-aaaa hh:mm`` (local time of the value)."""
    when = _as_datetime(value)
    if when is None:
        return MISSING
    return f"{when:%d-%m-%Y}" if type(when) is date else f"{when:%d-%m-%Y %H:%M}"


def _as_datetime(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def size(value: Any) -> str:
    """A file size: ``850 B``, ``12,3 kB``, ``4,5 MB``."""
    if value is None:
        return MISSING
    value = float(value)
    if value < 1000:
        return f"{number(value)} B"
    if value < 1_000_000:
        return f"{number(value / 1000, 1)} kB"
    return f"{number(value / 1_000_000, 1)} MB"


def or_dash(value: Any) -> Any:
    return MISSING if value is None or value == "" or value == [] else value


# --- templates -----------------------------------------------------------------------------

@cache
def environment() -> jinja2.Environment:
    """The reports' Jinja2 environment: every value is HTML-escaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gis", "reports/templates"),
        autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=money, number=number, percent=percent, distance=distance,
                       day=day, moment=moment, size=size, or_dash=or_dash)
    env.globals["HEADER"] = HEADER
    return env


def render_template(name: str, **context: Any) -> str:
    """The HTML of template ``name`` (in ``gis/reports/templates``) with ``context``."""
    generated = datetime.now().astimezone()
    return environment().get_template(name).render(generated=generated, **context)


def data_uri(content: bytes | str, mime: str) -> str:
    """An image to embed in a page (``<img src=...>``) without any request."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def svg_uri(svg: str) -> str:
    return data_uri(svg, "image/svg+xml")


def png_uri(png: bytes) -> str:
    return data_uri(png, "image/png")


# --- PDF -----------------------------------------------------------------------------------

def html_to_pdf(html: str) -> bytes:
    """The PDF (A4, header and page numbers from the stylesheet) of a report's HTML,
    made on this machine by WeasyPrint: nothing is fetched from the network."""
    import weasyprint

    offline = weasyprint.URLFetcher(allowed_protocols=("data",))
    document = weasyprint.HTML(string=html, url_fetcher=offline, base_url=".")
    pdf: bytes = document.write_pdf()
    return pdf


def safe_filename(text: str, *, prefix: str, suffix: str) -> str:
    """A download name made of ``prefix``, the characters of ``text`` that are safe in a
    ``Content-Disposition`` header, and ``suffix``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:80] or "proyecto"
    return f"{prefix}{cleaned}{suffix}"
