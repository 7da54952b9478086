"""Backups of an instance (database and media), restores, and the move from SQLite to PostgreSQL.

The database travels as portable rows, one JSON-lines file per table, read through the models of
the schema the database is actually at, so the same backup restores into SQLite or PostgreSQL.
"""
