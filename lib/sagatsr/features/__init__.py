"""Physical features of crystals: the named catalog and pure functions computing it.

Public API::

    from sagatsr.features import NODE_FEATURES, GLOBAL_FEATURES, featurize

    node, glob = featurize(structure, roles)   # (n, F_node), (F_global,)

``FEATURIZER_VERSION`` changes whenever a feature's definition or the shipped
elemental tables change; graph caches and saved models are keyed on it.
"""

from sagatsr.features.catalog import (
    GLOBAL_FEATURES,
    HEADLINE_FEATURES,
    NODE_FEATURES,
    FeatureSpec,
    catalog_frame,
    feature_specs,
    format_catalog_table,
    spec_by_name,
)
from sagatsr.features.compute import (
    UnsupportedElementError,
    featurize,
    global_feature_vector,
    node_feature_matrix,
    unsupported_elements,
)

#: Version of the feature definitions and tables (bump on any change; the
#: tables' SHA-256 is pinned in tests/features/test_elements.py).
FEATURIZER_VERSION = "1.0"

__all__ = [
    "FEATURIZER_VERSION",
    "GLOBAL_FEATURES",
    "HEADLINE_FEATURES",
    "NODE_FEATURES",
    "FeatureSpec",
    "UnsupportedElementError",
    "catalog_frame",
    "feature_specs",
    "featurize",
    "format_catalog_table",
    "global_feature_vector",
    "node_feature_matrix",
    "spec_by_name",
    "unsupported_elements",
]
