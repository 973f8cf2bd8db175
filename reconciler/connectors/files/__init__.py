"""File connectors: CSV, LDIF and JSON files as connected systems.

Each reads its whole file at every import and rewrites it atomically on export (see
``file_connector`` for the rules they share, and each format's module for its own).
The classes are registered through the ``reconciler.connectors`` entry points.
"""
