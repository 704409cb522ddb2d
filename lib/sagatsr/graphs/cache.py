"""On-disk graph cache keyed by structure content hash and featurizer version.

One SQLite file holds the graphs; a key combines the structure fingerprint,
:func:`sagatsr.graphs.arrays.featurizer_key`, the installed pymatgen version
(neighbour lists and element data come from pymatgen) and a digest of the code
and tables that build a graph (:data:`GRAPH_SOURCES`), so a new featurizer
version, new neighbour settings, another pymatgen, an edited featurizer (even one
whose version was not bumped) or an edited structure miss the cache and are rebuilt.
Writes happen in transactions: an interrupted run leaves no half-written entry.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pickle
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from sagatsr.graphs.arrays import GraphArrays

#: The installed pymatgen, part of every cache key.
PYMATGEN_VERSION = importlib.metadata.version("pymatgen")

#: What decides a graph's arrays besides the structure and the neighbour settings, as
#: paths under the package: the graph builder, the neighbour search, the featurizer
#: and its element tables, the site roles and their oxidation-state statistics.
#: A cache that outlives an edit of one of them without a featurizer version bump
#: serves graphs that a fresh build no longer gives (the likeliest reason why the
#: quick pipeline's OQMD runs moved when a fresh machine built their graphs anew).
GRAPH_SOURCES: tuple[str, ...] = (
    "graphs/arrays.py",
    "graphs/config.py",
    "graphs/neighbors.py",
    "features",
    "data/roles.py",
    "data/tables",
)


def source_digest(package_root: str | os.PathLike[str]) -> str:
    """SHA-256 over the files of :data:`GRAPH_SOURCES` (relative paths and contents).

    Args:
        package_root: The ``sagatsr`` package folder.

    Returns:
        Hex digest; it changes when any of those files is edited, added or removed.

    Raises:
        FileNotFoundError: If one of :data:`GRAPH_SOURCES` is missing.
    """
    root = Path(package_root)
    digest = hashlib.sha256()
    for source in GRAPH_SOURCES:
        path = root / source
        if not path.exists():
            raise FileNotFoundError(f"graph source {path} is missing")
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.relative_to(root).as_posix().encode() + b"\0")
                digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


#: :func:`source_digest` of the installed package, part of every cache key.
SOURCE_DIGEST = source_digest(Path(__file__).resolve().parents[1])


def cache_key(fingerprint: str, featurizer: str) -> str:
    """Combine a structure fingerprint, a featurizer key, pymatgen and the graph sources.

    Args:
        fingerprint: :func:`sagatsr.graphs.arrays.structure_fingerprint`.
        featurizer: :func:`sagatsr.graphs.arrays.featurizer_key`.

    Returns:
        Hex SHA-256 digest of both, the pymatgen version and :data:`SOURCE_DIGEST`.
    """
    text = f"{featurizer}\npymatgen-{PYMATGEN_VERSION}\nsources-{SOURCE_DIGEST}\n{fingerprint}"
    return hashlib.sha256(text.encode()).hexdigest()


class GraphCache:
    """A persistent ``key -> GraphArrays`` store in one SQLite file.

    Args:
        path: The database file; its folder is created when missing.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(self.path)
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS graphs ("
            "key TEXT PRIMARY KEY, featurizer TEXT NOT NULL, payload BLOB NOT NULL)"
        )
        self._connection.commit()

    def close(self) -> None:
        """Close the database connection."""
        self._connection.close()

    def __enter__(self) -> GraphCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __len__(self) -> int:
        (count,) = self._connection.execute("SELECT COUNT(*) FROM graphs").fetchone()
        return int(count)

    def get_many(self, keys: Sequence[str]) -> dict[str, GraphArrays]:
        """Look up several keys.

        Args:
            keys: Cache keys.

        Returns:
            The cached graphs of the keys that were found.
        """
        found: dict[str, GraphArrays] = {}
        batch = 500  # stay below SQLite's bound-parameter limit
        for start in range(0, len(keys), batch):
            chunk = list(keys[start : start + batch])
            marks = ",".join("?" * len(chunk))
            rows = self._connection.execute(
                f"SELECT key, payload FROM graphs WHERE key IN ({marks})", chunk
            )
            for key, payload in rows:
                found[key] = GraphArrays(**pickle.loads(payload))
        return found

    def put_many(self, items: Iterable[tuple[str, str, GraphArrays]]) -> None:
        """Store graphs in one transaction.

        Args:
            items: ``(key, featurizer_key, arrays)`` triples.
        """
        rows = [
            (key, featurizer, pickle.dumps(arrays.__dict__, protocol=pickle.HIGHEST_PROTOCOL))
            for key, featurizer, arrays in items
        ]
        with self._connection:
            self._connection.executemany(
                "INSERT OR REPLACE INTO graphs (key, featurizer, payload) VALUES (?, ?, ?)", rows
            )

    def prune(self, keep_featurizer: str) -> int:
        """Delete entries built by any other featurizer version or settings.

        Args:
            keep_featurizer: The featurizer key whose entries stay.

        Returns:
            The number of deleted entries.
        """
        with self._connection:
            cursor = self._connection.execute(
                "DELETE FROM graphs WHERE featurizer != ?", (keep_featurizer,)
            )
        return int(cursor.rowcount)
