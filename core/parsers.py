"""The API's JSON parser (its own module: DRF imports it while loading its settings, so it imports nothing of ours
that imports DRF's settings back)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from core.text import unstorable


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, plus: bodies nested deeper than MAX_DEPTH, strings with NUL or lone surrogates (which no
    text column can store) and bodies Python's decoder chokes on are a clean 400, never a 500."""

    MAX_DEPTH = 32

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
        self._check(data, 0)
        return data

    def _check(self, value, depth: int) -> None:
        if depth > self.MAX_DEPTH:
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {self.MAX_DEPTH} levels.")
        if isinstance(value, str):
            if unstorable(value):
                raise exceptions.ParseError("Text may not contain NUL characters or lone surrogates.")
        elif isinstance(value, dict):
            for key, item in value.items():
                self._check(key, depth + 1)
                self._check(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                self._check(item, depth + 1)
