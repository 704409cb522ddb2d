"""A model's training domain: what its training structures covered, and a check of new ones.

A network answers for any graph, but it has learnt only from structures like its
training ones. The domain records, from the training graphs, the elements, the
range of site counts, the share of structures that passed the perovskite rules
and the range of every global feature. A structure is outside it when it

* holds an element that no training structure held;
* has fewer or more sites than every training structure (an energy per cell of
  a 14-site cell from a model of 5-site cells is not comparable);
* fails the perovskite rules while at least :data:`PEROVSKITE_SHARE` of the
  training structures passed them;
* has a global feature outside the training range by more than
  :data:`RANGE_MARGIN` of the range's width (and more than round-off,
  :data:`ROUND_OFF`), or a feature that was never defined in training (``nan``
  throughout) defined.

How well this separates structures of a model's kind from others is measured by
``sagatsr benchmark training_domain`` (:mod:`sagatsr.bench.training_domain`;
README, "Training domain"). This module imports neither torch nor PyTorch Geometric.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymatgen.core import Element

from sagatsr.graphs.arrays import GraphArrays

#: Share of the range's width a feature may lie beyond the training range.
RANGE_MARGIN = 0.05
#: Allowance for round-off, relative to a feature's magnitude and at least this much in its
#: unit: a standard deviation of equal bond lengths is 0 in training and 1e-15 angstrom in a
#: new structure, which is the same thing.
ROUND_OFF = 1e-6
#: Training share of perovskites from which a structure failing the rules is flagged.
PEROVSKITE_SHARE = 0.99
#: Features named in a message (those furthest outside, in range widths).
NAMED_FEATURES = 3
#: The rules of the check, in the order their sentences are given.
RULES = ("elements", "sites", "perovskite", "features")


def _symbol(z: int) -> str:
    return Element.from_Z(int(z)).symbol


@dataclass(frozen=True)
class TrainingDomain:
    """What the training structures of a model covered.

    Attributes:
        elements: Atomic numbers present in the training structures, sorted.
        min_sites: Fewest sites of a training structure.
        max_sites: Most sites of a training structure.
        perovskite_share: Share of training structures that passed the perovskite rules.
        feature_low: ``(F_global,)`` smallest training value of each global
            feature (``nan`` where it was never defined).
        feature_high: ``(F_global,)`` largest training value of each global feature.
    """

    elements: tuple[int, ...]
    min_sites: int
    max_sites: int
    perovskite_share: float
    feature_low: np.ndarray
    feature_high: np.ndarray

    @classmethod
    def of_graphs(cls, graphs: Sequence[GraphArrays]) -> TrainingDomain:
        """The domain of some training graphs.

        Raises:
            ValueError: If ``graphs`` is empty.
        """
        if not graphs:
            raise ValueError("a training domain needs at least one graph")
        features = np.stack([g.global_features for g in graphs]).astype(np.float64)
        defined = np.isfinite(features)
        with np.errstate(invalid="ignore"):
            low = np.where(defined, features, np.inf).min(axis=0)
            high = np.where(defined, features, -np.inf).max(axis=0)
        never = ~defined.any(axis=0)
        low[never], high[never] = np.nan, np.nan
        sites = [int(g.atomic_numbers.shape[0]) for g in graphs]
        elements = np.unique(np.concatenate([g.atomic_numbers for g in graphs]))
        return cls(
            elements=tuple(int(z) for z in elements),
            min_sites=min(sites),
            max_sites=max(sites),
            perovskite_share=float(np.mean([g.is_perovskite for g in graphs])),
            feature_low=low,
            feature_high=high,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (element symbols; ``None`` for undefined feature bounds)."""

        def bounds(values: np.ndarray) -> list[float | None]:
            return [float(v) if math.isfinite(v) else None for v in values]

        return {
            "elements": [_symbol(z) for z in self.elements],
            "sites": [self.min_sites, self.max_sites],
            "perovskite_share": self.perovskite_share,
            "feature_low": bounds(self.feature_low),
            "feature_high": bounds(self.feature_high),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingDomain:
        """Inverse of :meth:`to_dict`."""

        def bounds(key: str) -> np.ndarray:
            return np.array([math.nan if v is None else v for v in values[key]], dtype=np.float64)

        return cls(
            elements=tuple(sorted(Element(symbol).Z for symbol in values["elements"])),
            min_sites=int(values["sites"][0]),
            max_sites=int(values["sites"][1]),
            perovskite_share=float(values["perovskite_share"]),
            feature_low=bounds("feature_low"),
            feature_high=bounds("feature_high"),
        )

    def outside(self, graph: GraphArrays, feature_names: Sequence[str]) -> list[str]:
        """Why ``graph`` lies outside the domain (empty when it lies inside).

        Args:
            graph: The structure's graph arrays.
            feature_names: Names of the ``F_global`` global features, in order
                (numbered instead when the count differs).

        Returns:
            One sentence per rule that the structure breaks (module docstring),
            in the order of :data:`RULES`.

        Raises:
            ValueError: If the graph has another number of global features than the domain.
        """
        return list(self.broken_rules(graph, feature_names).values())

    def broken_rules(self, graph: GraphArrays, feature_names: Sequence[str]) -> dict[str, str]:
        """:meth:`outside`'s sentences keyed by the rule (a name of :data:`RULES`)."""
        values = np.asarray(graph.global_features, dtype=np.float64)
        if values.shape != self.feature_low.shape:
            raise ValueError(
                f"{values.size} global features against a training domain of "
                f"{self.feature_low.size}"
            )
        if len(feature_names) != values.size:  # a model saved without feature names
            feature_names = [f"global feature {i}" for i in range(values.size)]
        broken = {}
        unseen = sorted(set(int(z) for z in graph.atomic_numbers) - set(self.elements))
        if unseen:
            broken["elements"] = "element(s) absent from the training structures: " + ", ".join(
                _symbol(z) for z in unseen
            )
        sites = int(graph.atomic_numbers.shape[0])
        if not self.min_sites <= sites <= self.max_sites:
            span = (
                f"{self.min_sites}"
                if self.min_sites == self.max_sites
                else f"{self.min_sites} to {self.max_sites}"
            )
            broken["sites"] = f"{sites} sites; the training structures had {span}"
        if not graph.is_perovskite and self.perovskite_share >= PEROVSKITE_SHARE:
            broken["perovskite"] = (
                "not a perovskite by the role rules, while "
                f"{100 * self.perovskite_share:.0f} % of the training structures were"
            )
        excess = self.feature_excess(values)
        flagged = np.flatnonzero(excess > 0)
        if flagged.size:
            worst = flagged[np.argsort(-excess[flagged], kind="stable")][:NAMED_FEATURES]
            named = ", ".join(self._describe(int(i), values[i], feature_names) for i in worst)
            broken["features"] = (
                f"{flagged.size} global feature(s) outside the training range, e.g. {named}"
            )
        return broken

    def feature_excess(self, values: np.ndarray, margin: float = RANGE_MARGIN) -> np.ndarray:
        """How far each global feature lies beyond the training range plus ``margin``.

        Args:
            values: ``(F_global,)`` raw global features of one structure.
            margin: Allowance beyond each end, as a share of the range's width
                (plus :data:`ROUND_OFF`).

        Returns:
            ``(F_global,)`` distances in range widths (in the feature's unit when the
            training range has no width); 0 inside or for an undefined value,
            ``inf`` for a value of a feature never defined in training.
        """
        width = self.feature_high - self.feature_low
        scale = np.where(width > 0, width, 1.0)
        magnitude = np.fmax(np.abs(self.feature_low), np.abs(self.feature_high))
        slack = margin * width + ROUND_OFF * (1.0 + magnitude)
        with np.errstate(invalid="ignore"):
            below = (self.feature_low - slack - values) / scale
            above = (values - self.feature_high - slack) / scale
        excess = np.fmax(below, above)
        excess = np.where(np.isfinite(values) & np.isfinite(excess), excess, 0.0)
        never = ~np.isfinite(self.feature_low) & np.isfinite(values)
        return np.where(never, np.inf, np.maximum(excess, 0.0))

    def _describe(self, index: int, value: float, names: Sequence[str]) -> str:
        low, high = self.feature_low[index], self.feature_high[index]
        if not math.isfinite(low):
            return f"{names[index]} = {value:.4g} (never defined in training)"
        return f"{names[index]} = {value:.4g} (training {low:.4g} to {high:.4g})"
