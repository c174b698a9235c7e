"""What an ingest found and did: issues by feature, repairs, mapping; Spanish summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gis.errors import PlatformError

MAX_LISTED_ROWS = 20


@dataclass
class IssueGroup:
    """All features that share one problem (``reason``) in one field (or the geometry)."""

    reason: str
    where: str
    rows: list[int] = field(default_factory=list)
    count: int = 0

    def add(self, row: int) -> None:
        self.count += 1
        if len(self.rows) < MAX_LISTED_ROWS:
            self.rows.append(row)

    def describe(self, row_label: str) -> str:
        listed = ", ".join(str(r) for r in self.rows)
        more = f" y {self.count - len(self.rows)} más" if self.count > len(self.rows) else ""
        return f"{self.where}: {self.reason} — {self.count} {row_label}: {listed}{more}"


@dataclass
class IngestReport:
    layer: str
    source_file: str
    source_crs: str | None = None
    transformation: str | None = None
    row_label: str = "entidades (n.º)"
    features_read: int = 0
    features_loaded: int = 0
    mapping: dict[str, str] = field(default_factory=dict)
    missing_fields: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    version: int | None = None
    dry_run: bool = False
    processed_file: str | None = None
    _errors: dict[tuple[str, str], IssueGroup] = field(default_factory=dict)
    _repairs: dict[tuple[str, str], IssueGroup] = field(default_factory=dict)
    _rejected: set[int] = field(default_factory=set)

    def reject(self, where: str, reason: str, rows: Any) -> None:
        rows = [rows] if isinstance(rows, int) else [int(r) for r in rows]
        self._rejected.update(rows)
        _add(self._errors, where, reason, rows)

    def repair(self, where: str, reason: str, rows: Any) -> None:
        _add(self._repairs, where, reason, rows)

    @property
    def errors(self) -> list[IssueGroup]:
        return list(self._errors.values())

    @property
    def repairs(self) -> list[IssueGroup]:
        return list(self._repairs.values())

    @property
    def rejected_count(self) -> int:
        return len(self._rejected)

    def summary_lines(self) -> list[str]:
        lines = [f"Capa: {self.layer}", f"Archivo: {self.source_file}",
                 f"Sistema de coordenadas del archivo: {self.source_crs}"]
        if self.transformation:
            lines.append(f"Transformación: {self.transformation}")
        lines.append(f"Entidades leídas: {self.features_read}")
        if not self.dry_run:
            lines.append(f"Entidades cargadas: {self.features_loaded}")
        if self.mapping:
            pairs = ", ".join(f"{k} ← {v}" for k, v in self.mapping.items() if k != v)
            if pairs:
                lines.append(f"Correspondencia de campos: {pairs}")
        if self.missing_fields:
            lines.append("Campos de la capa ausentes en el archivo (quedan vacíos): "
                         + ", ".join(self.missing_fields))
        if self.ignored_columns:
            lines.append("Columnas del archivo no usadas: " + ", ".join(self.ignored_columns))
        lines += [f"Aviso: {w}" for w in self.warnings]
        lines += [f"Reparado: {g.describe(self.row_label)}" for g in self.repairs]
        lines += [f"Error: {g.describe(self.row_label)}" for g in self.errors]
        return lines

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for private in ("_errors", "_repairs", "_rejected"):
            data.pop(private)
        data["errors"] = [asdict(g) for g in self.errors]
        data["repairs"] = [asdict(g) for g in self.repairs]
        return data


def _add(groups: dict[tuple[str, str], IssueGroup], where: str, reason: str, rows: Any) -> None:
    key = (where, reason)
    group = groups.get(key)
    if group is None:
        group = groups[key] = IssueGroup(reason=reason, where=where)
    for row in ([rows] if isinstance(rows, int) else rows):
        group.add(int(row))


class IngestError(PlatformError):
    """A load refused: nothing was written. ``report`` says what was found."""

    def __init__(self, message: str, report: IngestReport | None = None, *,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report
