"""A scientist's own data: the file formats ``sagatsr prepare PATH`` reads.

==========================  ======================================================
path                        read as
==========================  ======================================================
a folder, a ``.zip``        ``<id>.cif`` (or ``<id>.cif.gz``) files, or VASP files
                            ``<id>.vasp`` / ``<id>.poscar``, plus a labels CSV
                            keyed by id
                            (``--labels``; default ``labels.csv`` inside the folder
                            or beside the zip); or, with ``--structure-file NAME``,
                            calculation folders ``<id>/NAME`` (``CONTCAR``)
``.csv``, ``.csv.gz``       one row per entry with a column of CIF text
``.json``                   a list of objects, each with the id, the targets and
                            either a CIF-text field or ``structure``: a pymatgen
                            ``Structure.as_dict()``
``.xyz``, ``.extxyz``       extended XYZ frames (ase); id and targets from each
                            frame's info line
``.db``                     an ASE database; id and targets from each row's
                            key-value pairs
==========================  ======================================================

Every format ends in :class:`~sagatsr.data.records.RawEntry` objects with CIF
text, so one validation reports bad input the same way for all of them: a
record that cannot be converted keeps an empty CIF and is reported as
unparsable with its file and record, never dropped.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagatsr.data.cif import structure_to_cif
from sagatsr.data.records import RawEntry
from sagatsr.data.sources import CifArchiveSource, CifColumnCsvSource, Source, read_utf8

#: File suffixes of each user format.
FORMATS: dict[str, tuple[str, ...]] = {
    "cif_csv": (".csv", ".csv.gz"),
    "json": (".json",),
    "extxyz": (".xyz", ".extxyz"),
    "ase_db": (".db",),
    "cif_zip": (".zip",),
}


def _label(value: Any) -> str | None:
    """A label as the text validation checks (numbers are written as text)."""
    return None if value is None else str(value)


@dataclass
class JsonRecordsSource:
    """A JSON list of objects with CIF text or a pymatgen structure dict.

    Args:
        path: The JSON file.
        targets: Target field names.
        id_column: Id field.
        cif_column: Field with CIF text (used when present in a record).
    """

    path: Path
    targets: Sequence[str]
    id_column: str = "id"
    cif_column: str = "cif"

    def describe(self) -> str:
        """Where the entries come from."""
        return str(self.path)

    def iter_entries(self) -> Iterator[RawEntry]:
        """Yield one entry per object, in file order.

        Raises:
            ValueError: If the file is not JSON or not a list of objects.
        """
        try:
            records = json.loads(read_utf8(Path(self.path)))
        except json.JSONDecodeError as error:
            raise ValueError(f"{self.path} is not valid JSON ({error})") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError(f"{self.path} must hold a JSON list of objects, one per entry")
        _check_keys(self.path, records, [self.id_column, *self.targets])
        for index, record in enumerate(records):
            origin = f"{Path(self.path).name}:record {index}"
            cif, error = self._cif_of(record)
            skip = {self.id_column, self.cif_column, "structure", *self.targets}
            yield RawEntry(
                id=str(record.get(self.id_column, "") or ""),
                origin=origin,
                cif_text=cif,
                structure_error=error,
                labels={name: _label(record.get(name)) for name in self.targets},
                metadata={k: str(v) for k, v in record.items() if k not in skip},
            )

    def _cif_of(self, record: dict[str, Any]) -> tuple[str, str | None]:
        """``(CIF text, None)``, or ``("", reason)`` when the record's structure is unusable."""
        cif = record.get(self.cif_column)
        if cif is not None:
            if isinstance(cif, str):
                return cif, None
            shown = repr(cif)[:40]
            return (
                "",
                f"the {self.cif_column!r} field is {type(cif).__name__} {shown}, not CIF text",
            )
        values = record.get("structure")
        if values is None:
            return "", f"no {self.cif_column!r} or 'structure' field"
        from pymatgen.core import Structure

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return structure_to_cif(Structure.from_dict(values)), None
        except Exception as error:  # reported by validation with the record's origin
            return "", (
                "the 'structure' field is not a pymatgen Structure dict "
                f"({type(error).__name__}: {error})"
            )


