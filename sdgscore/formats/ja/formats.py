"""Japanese dates as Django writes them, with a space between the date and the time
(2026年12月4日 11:26, not 2026年12月4日11:26)."""

DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 G:i"
