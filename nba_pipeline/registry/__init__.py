"""Versioned model storage (store), its command line (cli), the promotion rules (rules) and a
model's way into production (release: train a candidate, judge it, promote it).

A version folder is data: loading it never runs code from it (no pickles, no names imported from
its metadata, ``torch.load(weights_only=True)``)."""

from nba_pipeline.registry.store import LoadedModel, ModelRegistry, RegistryError

__all__ = ["LoadedModel", "ModelRegistry", "RegistryError"]
