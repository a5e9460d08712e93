"""The registry's two errors, apart so that every registry module (and its callers) can raise and
catch them without importing the store."""


class RegistryError(RuntimeError):
    """Any registry failure: unknown version, nothing promoted, bad input, failed save."""


class IntegrityError(RegistryError):
    """A stored file is missing or its content does not match the sha256 in metadata.json."""
