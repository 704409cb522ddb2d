"""Structure -> crystal graph arrays (NumPy only; :mod:`sagatsr.graphs.build` makes tensors).

The graph carries topology and raw physical inputs only (neighbour pairs,
distances, shell indices, per-site and per-structure feature blocks, role and
element ids). The model owns every learned transformation, including the radial
basis applied to distances. This module imports neither torch nor PyTorch
Geometric, so worker processes that build graphs start quickly and a command can
build graphs while the network's libraries load.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np
from pymatgen.core import Structure

from sagatsr.data.roles import SiteRoles, assign_roles
from sagatsr.features import FEATURIZER_VERSION, featurize
from sagatsr.graphs.neighbors import NeighborConfig, raw_neighbor_list, select_neighbors

#: Version of the graph layout; bump when the arrays or their meaning change.
GRAPH_VERSION = "1"


@dataclass(frozen=True)
class GraphArrays:
    """The numpy arrays of one crystal graph (what the cache stores).

    Attributes:
        node_features: ``(n, F_node)`` float32 raw per-site features (catalog order).
        global_features: ``(F_global,)`` float32 raw per-structure features.
        atomic_numbers: ``(n,)`` int64.
        roles: ``(n,)`` int64 site roles (0 = A, 1 = B, 2 = X).
        edge_index: ``(2, E)`` int64; row 0 the neighbour (message source),
            row 1 the centre (message target), PyG's ``source_to_target`` flow.
        edge_distance: ``(E,)`` float32 distances in angstrom.
        edge_shell: ``(E,)`` int64 neighbour-shell index of each pair.
        is_perovskite: Whether roles came from the perovskite rules.
    """

    node_features: np.ndarray
    global_features: np.ndarray
    atomic_numbers: np.ndarray
    roles: np.ndarray
    edge_index: np.ndarray
    edge_distance: np.ndarray
    edge_shell: np.ndarray
    is_perovskite: bool


def structure_fingerprint(structure: Structure) -> str:
    """Content hash of a structure: lattice, species and fractional coordinates.

    Values are rounded to 1e-6 (angstrom / fractional) so that a CIF round trip
    gives the same hash.

    Args:
        structure: Ordered structure.

    Returns:
        Hex SHA-256 digest.
    """
    digest = hashlib.sha256()
    digest.update(np.round(structure.lattice.matrix, 6).astype(np.float64).tobytes())
    digest.update(",".join(str(site.specie) for site in structure).encode())
    digest.update(np.round(np.mod(structure.frac_coords, 1.0), 6).astype(np.float64).tobytes())
    return digest.hexdigest()


def featurizer_key(config: NeighborConfig) -> str:
    """Identify everything that changes graph content apart from the structure.

    Args:
        config: Neighbour selection rules.

    Returns:
        A short string combining the featurizer version, graph layout version
        and neighbour settings; cache entries are keyed on it.
    """
    settings = ",".join(f"{k}={v}" for k, v in sorted(asdict(config).items()))
    return f"features-{FEATURIZER_VERSION}|graph-{GRAPH_VERSION}|{settings}"


def build_graph_arrays(
    structure: Structure,
    config: NeighborConfig,
    *,
    roles: SiteRoles | None = None,
) -> GraphArrays:
    """Featurize one structure.

    Args:
        structure: Ordered structure with ``n`` sites.
        config: Neighbour selection rules.
        roles: Precomputed site roles; assigned here when ``None``.

    Returns:
        The graph arrays.

    Raises:
        ValueError: If a site has no neighbour within the cutoff, or the
            structure is disordered.
        sagatsr.features.UnsupportedElementError: If an element has no feature data.
    """
    if roles is None:
        roles = assign_roles(structure)
    raw = raw_neighbor_list(structure, config.cutoff)
    selected = select_neighbors(len(structure), raw, config)
    node_features, global_features = featurize(structure, roles, neighbors=raw)
    return GraphArrays(
        node_features=node_features.astype(np.float32),
        global_features=global_features.astype(np.float32),
        atomic_numbers=np.fromiter((site.specie.Z for site in structure), np.int64, len(structure)),
        roles=np.asarray(roles.roles, dtype=np.int64),
        edge_index=np.stack([selected.neighbors, selected.centers]).astype(np.int64),
        edge_distance=selected.distances.astype(np.float32),
        edge_shell=selected.shells.astype(np.int64),
        is_perovskite=roles.is_perovskite,
    )
