"""Reference data shipped in the package, and the loader that puts it in the database."""
