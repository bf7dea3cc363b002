"""The one error a user's file or options can cause in an import: a one-line message naming the file (and row/field)."""


class ImportFileError(Exception):
    """An export file or an import option that cannot be used (unknown format, bad mapping, unreadable file)."""
