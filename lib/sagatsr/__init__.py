"""SA-GAT-SR: self-adaptable graph attention networks with symbolic regression.

The package is organised as a one-way chain of sub-packages::

    data -> features -> graphs -> model -> train -> interpret -> sr -> bench

Importing :mod:`sagatsr` does no work: heavy dependencies (torch, pymatgen,
pysr) are imported by the sub-modules that need them.
"""

__version__ = "0.1.0"
