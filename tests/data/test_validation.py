"""Validation: every problem reported with id and origin, policies applied, nothing silent."""

import math
from dataclasses import replace

import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure

from sagatsr.data.records import RawEntry, TargetSpec
from sagatsr.data.sources import CifArchiveSource
from sagatsr.data.validation import (
    DataValidationError,
    ValidationPolicy,
    load_records,
    parse_target,
)
from sagatsr.features import unsupported_elements
from tests.support.datasets import GOOD, write_mirror_dataset

TARGETS = (
    TargetSpec("e_form", "eV/cell", "formation energy", (-10.0, 15.0)),
    TargetSpec("gap", "eV", "band gap", (0.0, 25.0)),
)


def load(tmp_path, **kwargs):
    folder = write_mirror_dataset(tmp_path / "toy")
    source = CifArchiveSource(
        folder / "structures.zip", folder / "labels.csv", targets=["e_form", "gap"]
    )
    return load_records(
        source.iter_entries(), TARGETS, dataset="toy", unsupported=unsupported_elements, **kwargs
    )


def test_every_problem_is_reported_and_good_records_kept(tmp_path) -> None:
    result = load(tmp_path, metadata_types={"fold": int})
    report = result.report
    kept = [r.id for r in result.records]
    assert kept == [*GOOD, "text", "nan", "absurd"]  # target problems are masked
    issues = report.frame().set_index("id")
    expected = {
        "empty": ("empty_cif", "skip"),
        "garbage": ("unparsable_cif", "skip"),
        "disordered": ("disordered_structure", "skip"),
        "americium": ("unsupported_element", "skip"),
        "nostructure": ("label_without_structure", "skip"),
        "orphan": ("structure_without_label", "skip"),
        "text": ("non_numeric_target", "mask"),
        "nan": ("missing_target", "mask"),
        "absurd": ("absurd_target", "mask"),
    }
    for entry_id, (kind, action) in expected.items():
        row = issues.loc[[entry_id]].iloc[0]
        assert (row["kind"], row["action"]) == (kind, action), entry_id
    # Both occurrences of a duplicated id are skipped and listed.
    duplicates = report.frame().query("id == 'dup'")
    assert duplicates["kind"].tolist() == ["duplicate_id", "duplicate_id"]
    # "nothing": e_form "na" and gap "" -> both masked -> no valid target -> skipped.
    nothing = report.frame().query("id == 'nothing'")["kind"].tolist()
    assert nothing == ["missing_target", "missing_target", "no_valid_target"]
    # Origins name the file and record.
    assert issues.loc["garbage", "origin"] == "structures.zip:garbage.cif"
    assert "labels.csv" in issues.loc["nostructure", "origin"]
    assert report.n_entries == len(GOOD) + 11 + 1  # label rows + the unlabeled orphan
    assert set(report.skipped_ids()) == {
        "empty",
        "garbage",
        "disordered",
        "americium",
        "nostructure",
        "orphan",
        "dup",
        "nothing",
    }
    assert report.summary()["n_skipped"] == report.n_entries - len(kept)
    masked = {r.id: r for r in result.records}
    assert math.isnan(masked["absurd"].targets["e_form"]) and masked["absurd"].targets["gap"] == 0.4
    assert masked["p-1"].metadata == {"formula": "SrTiO3", "fold": 0}


def test_report_files(tmp_path) -> None:
    result = load(tmp_path)
    result.report.write(tmp_path / "out")
    frame = pd.read_csv(tmp_path / "out" / "validation.csv")
    assert list(frame.columns) == ["id", "origin", "kind", "detail", "action"]
    assert len(frame) == len(result.report.issues)
    summary = (tmp_path / "out" / "validation_summary.json").read_text()
    assert '"unparsable_cif:skip": 1' in summary and '"skipped_ids"' in summary


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("unparsable_cif", r"toy: structures\.zip:garbage\.cif \(id 'garbage'\): unparsable_cif"),
        ("absurd_target", r"structures\.zip:absurd\.cif \(id 'absurd'\): absurd_target: e_form"),
        ("duplicate_id", r"id 'dup'"),
    ],
)
def test_error_policy_names_file_and_record(tmp_path, kind: str, match: str) -> None:
    policy = ValidationPolicy().with_overrides(**{kind: "error"})
    with pytest.raises(DataValidationError, match=match):
        load(tmp_path, policy=policy)


