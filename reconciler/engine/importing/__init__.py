"""importing stage of the engine."""
