"""Dataset sources: they read bytes and yield :class:`~sagatsr.data.records.RawEntry`.

A source never parses or judges an entry: parsing CIF text, checking labels and
deciding what to skip is :mod:`sagatsr.data.validation`'s job, so every source
reports bad input the same way.

* :class:`CifArchiveSource`: a folder or a zip of ``<id>.cif`` files (or ``.cif.gz``, or
  VASP files ``<id>.vasp`` / ``<id>.poscar``, read through CIF text) plus a labels CSV
  keyed by id (the mirror's format, and the usual format of a user's own data).
* :class:`CifColumnCsvSource`: one CSV with a column of CIF text (MP-20).
* :class:`EntryListSource`: entries already in memory (downloads from
  matminer, jarvis-tools or OPTIMADE end up here).
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sagatsr.data.cif import DamagedFileError, cif_stem, decode_cif, structure_to_cif
from sagatsr.data.file_names import without_gz
from sagatsr.data.poscar import PoscarError, is_poscar_name, poscar_stem, read_poscar
from sagatsr.data.records import RawEntry


class Source(Protocol):
    """Anything that yields raw entries."""

    def describe(self) -> str:
        """Where the entries come from, for logs and manifests."""
        ...

    def iter_entries(self) -> Iterator[RawEntry]:
        """Yield every entry once, in the source's order."""
        ...


def read_utf8(path: Path) -> str:
    """The text of a (possibly gzipped) UTF-8 file, without a leading byte-order mark.

    Raises:
        ValueError: If the file is not UTF-8 (Excel's plain "CSV" is not), naming
            the file and the line of the first byte that is not.
    """
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{data[error.start]:02x}); save the "
            'file as UTF-8 (in Excel: "CSV UTF-8")'
        ) from None


