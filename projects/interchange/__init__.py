"""The interchange format "sdgscore.projects/1" (docs/interchange.md): validation, import, export."""

FORMAT = "sdgscore.projects/1"
