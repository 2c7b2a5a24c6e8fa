"""Pagination and strict query-parameter parsing (kept free of schema imports: DRF loads it at startup)."""

from rest_framework import exceptions, pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 25
    max_limit = 100

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return parse_bounded_int(raw, "limit", 1, self.max_limit)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        return parse_bounded_int(raw, "offset", 0, 10_000_000)

    def get_schema_operation_parameters(self, view):
        # Publish the bounds we enforce, so clients (and the API fuzzer) know what a valid request is.
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.limit_query_param:
                param["schema"].update({"minimum": 1, "maximum": self.max_limit, "default": self.default_limit})
            elif param["name"] == self.offset_query_param:
                param["schema"].update({"minimum": 0, "maximum": 10_000_000, "default": 0})
        return params


def parse_bounded_int(raw: str, name: str, low: int, high: int) -> int:
    """Parse a query parameter strictly: garbage is a 400 naming the allowed range, never silently clamped."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high:
        raise exceptions.ValidationError({name: [f"Must be a whole number from {low} to {high}."]})
    return value
