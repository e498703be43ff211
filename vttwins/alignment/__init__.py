"""vttwins.alignment (being built)."""
