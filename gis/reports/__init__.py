"""Printable reports in Spanish, as HTML pages and A4 PDFs made on this machine: the
project dossier (ficha de proyecto) and the portfolio report for the Concejo Municipal."""

from gis.reports.concejo import concejo_report_html, concejo_report_pdf
from gis.reports.dossier import project_dossier_html, project_dossier_pdf

__all__ = ["concejo_report_html", "concejo_report_pdf", "project_dossier_html",
           "project_dossier_pdf"]
