"""Figures the notebooks show (seaborn / matplotlib); each function returns its figure."""
