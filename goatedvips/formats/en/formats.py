"""Dates as the whole product writes them (UTC, 24-hour, day month year): "30 Nov 2026, 14:05". Django's English
default ("Nov. 30, 2026, 2:05 p.m.") is twice as wide and pushed admin changelists past a 1280 px screen."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
