"""Exceptions raised by the symbolic-regression estimators."""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as SklearnNotFittedError


class NotFittedError(RuntimeError, SklearnNotFittedError):
    """An estimator method that needs a fitted model was called before ``fit``.

    Also scikit-learn's ``NotFittedError``, so scikit-learn's tools recognise it.
    """


class EngineUnavailableError(RuntimeError):
    """The requested symbolic-regression engine cannot be started on this machine."""
