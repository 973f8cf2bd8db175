"""exporting stage of the engine."""
