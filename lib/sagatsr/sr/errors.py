"""Exceptions raised by the symbolic-regression estimators."""

from __future__ import annotations


class NotFittedError(RuntimeError):
    """An estimator method that needs a fitted model was called before ``fit``."""


class EngineUnavailableError(RuntimeError):
    """The requested symbolic-regression engine cannot be started on this machine."""
