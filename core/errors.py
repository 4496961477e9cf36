"""Exceptions a user can act on. Their text is shown as-is, so it names the file, line or field."""


class FactdeckError(Exception):
    """An error caused by input or configuration that the user can fix."""


class DatasetError(FactdeckError):
    """The dataset file is missing, unreadable or not SimpleQA-shaped."""


class TemplateError(FactdeckError):
    """A prompt template is missing a placeholder or cannot be read."""


class BatchFileError(FactdeckError):
    """A batch input file breaks the provider's rules (custom_id, size, count)."""


class ConfigError(FactdeckError):
    """The config file cannot be parsed or holds a wrong value."""


class StoreError(FactdeckError):
    """The SQLite store could not be read or written."""
