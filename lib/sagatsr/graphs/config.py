"""How a crystal graph's neighbours are chosen: the one owner of those settings.

Kept free of heavy imports: the model's configuration and the command line read
its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NeighborConfig:
    """How neighbours are chosen.

    Attributes:
        cutoff: Search radius in angstrom. The SA-GAT-SR reference code uses
            12 angstrom with at most 12 neighbours; with the cap, any radius that
            reaches the 12th neighbour gives the same graph, so the default is a
            cheaper 8 angstrom.
        max_neighbors: Keep the ``max_neighbors`` nearest neighbours of every
            site, plus any neighbour tied with the last one kept (within
            ``tie_tolerance``), so the graph never depends on site order.
        tie_tolerance: Two distances closer than this (angstrom) are the same
            shell and count as tied.
        max_shells: Shell indices are capped at ``max_shells - 1``.
    """

    cutoff: float = 8.0
    max_neighbors: int = 12
    tie_tolerance: float = 0.02
    max_shells: int = 8

    def __post_init__(self) -> None:
        if self.cutoff <= 0:
            raise ValueError(f"cutoff must be positive, got {self.cutoff}")
        if self.max_neighbors < 1:
            raise ValueError(f"max_neighbors must be >= 1, got {self.max_neighbors}")
        if self.tie_tolerance < 0:
            raise ValueError(f"tie_tolerance must be >= 0, got {self.tie_tolerance}")
        if self.max_shells < 1:
            raise ValueError(f"max_shells must be >= 1, got {self.max_shells}")
