"""vttwins.evaluation (being built)."""
