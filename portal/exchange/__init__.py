"""The billing center's data in: a documented file format (docs/exchange.md), validated and imported whole.

``fields`` parses and checks one value, ``kinds`` describes each file kind, ``reader`` streams files,
``repository`` holds the staging tables and the SQL that merges them, ``service`` runs an import.
"""

from portal.exchange.service import ImportReport, import_batch, import_paths

__all__ = ["ImportReport", "import_batch", "import_paths"]
