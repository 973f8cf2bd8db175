"""sync stage of the engine."""
