"""On-disk graph cache keyed by structure content hash and featurizer version.

One SQLite file holds the graphs; a key combines the structure fingerprint,
:func:`sagatsr.graphs.arrays.featurizer_key` and the installed pymatgen version
(neighbour lists and element data come from pymatgen), so a new featurizer
version, new neighbour settings, another pymatgen or an edited structure miss
the cache and are rebuilt.
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


def cache_key(fingerprint: str, featurizer: str) -> str:
    """Combine a structure fingerprint, a featurizer key and the pymatgen version into a key.

    Args:
        fingerprint: :func:`sagatsr.graphs.arrays.structure_fingerprint`.
        featurizer: :func:`sagatsr.graphs.arrays.featurizer_key`.

    Returns:
        Hex SHA-256 digest.
    """
    text = f"{featurizer}\npymatgen-{PYMATGEN_VERSION}\n{fingerprint}"
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
