"""Symbolic regression: one estimator interface over the SISSO, Operon and PySR engines."""
