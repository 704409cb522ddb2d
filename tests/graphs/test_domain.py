"""The training domain of a model and the check of new structures against it."""

import json
from dataclasses import replace

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sagatsr.features import GLOBAL_FEATURES
from sagatsr.graphs.arrays import build_graph_arrays
from sagatsr.graphs.domain import TrainingDomain
from sagatsr.graphs.neighbors import NeighborConfig
from tests.data.test_roles import cubic_perovskite
from tests.support.datasets import GOOD

NAMES = [spec.name for spec in GLOBAL_FEATURES]
OXIDES = ["p-1", "p-2", "p-4", "p-5"]  # SrTiO3, BaZrO3, KNbO3, LaAlO3


def graph(structure: Structure):
    return build_graph_arrays(structure, NeighborConfig())


@pytest.fixture(scope="module")
def oxides():
    graphs = [graph(GOOD[name]) for name in OXIDES]
    return graphs, TrainingDomain.of_graphs(graphs)


def test_the_training_structures_lie_inside_and_the_domain_survives_json(oxides) -> None:
    graphs, domain = oxides
    assert [domain.outside(g, NAMES) for g in graphs] == [[], [], [], []]
    assert (domain.min_sites, domain.max_sites, domain.perovskite_share) == (5, 5, 1.0)
    stored = domain.to_dict()
    assert stored["elements"] == ["O", "Al", "K", "Ti", "Sr", "Zr", "Nb", "Ba", "La"]
    again = TrainingDomain.from_dict(json.loads(json.dumps(stored)))
    assert again.elements == domain.elements and again.to_dict() == stored
    assert np.array_equal(again.feature_low, domain.feature_low, equal_nan=True)
    with pytest.raises(ValueError, match="at least one graph"):
        TrainingDomain.of_graphs([])


def test_each_rule_names_what_lies_outside(oxides) -> None:
    _, domain = oxides
    halide = domain.outside(graph(GOOD["p-6"]), NAMES)  # CsPbI3
    assert halide[0] == "element(s) absent from the training structures: I, Cs, Pb"
    assert len(halide) == 2 and "global feature(s) outside the training range" in halide[1]
    supercell = GOOD["p-1"].copy()
    supercell.make_supercell([2, 1, 1])
    doubled = domain.outside(graph(supercell), NAMES)  # the cell's own features move too
    assert doubled[0] == "10 sites; the training structures had 5"
    assert "lattice_c = 7.81 (training 3.79 to 4.19), n_sites = 10 (training 5 to 5)" in doubled[1]
    rock_salt = Structure(Lattice.cubic(5.16), ["Sr", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    reasons = domain.outside(graph(rock_salt), NAMES)
    assert reasons[:2] == [
        "2 sites; the training structures had 5",
        "not a perovskite by the role rules, while 100 % of the training structures were",
    ]
    strained = domain.outside(graph(cubic_perovskite("Sr", "Ti", ["O"] * 3, a=4.6)), NAMES)
    assert len(strained) == 1 and strained[0].startswith("13 global feature(s) outside the")
    # named furthest first, in widths of the training range
    assert (
        "e.g. packing_fraction = 0.4902 (training 0.7707 to 0.9389), volume_per_atom" in strained[0]
    )


def test_a_feature_never_defined_in_training_counts_when_defined(oxides) -> None:
    graphs, domain = oxides
    index = NAMES.index("tolerance_factor")
    low = domain.feature_low.copy()
    low[index] = np.nan
    high = domain.feature_high.copy()
    high[index] = np.nan
    blind = replace(domain, feature_low=low, feature_high=high)
    (reason,) = blind.outside(graphs[0], NAMES)
    assert reason.startswith("1 global feature(s) outside the training range, e.g. ")
    assert "tolerance_factor" in reason and "(never defined in training)" in reason
    # numbered names when a model was saved without them; a wrong count is an error
    assert "global feature" in blind.outside(graphs[0], [])[0]
    with pytest.raises(ValueError, match="global features against a training domain"):
        blind.outside(replace(graphs[0], global_features=graphs[0].global_features[:3]), NAMES)


def test_within_the_margin_is_inside(oxides) -> None:
    graphs, domain = oxides
    index = NAMES.index("lattice_a")
    width = domain.feature_high[index] - domain.feature_low[index]
    values = graphs[0].global_features.copy()
    values[index] = domain.feature_high[index] + 0.04 * width
    assert domain.outside(replace(graphs[0], global_features=values), NAMES) == []
    values[index] = domain.feature_high[index] + 0.06 * width
    assert len(domain.outside(replace(graphs[0], global_features=values), NAMES)) == 1