@dataclass
class AseSource:
    """Extended-XYZ frames or ASE database rows (read with ase).

    Args:
        path: An ``.xyz`` / ``.extxyz`` file or an ASE ``.db`` database.
        targets: Target keys (info keys of a frame, key-value pairs of a row).
        id_column: Key of the id (for a record without it: ``<file stem>-<n>``, ``n`` the
            database row id or the frame index, as its origin shows).
    """

    path: Path
    targets: Sequence[str]
    id_column: str = "id"

    def describe(self) -> str:
        """Where the entries come from."""
        return str(self.path)

    def _records(self) -> Iterator[tuple[str, str, Any, dict[str, Any]]]:
        """``(default id, origin, atoms, key-values)`` per frame or row.

        The default id (for a record without the id key) is ``<file stem>-<n>``, ``n``
        the number the origin shows: the row's id in a database (from 1), the frame's
        index in a file (from 0).
        """
        path = Path(self.path)
        if path.suffix == ".db":
            import sqlite3

            from ase.db import connect

            try:
                rows = list(connect(str(path)).select())
            except sqlite3.DatabaseError as error:
                raise ValueError(f"{path} is not a readable ASE database ({error})") from None
            for row in rows:
                values = {**row.key_value_pairs, **{k: v for k, v in row.data.items()}}
                yield f"{path.stem}-{row.id}", f"{path.name}:row {row.id}", row.toatoms(), values
        else:
            from ase.io import iread

            try:
                for index, atoms in enumerate(iread(str(path), index=":", format="extxyz")):
                    origin = f"{path.name}:frame {index}"
                    yield f"{path.stem}-{index}", origin, atoms, dict(atoms.info)
            except Exception as error:
                raise ValueError(f"{path} is not a readable extended-XYZ file ({error})") from None

    def iter_entries(self) -> Iterator[RawEntry]:
        """Yield one entry per frame or row, in file order.

        Raises:
            ValueError: If no frame or row has a target key.
        """
        from pymatgen.io.ase import AseAtomsAdaptor

        records = list(self._records())
        _check_keys(self.path, [values for _, _, _, values in records], self.targets)
        for default_id, origin, atoms, values in records:
            cif, error = "", None
            if not len(atoms):
                error = "no atoms"
            elif atoms.cell.rank != 3:
                error = f"no periodic cell (cell rank {atoms.cell.rank}; a crystal needs 3)"
            else:
                try:
                    cif = structure_to_cif(AseAtomsAdaptor.get_structure(atoms))
                except Exception as failure:  # reported by validation with the origin
                    error = f"ase atoms to structure: {type(failure).__name__}: {failure}"
            skip = {self.id_column, *self.targets}
            yield RawEntry(
                id=str(values.get(self.id_column, default_id)),
                origin=origin,
                cif_text=cif,
                structure_error=error,
                labels={name: _label(values.get(name)) for name in self.targets},
                metadata={k: str(v) for k, v in values.items() if k not in skip},
            )


