"""The interchange format "sdgscore.projects/1" (METHODOLOGY.md §6): validation, import, export."""

FORMAT = "sdgscore.projects/1"
