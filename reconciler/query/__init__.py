"""Read-only questions asked of the state: search a connector space or the metaverse, follow one object
through the system. Nothing here writes to the state or to a connected system."""
