"""Validation of raw entries: parse, check, and report every problem with its id.

Nothing is dropped silently. Each problem has a *kind* and the configured
*action* (:class:`ValidationPolicy`):

* ``"error"``: stop with :class:`DataValidationError` naming the file/record;
* ``"skip"``: leave the entry out; its id, origin and reason are listed;
* ``"mask"`` (target problems only): keep the entry, set that target to
  ``nan`` (missing); listed too.

======================== ======== ==================================================
kind                     default  meaning
======================== ======== ==================================================
missing_id               skip     the entry has no id
duplicate_id             skip     several entries share an id (all are skipped:
                                  which one is right cannot be known)
label_without_structure  skip     a label row with no structure
structure_without_label  skip     a structure with no label row
empty_cif                skip     empty CIF text
unparsable_cif           skip     pymatgen cannot read the CIF, the CIF holds
                                  several structures, or a source could not build
                                  the structure
empty_structure          skip     a structure with no sites
disordered_structure     skip     partial occupancies / mixed sites
invalid_cell             skip     nan or infinite cell or coordinates, a flat cell
unsupported_element      skip     an element without feature data
bad_metadata             skip     a required metadata value does not convert
missing_target           mask     empty, ``"na"``, NaN
non_numeric_target       mask     a value that is not a number
absurd_target            mask     outside the target's physically plausible range
no_valid_target          skip     after masking, the entry has no target left
======================== ======== ==================================================
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from sagatsr.data.cif import read_cif
from sagatsr.data.records import CrystalRecord, RawEntry, TargetSpec, structure_problem
from sagatsr.io_utils import atomic_open, write_json

Action = Literal["error", "skip", "mask"]

#: Problem kinds that concern one target value (they allow ``"mask"``).
TARGET_KINDS = ("missing_target", "non_numeric_target", "absurd_target")

#: Missing-value spellings (case-insensitive) besides the empty string.
MISSING_MARKERS = frozenset({"na", "nan", "none", "null", "n/a", ""})


class DataValidationError(ValueError):
    """An entry failed validation under the ``"error"`` policy."""


@dataclass(frozen=True)
class ValidationPolicy:
    """Action per problem kind (see the module docstring)."""

    missing_id: Action = "skip"
    duplicate_id: Action = "skip"
    label_without_structure: Action = "skip"
    structure_without_label: Action = "skip"
    empty_cif: Action = "skip"
    unparsable_cif: Action = "skip"
    empty_structure: Action = "skip"
    disordered_structure: Action = "skip"
    invalid_cell: Action = "skip"
    unsupported_element: Action = "skip"
    bad_metadata: Action = "skip"
    missing_target: Action = "mask"
    non_numeric_target: Action = "mask"
    absurd_target: Action = "mask"
    no_valid_target: Action = "skip"

    def __post_init__(self) -> None:
        for kind, action in self.__dict__.items():
            allowed = ("error", "skip", "mask") if kind in TARGET_KINDS else ("error", "skip")
            if action not in allowed:
                raise ValueError(f"policy for {kind} must be one of {allowed}, got {action!r}")

    def with_overrides(self, **actions: Action) -> ValidationPolicy:
        """A copy with some actions changed.

        Raises:
            ValueError: For an unknown kind or a disallowed action.
        """
        unknown = sorted(set(actions) - set(self.__dict__))
        if unknown:
            raise ValueError(f"unknown validation problem kinds: {', '.join(unknown)}")
        return replace(self, **actions)


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found.

    Attributes:
        id: Entry id (``""`` when the entry has none).
        origin: File and record where the entry came from.
        kind: Problem kind (a :class:`ValidationPolicy` field).
        detail: What exactly is wrong.
        action: What was done (``"skip"`` or ``"mask"``).
    """

    id: str
    origin: str
    kind: str
    detail: str
    action: str


