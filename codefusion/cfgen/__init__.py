"""Synthetic (request, table, rule) triples for the CF task; see generator.py and docs/cf_model.md."""
from .generator import KIND_WEIGHTS, generate

__all__ = ["KIND_WEIGHTS", "generate"]
