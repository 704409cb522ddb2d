"""Importance-coefficient analysis of trained models."""