@dataclass
class ValidationReport:
    """Everything validation found in one dataset.

    Attributes:
        dataset: Dataset name.
        n_entries: Entries read.
        n_records: Entries kept.
        issues: One row per problem.
    """

    dataset: str
    n_entries: int = 0
    n_records: int = 0
    issues: list[ValidationIssue] = field(default_factory=list)

    def skipped_ids(self) -> list[str]:
        """Ids of skipped entries (each once, in order of discovery)."""
        seen: dict[str, None] = {}
        for issue in self.issues:
            if issue.action == "skip":
                seen.setdefault(issue.id or issue.origin, None)
        return list(seen)

    def frame(self) -> pd.DataFrame:
        """Issues as a DataFrame (columns id, origin, kind, detail, action)."""
        return pd.DataFrame(
            [issue.__dict__ for issue in self.issues],
            columns=["id", "origin", "kind", "detail", "action"],
        )

    def summary(self) -> dict[str, Any]:
        """Counts (entries, records, skipped, issues per ``kind:action``) and the skipped ids."""
        counts = Counter(f"{i.kind}:{i.action}" for i in self.issues)
        return {
            "dataset": self.dataset,
            "n_entries": self.n_entries,
            "n_records": self.n_records,
            "n_skipped": self.n_entries - self.n_records,
            "issues": dict(sorted(counts.items())),
            "skipped_ids": self.skipped_ids(),
        }

    def write(self, folder: str | os.PathLike[str]) -> None:
        """Write ``validation.csv`` (one row per issue) and ``validation_summary.json``."""
        out = Path(folder)
        with atomic_open(out / "validation.csv", "w", newline="") as handle:
            self.frame().to_csv(handle, index=False)
        write_json(out / "validation_summary.json", self.summary())


@dataclass
class LoadResult:
    """Validated records and the report."""

    records: list[CrystalRecord]
    report: ValidationReport


def parse_target(value: Any) -> tuple[float, str]:
    """Convert a raw label to a float.

    Args:
        value: As read (string, number, ``None``).

    Returns:
        ``(value, "")`` on success, else ``(nan, kind)`` with kind
        ``"missing_target"`` or ``"non_numeric_target"``.
    """
    if value is None or isinstance(value, bool):
        return math.nan, "missing_target" if value is None else "non_numeric_target"
    if isinstance(value, str):
        if value.strip().lower() in MISSING_MARKERS:
            return math.nan, "missing_target"
        try:
            number = float(value.strip())
        except ValueError:
            return math.nan, "non_numeric_target"
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return math.nan, "non_numeric_target"
    if math.isnan(number):
        return math.nan, "missing_target"
    if math.isinf(number):
        return math.nan, "non_numeric_target"
    return number, ""


def _parse_one(item: tuple[int, str]) -> tuple[int, Any, str]:
    index, text = item
    try:
        return index, read_cif(text), ""
    except Exception as error:  # reported per entry with its origin
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return index, None, f"{type(error).__name__}: {message}"[:300]


def _parse_all(texts: list[tuple[int, str]], workers: int) -> dict[int, tuple[Any, str]]:
    if workers > 1 and len(texts) > 200:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results = list(pool.map(_parse_one, texts, chunksize=256))
    else:
        results = [_parse_one(item) for item in texts]
    return {index: (structure, error) for index, structure, error in results}


def _convert_metadata(
    metadata: dict[str, Any], types: dict[str, type]
) -> tuple[dict[str, Any], str]:
    out = dict(metadata)
    for key, kind in types.items():
        value = metadata.get(key)
        try:
            converted = kind(float(value)) if kind is int else kind(value)
            if kind is int and float(value) != converted:
                raise ValueError
            out[key] = converted
        except (TypeError, ValueError):
            return out, f"metadata {key}={value!r} is not a valid {kind.__name__}"
    return out, ""


