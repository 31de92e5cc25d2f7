"""runner: TOML experiment specs trained identically on mininet and torch.nn, and compared."""
