"""vttwins.models (being built)."""