def load_records(
    entries: Iterable[RawEntry],
    targets: Sequence[TargetSpec],
    *,
    dataset: str,
    unsupported: Callable[[Any], list[str]] | None = None,
    policy: ValidationPolicy | None = None,
    metadata_types: dict[str, type] | None = None,
    workers: int = 1,
) -> LoadResult:
    """Parse and validate raw entries.

    Args:
        entries: Raw entries of one dataset.
        targets: The dataset's targets (names, units, plausible ranges).
        dataset: Dataset name, for messages and the report.
        unsupported: Returns the elements of a structure that have no feature
            data (e.g. :func:`sagatsr.features.unsupported_elements`); ``None``
            skips that check.
        policy: Action per problem kind (defaults: module docstring).
        metadata_types: Metadata keys that must convert to a type (e.g. the
            Matbench fold to ``int``).
        workers: Processes used to parse CIF text.

    Returns:
        The valid records (input order) and the report.

    Raises:
        DataValidationError: For the first problem whose action is ``"error"``;
            the message names the dataset, origin (file and record) and id.
    """
    policy = policy or ValidationPolicy()
    raw = list(entries)
    report = ValidationReport(dataset=dataset, n_entries=len(raw))

    def flag(entry: RawEntry, kind: str, detail: str) -> str:
        action = getattr(policy, kind)
        if action == "error":
            raise DataValidationError(
                f"{dataset}: {entry.origin} (id {entry.id!r}): {kind}: {detail}"
            )
        report.issues.append(ValidationIssue(entry.id, entry.origin, kind, detail, action))
        return action

    id_counts = Counter(entry.id for entry in raw if entry.id)
    texts = [
        (i, e.cif_text)
        for i, e in enumerate(raw)
        if e.structure is None and e.structure_error is None and e.cif_text and e.cif_text.strip()
    ]
    parsed = _parse_all(texts, workers)

    records: list[CrystalRecord] = []
    for index, entry in enumerate(raw):
        if not entry.id:
            flag(entry, "missing_id", "the entry has no id")
            continue
        if id_counts[entry.id] > 1:
            flag(entry, "duplicate_id", f"id appears {id_counts[entry.id]} times")
            continue
        has_structure = (
            entry.structure is not None
            or entry.structure_error is not None
            or entry.cif_text is not None
        )
        if entry.labels is None:
            flag(entry, "structure_without_label", "no label row for this structure")
            continue
        if not has_structure:
            flag(entry, "label_without_structure", "no structure for this label row")
            continue
        structure = entry.structure
        if structure is None:
            if entry.structure_error is not None:
                flag(entry, "unparsable_cif", entry.structure_error)
                continue
            if not (entry.cif_text or "").strip():
                flag(entry, "empty_cif", "the CIF text is empty")
                continue
            structure, error = parsed[index]
            if structure is None:
                flag(entry, "unparsable_cif", error)
                continue
        problem = structure_problem(structure)
        if problem is not None:
            flag(entry, *problem)
            continue
        if unsupported is not None:
            missing = unsupported(structure)
            if missing:
                flag(entry, "unsupported_element", f"no feature data for {', '.join(missing)}")
                continue
        metadata, problem = _convert_metadata(entry.metadata, metadata_types or {})
        if problem:
            flag(entry, "bad_metadata", problem)
            continue
        values = _check_targets(entry, targets, flag)
        if values is None:
            continue
        records.append(CrystalRecord(entry.id, structure, values, metadata))
    report.n_records = len(records)
    return LoadResult(records, report)


def _check_targets(
    entry: RawEntry, targets: Sequence[TargetSpec], flag: Callable[[RawEntry, str, str], str]
) -> dict[str, float] | None:
    """Target values of an entry, or ``None`` when the entry is skipped."""
    labels = entry.labels or {}
    values: dict[str, float] = {}
    for target in targets:
        raw_value = labels.get(target.name)
        value, kind = parse_target(raw_value)
        if not kind:
            low, high = target.valid_range
            if not low <= value <= high:
                kind = "absurd_target"
        if kind:
            detail = f"{target.name} = {raw_value!r} {target.unit}" + (
                f" outside [{target.valid_range[0]}, {target.valid_range[1]}]"
                if kind == "absurd_target"
                else ""
            )
            if flag(entry, kind, detail) == "skip":
                return None
            value = math.nan
        values[target.name] = value
    if targets and all(math.isnan(v) for v in values.values()):
        flag(entry, "no_valid_target", "no target has a valid value")
        return None
    return values