def _check_keys(path: Path, records: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Raise when a needed key is in none of the records (a misspelt column, most likely).

    Raises:
        ValueError: Naming the file, the missing keys and the keys it has.
    """
    if not records:
        return
    present = set().union(*(record.keys() for record in records))
    missing = [key for key in keys if key not in present]
    if missing:
        raise ValueError(
            f"{path} has no field {', '.join(repr(m) for m in missing)} in any record "
            f"(fields: {', '.join(sorted(map(str, present)))})"
        )


def table_format(path: str | Path) -> str | None:
    """The format of a file of many structures, from its name (a key of :data:`FORMATS`).

    Args:
        path: A file name or path (not looked at on disk).

    Returns:
        The format, or ``None`` for a name that ends in none of :data:`FORMATS`'
        suffixes (a single structure file, say).
    """
    name = Path(path).name.lower()
    for fmt, suffixes in FORMATS.items():
        if name.endswith(suffixes):
            return fmt
    return None


def detect_format(path: Path) -> str:
    """The user format of a path (a key of :data:`FORMATS`, or ``"cif_folder"``).

    Raises:
        FileNotFoundError: If the path does not exist.
        ValueError: For a file of no known format (the message lists them).
    """
    if path.is_dir():
        return "cif_folder"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    fmt = table_format(path)
    if fmt is not None:
        return fmt
    known = ", ".join(s for suffixes in FORMATS.values() for s in suffixes)
    raise ValueError(
        f"{path}: unknown format (a folder of CIF or VASP files, or a file ending in {known})"
    )


def user_source(
    path: str | Path,
    *,
    targets: Sequence[str],
    id_column: str = "id",
    cif_column: str = "cif",
    labels: str | Path | None = None,
    structure_file: str = "",
) -> Source:
    """A source for a user's file or folder (see the module docstring).

    Args:
        path: The data.
        targets: Target column names.
        id_column: Id column or key.
        cif_column: Column or field of CIF text (CSV, JSON).
        labels: Labels CSV of a folder or zip (default ``labels.csv`` inside the
            folder or beside the zip).
        structure_file: For a folder or zip of calculation folders: the name of
            the structure file inside each (``CONTCAR``); the id is the folder's name.

    Raises:
        FileNotFoundError: If the path, or the labels CSV a folder or zip needs, is missing.
        ValueError: For an unknown format, or ``labels`` given for a file that holds
            its labels itself.
    """
    path = Path(path)
    fmt = detect_format(path)
    labels_path = None
    if labels and fmt not in ("cif_folder", "cif_zip"):
        raise ValueError(
            f"--labels is for a folder or zip of structure files; {path} holds its labels "
            "itself (target columns or keys beside each structure)"
        )
    if structure_file and fmt not in ("cif_folder", "cif_zip"):
        raise ValueError(
            f"--structure-file is for a folder or zip of calculation folders; {path} is a "
            "file of structures"
        )
    if fmt in ("cif_folder", "cif_zip"):
        default = path / "labels.csv" if fmt == "cif_folder" else path.with_name("labels.csv")
        labels_path = Path(labels) if labels else default
        if not labels_path.is_file():
            raise FileNotFoundError(
                f"{path} needs a labels CSV keyed by {id_column!r}: {labels_path} does not exist "
                "(give it with --labels)"
            )
    return _format_source(
        path, fmt, list(targets), id_column, cif_column, labels_path, structure_file
    )


def _format_source(
    path: Path,
    fmt: str,
    targets: list[str],
    id_column: str,
    cif_column: str,
    labels: Path | None,
    structure_file: str = "",
) -> Source:
    """The source of ``path`` read as ``fmt`` (a folder or zip without ``labels``: unlabelled)."""
    if fmt in ("cif_folder", "cif_zip"):
        return CifArchiveSource(
            path, labels, targets=targets, id_column=id_column, structure_file=structure_file
        )
    if fmt == "cif_csv":
        return CifColumnCsvSource(path, targets, id_column=id_column, cif_column=cif_column)
    if fmt == "json":
        return JsonRecordsSource(path, targets, id_column=id_column, cif_column=cif_column)
    return AseSource(path, targets, id_column=id_column)


def unlabelled_entries(
    path: str | Path, *, id_column: str = "id", cif_column: str = "cif", structure_file: str = ""
) -> Iterator[RawEntry]:
    """Every structure of a file of many structures, its labels not read (for prediction).

    Args:
        path: A file in one of :data:`FORMATS` (a zip of structure files needs no labels
            CSV here).
        id_column: Id column or key (records without it are named by their origin).
        cif_column: Column or field of CIF text (CSV, JSON).
        structure_file: For a zip of calculation folders: the structure file's name
            inside each (``CONTCAR``); entries are named by folder. Ignored for
            other formats.

    Returns:
        The entries, in file order (a zip's in the order of the sorted member names).

    Raises:
        FileNotFoundError: If the path does not exist.
        ValueError: For a folder, a file of no known format, or a file its format's
            reader cannot read (not JSON, a CSV without the CIF column, ...);
            raised when the entries are iterated.
    """
    path = Path(path)
    fmt = detect_format(path)
    if fmt == "cif_folder":
        raise ValueError(f"{path} is a folder, not a file of structures")
    zip_folders = structure_file if fmt == "cif_zip" else ""
    return _format_source(path, fmt, [], id_column, cif_column, None, zip_folders).iter_entries()
