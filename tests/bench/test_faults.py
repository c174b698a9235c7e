"""The fault drills of ``python -m bench faults`` at a small size, on a PostgreSQL cluster
of their own (they stop it; the suite's shared cluster is never touched)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import faults
from bench.faults import FaultBed, fault_bed
from tests.conftest import RAW

PARCELS = RAW / "catastro" / "catastro_predios.gpkg"


@pytest.fixture(scope="module")
def bed(demo_raw: Path) -> Iterator[FaultBed]:
    with fault_bed() as made:
        yield made


def test_database_outage_gets_spanish_503_and_the_api_recovers_alone(bed: FaultBed) -> None:
    result = faults.db_outage_drill(bed, outage_s=3.0, readers=2, acknowledged_before=3,
                                    mode="immediate")
    assert result["requests_during_outage"] > 0
    assert result["statuses_during_outage"] == {"503": result["requests_during_outage"]}
    assert result["spanish_503_during_outage"] == result["requests_during_outage"]
    assert result["outage_503_max_s"] < faults.TARGETS["outage_503_max_s_under"]
    assert result["recovery_s"] is not None
    assert result["recovery_s"] < faults.TARGETS["recovery_s_under"]
    assert result["errors_after_recovery"] == 0 and result["server_errors"] == 0
    assert result["writes_acknowledged"] >= 3 and result["writes_refused"] > 0
    assert result["writes_lost"] == 0 and result["writes_half_applied"] == 0


def test_killed_ingest_leaves_the_old_or_the_new_version(bed: FaultBed) -> None:
    import pyogrio

    small = bed.root / "predios.gpkg"
    pyogrio.write_dataframe(pyogrio.read_dataframe(PARCELS, max_features=2000), small)
    result = faults.ingest_kill_drill(bed, small, points=("copia", "confirmada"))
    by_point = {a["point"]: a for a in result["attempts"]}
    assert result["faults_injected"] == 2 == result["faults_survived"], result["attempts"]
    assert by_point["copia"]["outcome"] == "anterior"
    assert by_point["confirmada"]["outcome"] == "nueva"
    assert result["mixed_versions"] == 0 and result["inconsistent"] == 0
    assert result["rows"] == {"entero": 2000, "mitad": 1000}


def test_killed_proposal_apply_leaves_the_old_or_the_new_zoning(bed: FaultBed) -> None:
    result = faults.apply_kill_drill(bed, points=("copia", "confirmada"))
    first, second = result["attempts"]
    assert result["faults_injected"] == 2 == result["faults_survived"], result["attempts"]
    assert (first["outcome"], first["state"], first["applied_on_retry"]) == \
        ("anterior", "aprobada", True)
    assert (second["outcome"], second["state"]) == ("nueva", "aplicada")
    assert result["mixed_versions"] == 0


def test_read_only_disk_still_serves_and_refuses_writes_in_spanish(bed: FaultBed) -> None:
    result = faults.disk_drill(bed, "solo_lectura", in_process=True)
    assert result["reads_ok"] == len(result["reads"]), result["reads"]
    assert result["db_write_status"] == 201
    assert set(result["disk_writes"].values()) == {503}, result["disk_write_texts"]
    assert result["disk_writes_spanish"] == len(result["disk_writes"])
    assert result["server_errors"] == 0 and result["server_alive_after"]
    assert result["ingest_exit"] == 1 and result["ingest_spanish"]
    assert not result["ingest_traceback"]
    assert result["zoning_unchanged"] and result["proposal_state_after"] == "aprobada"
