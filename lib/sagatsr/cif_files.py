"""Structure files to crystal graphs for prediction: inputs expanded, parsed and featurized.

``sagatsr predict`` takes files, folders and glob patterns; :func:`expand_inputs`
turns them into files, or into an error entry for an input that yields none. A
file is a CIF file, or a VASP POSCAR/CONTCAR when its name says so
(:func:`sagatsr.data.poscar.is_poscar_name`); either may be gzip-compressed. A
folder gives its CIF (``*.cif``, ``*.cif.gz``) and POSCAR files. :class:`GraphReading`
parses the files and builds their graphs (the graph builder of ``sagatsr prepare``) in
worker processes.
Each file is handled on its own: one that cannot be read, parsed or featurized
gets an error naming the reason.

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
from sagatsr.data.user import FORMATS
from sagatsr.graphs.arrays import GraphArrays, build_graph_arrays
from sagatsr.graphs.neighbors import NeighborConfig

_GLOB_CHARACTERS = set("*?[")

#: Files of many structures that `sagatsr prepare` reads (its user formats) and predict does not.
_DATASET_SUFFIXES = tuple(suffix for suffixes in FORMATS.values() for suffix in suffixes)
_TABLE_MESSAGE = (
    "is a {suffix} file of structures: predict reads CIF and POSCAR files (one structure "
    "each); prepare a table with `sagatsr prepare PATH --name NAME --target COLUMN`"
)


def expand_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[tuple[str, str]]:
    """Files to predict from files, folders and glob patterns, in order.

    Args:
        inputs: Paths of structure files, folders (every CIF and POSCAR file
            inside, sorted) or glob patterns (every match, sorted).

    Returns:
        ``(path, error)`` pairs: ``error`` is ``""`` for a file to read, else why
        the input yields no file (a folder without structure files, a pattern that
        matches nothing, a missing path).
    """
    out: list[tuple[str, str]] = []
    for raw in inputs:
        text = str(raw)
        path = Path(text)
        if path.is_dir():
            files = sorted(
                str(p) for p in path.iterdir() if p.is_file() and _structure_name(p.name)
            )
            out.extend((f, "") for f in files)
            if not files:
                out.append((text, "is a folder with no CIF (.cif, .cif.gz) or POSCAR files"))
        elif path.exists() and path.name.lower().endswith(_DATASET_SUFFIXES):
            suffix = next(s for s in _DATASET_SUFFIXES if path.name.lower().endswith(s))
            out.append((text, _TABLE_MESSAGE.format(suffix=suffix)))
        elif path.exists():
            out.append((text, ""))
        elif _GLOB_CHARACTERS & set(text):
            matches = sorted(m for m in glob.glob(text) if Path(m).is_file())
            out.extend((m, "") for m in matches)
            if not matches:
                out.append((text, "the pattern matches no file"))
        else:
            out.append((text, "no such file"))
    return out


def _structure_name(name: str) -> bool:
    """Whether a file in a folder given to predict is one of its structure files."""
    return cif_stem(name) is not None or is_poscar_name(name)


def _parse_file(path: str) -> tuple[Any, str]:
    """``(structure, "")`` or ``(None, reason)`` for one CIF or POSCAR file."""
    try:
        text = decode_cif(Path(path).read_bytes())
    except OSError as error:
        return None, f"cannot read the file ({error.strerror or error})"
    except DamagedFileError as error:
        return None, str(error)
    if not text.strip():
        return None, "empty file"
    try:
        structure = read_poscar(text) if is_poscar_name(Path(path).name) else read_cif(text)
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


def read_file(path: str, neighbors: NeighborConfig) -> FileGraph:
    """Parse one structure file and build its graph (the builder of ``sagatsr prepare``)."""
    structure, error = _parse_file(path)
    if error:
        return FileGraph(error=error)
    formula = reduced_formula(structure)
    try:
        graph = build_graph_arrays(structure, neighbors)
    except Exception as error:  # reported per file, never swallowed
        return FileGraph(formula, error=f"cannot build its graph ({type(error).__name__}: {error})")
    return FileGraph(formula, graph)


def _read_chunk(paths: list[str], neighbors: NeighborConfig) -> list[FileGraph]:
    return [read_file(path, neighbors) for path in paths]


class GraphReading:
    """Structure files being parsed and turned into graphs, started now and collected later.

    With ``workers > 1`` (and at least 64 files) worker processes start at once
    and each parses and featurizes whole chunks of files, sending back only the
    graph arrays, so no structure object crosses a process boundary. Started
    before torch is imported, the workers read files while the caller loads the
    network (``sagatsr predict`` does this). Otherwise the files are read in
    this process by :meth:`result`.

    Args:
        paths: CIF or POSCAR files.
        neighbors: The model's graph settings.
        workers: Worker processes.
    """

    def __init__(
        self, paths: Sequence[str], neighbors: NeighborConfig, *, workers: int = 1
    ) -> None:
        self._paths = list(paths)
        self._neighbors = neighbors
        self._pool: ProcessPoolExecutor | None = None
        self._chunks: list[Future[list[FileGraph]]] = []
        if workers > 1 and len(self._paths) >= 64:
            # Chunks of 16-64 files: enough to amortise a round trip, small enough that
            # the workers finish together and that cancel() leaves little running.
            size = min(64, max(16, len(self._paths) // (4 * workers)))
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(workers, mp_context=context)
            self._chunks = [
                self._pool.submit(_read_chunk, self._paths[i : i + size], neighbors)
                for i in range(0, len(self._paths), size)
            ]

    def result(self) -> list[FileGraph]:
        """One :class:`FileGraph` per path, in order (waits for the workers)."""
        if self._pool is None:
            return _read_chunk(self._paths, self._neighbors)
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
    return GraphReading(paths, neighbors, workers=workers).result()


class PendingFiles:
    """Inputs expanded into files, and those files being read (:class:`GraphReading`).

    Args:
        inputs: CIF or POSCAR files, folders of them or glob patterns.
        neighbors: The model's graph settings.
        workers: Worker processes that read the files.

    Attributes:
        neighbors: The graph settings the files are read with.
        entries: ``(path, error)`` per file (and per input that yields none), in
            order; ``error`` is ``""`` for a file being read.
    """

    def __init__(
        self,
        inputs: Sequence[str | os.PathLike[str]],
        neighbors: NeighborConfig,
        *,
        workers: int = 1,
    ) -> None:
        self.neighbors = neighbors
        self.entries = expand_inputs(inputs)
        self._reading = GraphReading(
            [path for path, error in self.entries if not error], neighbors, workers=workers
        )

    @classmethod
    def for_model(
        cls,
        model_folder: str | os.PathLike[str],
        inputs: Sequence[str | os.PathLike[str]],
        *,
        workers: int = 1,
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
        return cls(inputs, config.neighbors, workers=workers)

    def cancel(self) -> None:
        """Stop reading the files (see :meth:`GraphReading.cancel`)."""
        self._reading.cancel()

    def read(self) -> list[tuple[str, str, FileGraph | None]]:
        """``(path, error, graph)`` per entry; ``graph`` is ``None`` for an input error."""
        read = iter(self._reading.result())
        return [(path, error, None if error else next(read)) for path, error in self.entries]
