"""The two backends: each registers its constructors and its trainers in the registry."""