def test_skip_policy_for_targets_and_bad_policies(tmp_path) -> None:
    result = load(tmp_path, policy=ValidationPolicy(absurd_target="skip"))
    assert "absurd" not in [r.id for r in result.records]
    with pytest.raises(ValueError, match="mask"):
        ValidationPolicy(empty_cif="mask")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown"):
        ValidationPolicy().with_overrides(nonsense="skip")  # type: ignore[arg-type]


def test_bad_metadata_is_reported(tmp_path) -> None:
    folder = write_mirror_dataset(tmp_path / "toy", bad=False)
    text = (
        (folder / "labels.csv")
        .read_text()
        .replace("p-2,BaZrO3,1.1,0.5,1", "p-2,BaZrO3,1.1,0.5,one")
    )
    (folder / "labels.csv").write_text(text)
    source = CifArchiveSource(
        folder / "structures.zip", folder / "labels.csv", targets=["e_form", "gap"]
    )
    result = load_records(
        source.iter_entries(), TARGETS, dataset="toy", metadata_types={"fold": int}
    )
    assert [i.kind for i in result.report.issues] == ["bad_metadata"]
    assert "fold='one'" in result.report.issues[0].detail


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.5", (1.5, "")),
        (2, (2.0, "")),
        ("na", (math.nan, "missing_target")),
        ("", (math.nan, "missing_target")),
        (None, (math.nan, "missing_target")),
        (float("nan"), (math.nan, "missing_target")),
        ("abc", (math.nan, "non_numeric_target")),
        ("inf", (math.nan, "non_numeric_target")),
        (True, (math.nan, "non_numeric_target")),
    ],
)
def test_parse_target(value, expected) -> None:
    number, kind = parse_target(value)
    assert kind == expected[1]
    assert (math.isnan(number) and math.isnan(expected[0])) or number == expected[0]


def test_parallel_parsing_gives_the_same_records(tmp_path) -> None:
    folder = write_mirror_dataset(tmp_path / "toy", bad=False)
    source = CifArchiveSource(
        folder / "structures.zip", folder / "labels.csv", targets=["e_form", "gap"]
    )
    base = list(source.iter_entries())
    entries = [replace(e, id=f"{e.id}-{i}") for i in range(40) for e in base]
    one = load_records(entries, TARGETS, dataset="toy", workers=1)
    two = load_records(entries, TARGETS, dataset="toy", workers=2)
    assert len(one.records) == len(entries) == 240
    assert [r.id for r in one.records] == [r.id for r in two.records]
    assert all(a.structure == b.structure for a, b in zip(one.records, two.records, strict=True))


def test_structures_with_nan_or_flat_cells_are_skipped_with_their_reason() -> None:
    sites = [[0, 0, 0], [0.5, 0.5, 0.5]]
    cells = {
        "fine": [[4, 0, 0], [0, 4, 0], [0, 0, 4]],
        "nan_cell": [[math.nan, 0, 0], [0, 4, 0], [0, 0, 4]],
        "flat_cell": [[4, 0, 0], [0, 4, 0], [4, 4, 0]],
    }
    entries = [
        RawEntry(
            name,
            f"toy.json:{name}",
            structure=Structure(Lattice(cell), ["Na", "Cl"], sites),
            labels={"e_form": "1.0", "gap": "2.0"},
        )
        for name, cell in cells.items()
    ]
    result = load_records(entries, TARGETS, dataset="toy")
    assert [r.id for r in result.records] == ["fine"]
    issues = result.report.frame().set_index("id")
    assert set(issues["kind"]) == {"invalid_cell"} and set(issues["action"]) == {"skip"}
    assert "nan" in issues.loc["nan_cell", "detail"]
    assert "no volume" in issues.loc["flat_cell", "detail"]
    with pytest.raises(DataValidationError, match=r"toy\.json:nan_cell .*invalid_cell"):
        load_records(entries, TARGETS, dataset="toy", policy=ValidationPolicy(invalid_cell="error"))
