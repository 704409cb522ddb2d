"""Dataset sources, validation, site roles, perovskite subsets and splits."""
