"""Periodic neighbour lists with a neighbour cap, tie handling and shell indices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.core import Structure

from sagatsr.graphs.config import NeighborConfig

__all__ = [
    "NeighborConfig",
    "NeighborList",
    "neighbor_list",
    "raw_neighbor_list",
    "select_neighbors",
]

#: Two atoms closer than this (angstrom) overlap: no crystal holds them (H2's bond is 0.74).
MIN_ATOM_DISTANCE = 0.5


@dataclass(frozen=True)
class NeighborList:
    """Directed neighbour pairs of one structure, sorted by centre then distance.

    Attributes:
        centers: ``(E,)`` int64 index of the centre site of each pair.
        neighbors: ``(E,)`` int64 index of the neighbour site.
        images: ``(E, 3)`` float64 lattice translation of the neighbour image.
        distances: ``(E,)`` float64 distance in angstrom.
        shells: ``(E,)`` int64 neighbour-shell index per centre (0 = nearest).
    """

    centers: np.ndarray
    neighbors: np.ndarray
    images: np.ndarray
    distances: np.ndarray
    shells: np.ndarray


def raw_neighbor_list(
    structure: Structure, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All periodic neighbour pairs within ``cutoff`` (pymatgen's cell-list search).

    Args:
        structure: Ordered structure with ``n`` sites.
        cutoff: Radius in angstrom.

    Returns:
        ``(centers, neighbors, images, distances)`` as returned by
        :meth:`pymatgen.core.Structure.get_neighbor_list`; ``(E,)``, ``(E,)``,
        ``(E, 3)`` and ``(E,)`` arrays.
    """
    centers, neighbors, images, distances = structure.get_neighbor_list(cutoff)
    return (
        np.asarray(centers, dtype=np.int64),
        np.asarray(neighbors, dtype=np.int64),
        np.asarray(images, dtype=np.float64).reshape(-1, 3),
        np.asarray(distances, dtype=np.float64),
    )


def select_neighbors(
    n_sites: int,
    raw: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    config: NeighborConfig,
) -> NeighborList:
    """Cap each site's neighbours at ``max_neighbors`` (ties kept) and index shells.

    Args:
        n_sites: Number of sites ``n``.
        raw: ``(centers, neighbors, images, distances)`` from
            :func:`raw_neighbor_list`.
        config: Selection rules.

    Returns:
        The selected pairs, sorted by centre, then distance.

    Raises:
        ValueError: If some site has no neighbour within the cutoff (the graph
            would have an isolated atom), or two atoms are closer than
            :data:`MIN_ATOM_DISTANCE`; the message names the sites.
    """
    centers, neighbors, images, distances = raw
    # Sort by centre, then distance; ties broken by neighbour index and image so
    # the order is reproducible (it does not affect which pairs are kept).
    order = np.lexsort((images[:, 2], images[:, 1], images[:, 0], neighbors, distances, centers))
    centers, neighbors, images, distances = (
        centers[order],
        neighbors[order],
        images[order],
        distances[order],
    )
    counts = np.bincount(centers, minlength=n_sites)
    if (counts == 0).any():
        lonely = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(
            f"site {lonely} has no neighbour within {config.cutoff} angstrom; increase the cutoff"
        )
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    if distances[starts].min() < MIN_ATOM_DISTANCE:
        pair = int(starts[np.argmin(distances[starts])])
        raise ValueError(
            f"sites {int(centers[pair])} and {int(neighbors[pair])} are "
            f"{distances[pair]:.3f} angstrom apart: overlapping atoms"
        )

    # New shell wherever the distance jumps by more than the tolerance.
    gap = np.diff(distances, prepend=-np.inf) > config.tie_tolerance
    gap[starts] = True
    shell_start = np.cumsum(gap) - 1  # global shell id
    first_shell_of_center = shell_start[starts]
    shells = shell_start - first_shell_of_center[centers]

    # Keep every pair whose shell is not beyond the shell of the k-th nearest
    # neighbour: the k nearest plus anything tied with the k-th.
    kth = np.minimum(counts, config.max_neighbors) - 1
    kth_shell = shells[starts + kth]
    keep = shells <= kth_shell[centers]
    return NeighborList(
        centers=centers[keep],
        neighbors=neighbors[keep],
        images=images[keep],
        distances=distances[keep],
        shells=np.minimum(shells[keep], config.max_shells - 1),
    )


def neighbor_list(structure: Structure, config: NeighborConfig) -> NeighborList:
    """Selected periodic neighbours of ``structure``.

    Args:
        structure: Ordered structure.
        config: Selection rules.

    Returns:
        The capped, shell-indexed neighbour list.
    """
    return select_neighbors(len(structure), raw_neighbor_list(structure, config.cutoff), config)
