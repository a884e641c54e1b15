"""Domain logic: pure Python on models, given its repositories and clients."""
