"""Structure files to crystal graphs for prediction: inputs expanded, parsed and featurized.

``sagatsr predict`` takes files, folders and glob patterns; :func:`expand_inputs`
turns them into one :class:`InputItem` per structure, or an error item for an input
that yields none. A file is a CIF file, or a VASP POSCAR/CONTCAR when its name says
so (:func:`sagatsr.data.poscar.is_poscar_name`); either may be gzip-compressed. A
file of many structures in a format of ``sagatsr prepare``
(:data:`sagatsr.data.user.FORMATS`) gives one item per record, with its CIF text
(:func:`sagatsr.data.user.unlabelled_entries`; labels are not read). A folder gives
its CIF (``*.cif``, ``*.cif.gz``) and POSCAR files. :class:`GraphReading` parses the
structures and builds their graphs (the graph builder of ``sagatsr prepare``) in
worker processes. Each structure is handled on its own: one that cannot be read,
parsed or featurized gets an error naming the reason.

This module imports neither torch nor PyTorch Geometric, so the reading can
start before the network's libraries load.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagatsr.data.cif import (
    DamagedFileError,
    SeveralStructuresError,
    cif_stem,
    decode_cif,
    read_cif,
)
from sagatsr.data.poscar import PoscarError, is_poscar_name, read_poscar
from sagatsr.data.records import reduced_formula, structure_problem
from sagatsr.data.sources import (
    calculation_folder_files,
    check_structure_file_name,
)
from sagatsr.data.user import table_format, unlabelled_entries
from sagatsr.graphs.arrays import GraphArrays, build_graph_arrays
from sagatsr.graphs.neighbors import NeighborConfig

_GLOB_CHARACTERS = set("*?[")


@dataclass(frozen=True)
class InputItem:
    """One structure to predict: a file, or a record of a file of many structures.

    Attributes:
        path: The file (as given, or as found in a folder or by a pattern).
        record: The record's id inside ``path`` (``""`` for a file of one structure).
        text: The record's CIF text; ``None`` for a file, which is read by the worker.
        error: Why the input yields no structure (``""`` when it does).
    """

    path: str
    record: str = ""
    text: str | None = None
    error: str = ""


def input_name(path: str, record: str) -> str:
    """``path``, or ``path[record]`` for a record of a file of many structures."""
    return f"{path}[{record}]" if record else path


def expand_inputs(
    inputs: Sequence[str | os.PathLike[str]],
    *,
    id_column: str = "id",
    cif_column: str = "cif",
    structure_file: str = "",
) -> list[InputItem]:
    """Structures to predict from files, folders and glob patterns, in order.

    Args:
        inputs: Paths of structure files (CIF, POSCAR), of files of many structures
            (the formats of ``sagatsr prepare``: a CSV or JSON with CIF text, extended
            XYZ, an ASE database, a zip of CIF or VASP files; every record, labels not read),
            folders (every CIF and POSCAR file inside, sorted; subfolders are not
            searched) or glob patterns (every match, sorted; ``**`` reaches any
            depth, as in ``'calcs/**/CONTCAR'``).
        id_column: Id column or key of the records of a file of many structures.
        cif_column: Column or field of their CIF text (CSV, JSON).
        structure_file: Folders and zips hold calculation folders instead: the file
            of this name (``CONTCAR``, ``.gz`` too) in each subfolder of a folder,
            or each folder of a zip, its record named by the folder.

    Returns:
        One item per structure, and one with ``error`` set for an input that yields
        none (a folder without structure files, a pattern that matches nothing, a
        missing path, an unreadable file of structures) or a record without a
        usable structure.
    """
    if structure_file:
        structure_file = check_structure_file_name(structure_file)
    out: list[InputItem] = []
    for raw in inputs:
        text = str(raw)
        path = Path(text)
        if path.is_dir() and structure_file:
            found = calculation_folder_files(path, structure_file)
            out.extend(InputItem(f) for f in found.values())
            if not found:
                out.append(
                    InputItem(text, error=f"is a folder with no subfolder holding {structure_file}")
                )
        elif path.is_dir():
            files = sorted(
                str(p) for p in path.iterdir() if p.is_file() and _structure_name(p.name)
            )
            out.extend(InputItem(f) for f in files)
            if not files:
                out.append(InputItem(text, error=_empty_folder_reason(path)))
        elif path.exists():
            out.extend(_file_items(text, id_column, cif_column, structure_file))
        elif _GLOB_CHARACTERS & set(text):
            matches = sorted(m for m in glob.glob(text, recursive=True) if Path(m).is_file())
            for match in matches:
                out.extend(_file_items(match, id_column, cif_column, structure_file))
            if not matches:
                out.append(InputItem(text, error="the pattern matches no file"))
        else:
            out.append(InputItem(text, error="no such file"))
    return out


def _file_items(
    path: str, id_column: str, cif_column: str, structure_file: str = ""
) -> list[InputItem]:
    """The item of a structure file, or one item per record of a file of many structures."""
    if table_format(path) is None:  # a file of one structure
        return [InputItem(path)]
    try:
        entries = list(
            unlabelled_entries(
                path, id_column=id_column, cif_column=cif_column, structure_file=structure_file
            )
        )
    except (OSError, ValueError) as error:
        return [InputItem(path, error=f"cannot read its structures ({error})")]
    if not entries:
        return [InputItem(path, error="holds no structures")]
    items = []
    for entry in entries:
        record = entry.id or entry.origin.split(":", 1)[-1]
        if entry.structure_error is not None:
            items.append(InputItem(path, record, error=entry.structure_error))
        elif not (entry.cif_text or "").strip():
            items.append(InputItem(path, record, error="no CIF text"))
        else:
            items.append(InputItem(path, record, text=entry.cif_text))
    return items


def _empty_folder_reason(folder: Path) -> str:
    """Why a folder given to predict yields nothing, with a pattern for one of subfolders."""
    reason = "is a folder with no CIF (.cif, .cif.gz) or POSCAR files"
    subfolders = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if subfolders:
        example = Path(folder, "*", "CONTCAR")
        reason += (
            f" (its {len(subfolders)} subfolders are not searched: for calculation folders "
            f"give --structure-file CONTCAR (the file's name in each), or a pattern such as "
            f"'{example}' or '{Path(folder, '**', '*.cif')}')"
        )
    return reason


def _structure_name(name: str) -> bool:
    """Whether a file in a folder given to predict is one of its structure files."""
    return cif_stem(name) is not None or is_poscar_name(name)


def _parse_item(item: InputItem) -> tuple[Any, str]:
    """``(structure, "")`` or ``(None, reason)`` for one CIF or POSCAR file or record."""
    if item.text is not None:
        text = item.text
    else:
        try:
            text = decode_cif(Path(item.path).read_bytes())
        except OSError as error:
            return None, f"cannot read the file ({error.strerror or error})"
        except DamagedFileError as error:
            return None, str(error)
    if not text.strip():
        return None, "empty file"
    poscar = item.text is None and is_poscar_name(Path(item.path).name)
    try:
        structure = read_poscar(text) if poscar else read_cif(text)
    except (SeveralStructuresError, PoscarError) as error:
        return None, str(error)
    except Exception as error:  # pymatgen raises anything from ValueError to ZeroDivisionError
        return None, f"truncated or unparsable CIF ({type(error).__name__}: {error})"
    problem = structure_problem(structure)
    if problem is not None:
        return None, problem[1]
    return structure, ""


@dataclass
class FileGraph:
    """One structure file read and turned into a graph.

    Attributes:
        formula: Reduced formula (``""`` when the file could not be parsed).
        graph: The graph arrays (``None`` when ``error`` is set).
        error: Why the file cannot be predicted (``""`` on success).
    """

    formula: str = ""
    graph: GraphArrays | None = None
    error: str = ""


def read_item(item: InputItem, neighbors: NeighborConfig) -> FileGraph:
    """Parse one structure and build its graph (the builder of ``sagatsr prepare``)."""
    structure, error = _parse_item(item)
    if error:
        return FileGraph(error=error)
    formula = reduced_formula(structure)
    try:
        graph = build_graph_arrays(structure, neighbors)
    except Exception as error:  # reported per file, never swallowed
        return FileGraph(formula, error=f"cannot build its graph ({type(error).__name__}: {error})")
    return FileGraph(formula, graph)


def _read_chunk(items: list[InputItem], neighbors: NeighborConfig) -> list[FileGraph]:
    return [read_item(item, neighbors) for item in items]


class GraphReading:
    """Structure files being parsed and turned into graphs, started now and collected later.

    With ``workers > 1`` (and at least 64 files) worker processes start at once
    and each parses and featurizes whole chunks of files, sending back only the
    graph arrays, so no structure object crosses a process boundary. Started
    before torch is imported, the workers read files while the caller loads the
    network (``sagatsr predict`` does this). Otherwise the files are read in
    this process by :meth:`result`.

    Args:
        items: The structures (files to read, or records with their CIF text).
        neighbors: The model's graph settings.
        workers: Worker processes.
    """

    def __init__(
        self, items: Sequence[InputItem], neighbors: NeighborConfig, *, workers: int = 1
    ) -> None:
        self._items = list(items)
        self._neighbors = neighbors
        self._pool: ProcessPoolExecutor | None = None
        self._chunks: list[Future[list[FileGraph]]] = []
        if workers > 1 and len(self._items) >= 64:
            # Chunks of 16-64 files: enough to amortise a round trip, small enough that
            # the workers finish together and that cancel() leaves little running.
            size = min(64, max(16, len(self._items) // (4 * workers)))
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(workers, mp_context=context)
            self._chunks = [
                self._pool.submit(_read_chunk, self._items[i : i + size], neighbors)
                for i in range(0, len(self._items), size)
            ]

    def result(self) -> list[FileGraph]:
        """One :class:`FileGraph` per item, in order (waits for the workers)."""
        if self._pool is None:
            return _read_chunk(self._items, self._neighbors)
        try:
            return [entry for chunk in self._chunks for entry in chunk.result()]
        finally:
            self._pool.shutdown()

    def cancel(self) -> None:
        """Stop reading: chunks not started are dropped, the workers end after their current one.

        For a caller that will not ask for :meth:`result` (its model failed to
        load); without it the workers would read every file before the process exits.
        Returns once the workers have ended (a chunk takes a fraction of a second):
        a pool left shutting down in the background could race the interpreter's
        exit hook, which then printed ``OSError: Bad file descriptor`` after the
        caller's own error message.
        """
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def read_files(
    paths: Sequence[str], neighbors: NeighborConfig, *, workers: int = 1
) -> list[FileGraph]:
    """Parse structure files and build their graphs (see :class:`GraphReading`).

    Returns:
        One :class:`FileGraph` per path, in order.
    """
    return GraphReading([InputItem(path) for path in paths], neighbors, workers=workers).result()


class PendingFiles:
    """Inputs expanded into structures, and those being read (:class:`GraphReading`).

    Args:
        inputs: Structure files, files of many structures, folders or glob patterns
            (:func:`expand_inputs`).
        neighbors: The model's graph settings.
        workers: Worker processes that read the structures.
        id_column: Id column or key of the records of a file of many structures.
        cif_column: Column or field of their CIF text.
        structure_file: The structure file's name in calculation folders
            (:func:`expand_inputs`).

    Attributes:
        neighbors: The graph settings the structures are read with.
        items: One :class:`InputItem` per structure (and per input that yields
            none), in order.
    """

    def __init__(
        self,
        inputs: Sequence[str | os.PathLike[str]],
        neighbors: NeighborConfig,
        *,
        workers: int = 1,
        id_column: str = "id",
        cif_column: str = "cif",
        structure_file: str = "",
    ) -> None:
        self.neighbors = neighbors
        self.items = expand_inputs(
            inputs, id_column=id_column, cif_column=cif_column, structure_file=structure_file
        )
        self._reading = GraphReading(
            [item for item in self.items if not item.error], neighbors, workers=workers
        )

    @classmethod
    def for_model(
        cls,
        model_folder: str | os.PathLike[str],
        inputs: Sequence[str | os.PathLike[str]],
        *,
        workers: int = 1,
        id_column: str = "id",
        cif_column: str = "cif",
        structure_file: str = "",
    ) -> PendingFiles:
        """Start reading with the graph settings of a model, run or ensemble folder.

        Only the model's configuration is read (no torch import), so the files
        are read while the caller loads the network.

        Raises:
            FileNotFoundError: If the folder holds no saved model or ensemble.
        """
        from sagatsr.model.persistence import read_model_config
        from sagatsr.train.ensemble import model_dir_of

        config, _ = read_model_config(model_dir_of(model_folder))
        return cls(
            inputs,
            config.neighbors,
            workers=workers,
            id_column=id_column,
            cif_column=cif_column,
            structure_file=structure_file,
        )

    def reads(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` is one of the files the structures are read from."""
        target = Path(path)
        if not target.exists():
            return False
        return any(
            Path(item.path).exists() and Path(item.path).samefile(target) for item in self.items
        )

    def cancel(self) -> None:
        """Stop reading the files (see :meth:`GraphReading.cancel`)."""
        self._reading.cancel()

    def read(self) -> list[tuple[InputItem, FileGraph | None]]:
        """``(item, graph)`` per item; ``graph`` is ``None`` for an item with an error."""
        read = iter(self._reading.result())
        return [(item, None if item.error else next(read)) for item in self.items]
