"""Our SISSO: unit-aware feature space, sure independence screening and exhaustive L0 in torch."""