def read_label_rows(path: Path, id_column: str) -> list[dict[str, str]]:
    """Read a labels CSV as raw strings (nothing converted, nothing dropped).

    Args:
        path: CSV file (``.csv`` or ``.csv.gz``) with a header row.
        id_column: Name of the id column.

    Returns:
        One dict per data row, column name to the cell text.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not UTF-8, is empty, has no ``id_column``, or a
            row has more fields than the header (an unquoted comma, such as a decimal comma,
            would otherwise shift or drop a value without a word).
    """
    if not path.is_file():
        raise FileNotFoundError(f"labels file {path} does not exist")
    csv.field_size_limit(1 << 30)  # CIF text columns are long
    with io.StringIO(read_utf8(path), newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise ValueError(f"labels file {path} is empty (no header row)")
        if id_column not in reader.fieldnames:
            raise ValueError(
                f"labels file {path} has no {id_column!r} column "
                f"(columns: {', '.join(reader.fieldnames)})"
            )
        rows = []
        for row in reader:
            if None in row:  # csv.DictReader's key for the fields beyond the header's
                raise ValueError(
                    f"labels file {path}, line {reader.line_num}: "
                    f"{len(reader.fieldnames) + len(row[None])} fields, the header has "
                    f"{len(reader.fieldnames)} (an unquoted comma in a value, such as a "
                    "decimal comma? quote the value or use a decimal point)"
                )
            rows.append(row)
        return rows


def check_columns(path: Path, rows: list[dict[str, str]], columns: Sequence[str]) -> None:
    """Raise when a needed column (a target, the CIF column) is not in a file's header.

    Raises:
        ValueError: Naming the file, the missing columns and the columns it has.
    """
    if not rows:
        return
    missing = [name for name in columns if name not in rows[0]]
    if missing:
        raise ValueError(
            f"{path} has no column {', '.join(repr(m) for m in missing)} "
            f"(columns: {', '.join(rows[0])})"
        )


def _split_row(
    row: dict[str, str], id_column: str, targets: Sequence[str], skip: Sequence[str] = ()
) -> tuple[dict[str, str | None], dict[str, str]]:
    labels = {name: row.get(name) for name in targets}
    metadata = {
        k: v for k, v in row.items() if k not in targets and k != id_column and k not in skip
    }
    return labels, metadata


def _members_by_id(path: Path, archive: zipfile.ZipFile) -> dict[str, str]:
    """``{id: member}`` of a zip's structure files, wherever in the zip they lie.

    The metadata macOS adds to zips it writes (``__MACOSX/``, ``._name.cif``) is
    not a structure and is left out.

    Raises:
        ValueError: If two structure files in different folders of the zip share a
            name (one id, two structures).
    """
    names = [
        name
        for name in archive.namelist()
        if not name.endswith("/") and "__MACOSX" not in Path(name).parts
    ]
    return _unique_ids(path, names)


def structure_stem(name: str) -> str | None:
    """The id of a structure file of a dataset folder or zip, from its name.

    Args:
        name: A file name (no folder).

    Returns:
        The id of a CIF file (:func:`~sagatsr.data.cif.cif_stem`) or of a VASP file
        named after its structure (:func:`~sagatsr.data.poscar.poscar_stem`), or
        ``None`` for any other file (the labels CSV, notes, ``POSCAR``).
    """
    return cif_stem(name) or poscar_stem(name)


def check_structure_file_name(name: str) -> str:
    """Check the name of the structure file inside each calculation folder.

    Args:
        name: A file name such as ``CONTCAR``, ``POSCAR``, ``final.vasp`` or
            ``relaxed.cif`` (``.gz`` allowed: both forms are then matched).

    Returns:
        The name without ``.gz``.

    Raises:
        ValueError: For a path, or a name that is no CIF or VASP file's.
    """
    if not name.strip() or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(
            f"--structure-file {name!r}: give the name of the file inside each calculation "
            "folder (CONTCAR, POSCAR, final.vasp, relaxed.cif), not a path"
        )
    base = without_gz(name)
    if cif_stem(base) is None and not is_poscar_name(base):
        raise ValueError(
            f"--structure-file {name!r} is not the name of a CIF or VASP file (CONTCAR, "
            "POSCAR*, CONTCAR*, *.vasp, *.poscar, *.cif)"
        )
    return base


def calculation_files(where: Path, names: Sequence[str], structure_file: str) -> dict[str, str]:
    """``{id: name}`` of the structure files of calculation folders, id = folder name.

    Args:
        where: The folder or zip (for messages).
        names: File paths (or zip member names) to pick from; those named
            ``structure_file`` or ``structure_file.gz`` inside a folder are kept.
        structure_file: The file name, without ``.gz`` (:func:`check_structure_file_name`).

    Raises:
        ValueError: If one folder gives two files (``CONTCAR`` and ``CONTCAR.gz``, or
            one folder name at two places in a zip).
    """
    members: dict[str, str] = {}
    for name in names:
        path = Path(name)
        if path.name not in (structure_file, f"{structure_file}.gz") or not path.parent.name:
            continue
        entry_id = path.parent.name
        if entry_id in members:
            raise ValueError(
                f"{where} holds two structures for id {entry_id!r}: {members[entry_id]} and {name}"
            )
        members[entry_id] = name
    return members


def calculation_folder_files(folder: Path, structure_file: str) -> dict[str, str]:
    """``{id: path}`` of ``<id>/<structure_file>`` (or ``.gz``) in a folder, id = subfolder name.

    Args:
        folder: A folder of calculation folders (searched one level deep).
        structure_file: The file name, without ``.gz`` (:func:`check_structure_file_name`).

    Returns:
        The existing files, sorted by subfolder; subfolders without the file are left out.

    Raises:
        ValueError: If a subfolder holds the file both plain and compressed.
    """
    found = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        for name in (structure_file, f"{structure_file}.gz"):
            if (sub / name).is_file():
                found.append(str(sub / name))
    return calculation_files(folder, found, structure_file)


def _unique_ids(where: Path, names: Sequence[str]) -> dict[str, str]:
    """``{id: name}`` of the structure files among ``names`` (:func:`structure_stem`).

    Raises:
        ValueError: If two files give one id (``x.cif`` and ``x.cif.gz`` or
            ``x.vasp``, or one name in two folders of a zip).
    """
    members: dict[str, str] = {}
    for name in names:
        stem = structure_stem(Path(name).name)
        if stem is None:
            continue
        if stem in members:
            raise ValueError(
                f"{where} holds two structures for id {stem!r}: {members[stem]} and {name}"
            )
        members[stem] = name
    return members


@dataclass
class CifArchiveSource:
    """Structure files in a folder or zip, labels in a CSV keyed by id.

    Entries come in the labels file's order; then every structure that has no
    label row (``labels=None``, reported by validation). A label row whose
    ``<id>.cif`` is absent gives an entry without CIF text (also reported). A VASP
    file is parsed here and handed on as CIF text (as every format but CIF is).

    Args:
        structures: A folder or a ``.zip`` of ``<id>.cif`` files (or ``<id>.cif.gz``,
            ``<id>.vasp``, ``<id>.poscar``, compressed or not; a damaged compressed
            file or an unreadable VASP file is reported as that entry's structure
            error).
        labels: The labels CSV (``.csv`` or ``.csv.gz``), or ``None`` for structures
            without labels (prediction).
        targets: Target column names.
        id_column: Id column of the labels CSV.
        structure_file: Instead of ``<id>.cif`` files: calculation folders
            ``<id>/<structure_file>`` (``CONTCAR``, ``POSCAR``, ``final.vasp``,
            ``relaxed.cif``; compressed or not), the id the folder's name, the
            folder's other files left alone. ``""``: files named by id.
    """

    structures: Path
    labels: Path | None
    targets: Sequence[str]
    id_column: str = "id"
    structure_file: str = ""

    def __post_init__(self) -> None:
        self.structures = Path(self.structures)
        self.labels = None if self.labels is None else Path(self.labels)
        if self.structure_file:
            self.structure_file = check_structure_file_name(self.structure_file)
        self._folders: set[str] = set()

    def describe(self) -> str:
        """Where the entries come from."""
        return f"{self.structures}" + ("" if self.labels is None else f" + {self.labels}")

    def _cif_names(self) -> tuple[dict[str, str], zipfile.ZipFile | None]:
        """``{id: member or file path}`` of every structure file and the open zip (if any)."""
        if self.structures.is_dir():
            entries = sorted(self.structures.iterdir())
            self._folders = {f.name for f in entries if f.is_dir()}
            if self.structure_file:
                return calculation_folder_files(self.structures, self.structure_file), None
            files = [str(f) for f in entries if f.is_file()]
            return _unique_ids(self.structures, files), None
        if self.structures.is_file():
            try:
                archive = zipfile.ZipFile(self.structures)
            except zipfile.BadZipFile as error:
                raise ValueError(f"{self.structures} is not a readable zip file: {error}") from None
            names = [n for n in archive.namelist() if "__MACOSX" not in Path(n).parts]
            self._folders = {p.name for n in names for p in Path(n).parents if p.name}
            if self.structure_file:
                files = [n for n in names if not n.endswith("/")]
                return calculation_files(self.structures, files, self.structure_file), archive
            return _members_by_id(self.structures, archive), archive
        raise FileNotFoundError(f"structures {self.structures} is neither a folder nor a zip file")

    def iter_entries(self) -> Iterator[RawEntry]:
        """Yield one entry per label row, then one per unlabeled structure.

        Without a labels file (``labels=None``, for prediction) every structure is
        an unlabeled entry, in the order of the sorted file or member names.
        """
        rows: list[dict[str, str]] = []
        if self.labels is not None:
            rows = read_label_rows(self.labels, self.id_column)
            check_columns(self.labels, rows, self.targets)
        members, archive = self._cif_names()
        try:
            seen: set[str] = set()
            for row in rows:
                entry_id = (row.get(self.id_column) or "").strip()
                labels, metadata = _split_row(row, self.id_column, self.targets)
                member = members.get(entry_id)
                seen.add(entry_id)
                text, error = self._read(member, archive) if member else (None, None)
                yield RawEntry(
                    id=entry_id,
                    origin=self._origin(member, entry_id),
                    cif_text=text,
                    structure_error=error,
                    labels=labels,
                    metadata=metadata,
                )
            for entry_id, member in members.items():
                if entry_id not in seen:
                    text, error = self._read(member, archive)
                    yield RawEntry(
                        id=entry_id,
                        origin=self._origin(member, entry_id),
                        cif_text=text,
                        structure_error=error,
                        labels=None,
                    )
        finally:
            if archive is not None:
                archive.close()

    def _origin(self, member: str | None, entry_id: str) -> str:
        if member is None:  # a label row without its structure
            table = self.labels.name if self.labels is not None else ""
            if self.structure_file:
                return (
                    f"{table} (id {entry_id}; no {entry_id}/{self.structure_file} in "
                    f"{self.structures})"
                )
            if entry_id in self._folders:
                return (
                    f"{table} (id {entry_id}; {entry_id} in {self.structures} is a folder: for "
                    "calculation folders give --structure-file with the name of the structure "
                    "file inside them, e.g. CONTCAR)"
                )
            if (self.structures / f"{entry_id}.cif").is_dir():
                return (
                    f"{table} (id {entry_id}; {entry_id}.cif in {self.structures} "
                    "is a folder, not a file)"
                )
            return (
                f"{table} (id {entry_id}; no {entry_id}.cif or {entry_id}.vasp in "
                f"{self.structures})"
            )
        if self.structure_file:
            return f"{self.structures.name}:{entry_id}/{Path(member).name}"
        return f"{self.structures.name}:{Path(member).name}"

    @staticmethod
    def _read(member: str, archive: zipfile.ZipFile | None) -> tuple[str | None, str | None]:
        """``(CIF text, None)``, or ``(None, reason)`` when there is no structure.

        No structure: a damaged compressed file, or a VASP file that cannot be read.
        """
        data = archive.read(member) if archive is not None else Path(member).read_bytes()
        try:
            text = decode_cif(data)
        except DamagedFileError as error:
            return None, str(error)
        if not is_poscar_name(Path(member).name):  # a CIF (relaxed.cif, x.cif.gz)
            return text, None
        try:
            return structure_to_cif(read_poscar(text)), None
        except PoscarError as error:
            return None, f"VASP file: {error}"


@dataclass
class CifColumnCsvSource:
    """A CSV (optionally gzipped) with one row per entry and a column of CIF text.

    Args:
        path: The CSV file.
        targets: Target column names.
        id_column: Id column.
        cif_column: Column holding the CIF text.
    """

    path: Path
    targets: Sequence[str]
    id_column: str = "id"
    cif_column: str = "cif"

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    def describe(self) -> str:
        """Where the entries come from."""
        return str(self.path)

    def iter_entries(self) -> Iterator[RawEntry]:
        """Yield one entry per row, in file order."""
        rows = read_label_rows(self.path, self.id_column)
        check_columns(self.path, rows, [self.cif_column, *self.targets])
        for number, row in enumerate(rows, start=1):
            entry_id = (row.get(self.id_column) or "").strip()
            labels, metadata = _split_row(row, self.id_column, self.targets, (self.cif_column,))
            yield RawEntry(
                id=entry_id,
                # A row of CIF text spans many lines: the row number, not a line number.
                origin=f"{self.path.name}:data row {number}",
                cif_text=row.get(self.cif_column) or "",
                labels=labels,
                metadata=metadata,
            )


@dataclass
class EntryListSource:
    """Entries already built in memory (e.g. converted from a download).

    Args:
        entries: The entries.
        description: Where they came from.
    """

    entries: Sequence[RawEntry]
    description: str = "in-memory entries"

    def describe(self) -> str:
        """Where the entries come from."""
        return self.description

    def iter_entries(self) -> Iterator[RawEntry]:
        """Yield the entries."""
        yield from self.entries
