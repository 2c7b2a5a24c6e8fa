"""The prize table editor in admin: one row per rank (its percent, and the money it wins from the pool, live),
a running total, no JSON to type. Posts back `<name>__pct_<rank>` fields, turned into the prize_distribution
mapping the model validates as before; a raw JSON value is still accepted (scripts, older forms)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.html import format_html, format_html_join

# A new table starts with MIN_ROWS empty ranks; a saved one shows its ranks only ("Add a rank" appends one).
MIN_ROWS = 5


class PrizeTableWidget(forms.Widget):
    class Media:
        js = ("js/admin-prize-table.js",)

    def _rows(self, value) -> list[tuple[int, str]]:
        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except ValueError:
                value = {}
        rows = []
        if isinstance(value, dict):
            for rank, pct in value.items():
                if str(rank).isdigit():
                    rows.append((int(rank), f"{pct}"))
        rows.sort()
        filled = len(rows)
        for rank in range(1, 0 if filled else MIN_ROWS + 1):
            rows.append((rank, ""))
        return rows

    def render(self, name, value, attrs=None, renderer=None):
        field_id = (attrs or {}).get("id") or self.attrs.get("id") or f"id_{name}"
        rows = format_html_join(
            "\n",
            '<tr><th scope="row">#{}</th><td><input type="number" name="{}__pct_{}" value="{}" min="0" max="100" '
            'step="any" inputmode="decimal" aria-label="Percent for rank {}" class="vTextField prize-pct"{}> %</td>'
            '<td class="prize-money"></td></tr>',
            (
                (rank, name, rank, pct, rank, format_html(' id="{}"', field_id) if i == 0 else "")
                for i, (rank, pct) in enumerate(self._rows(value))
            ),
        )
        return format_html(
            '<div class="prize-table-editor" data-name="{}"><table class="prize-table"><thead><tr>'
            '<th scope="col">Rank</th><th scope="col">Percent of the pool</th><th scope="col">Prize</th></tr></thead>'
            "<tbody>{}</tbody><tfoot><tr><th scope=\"row\">Total</th><td class=\"prize-total-pct\"></td>"
            '<td class="prize-total-money"></td></tr></tfoot></table>'
            '<p><button type="button" class="button prize-add-row">Add a rank</button> <span class="help">Leave a '
            "row empty to drop it. Ranks run 1, 2, 3 … with no gaps; the total is at most 100 %. Prizes are the "
            "pool × percent, rounded down to cents.</span></p></div>",
            name, rows,
        )  # fmt: skip

    def format_value(self, value):
        return value

    def value_from_datadict(self, data, files, name):
        prefix = f"{name}__pct_"
        cells = {key[len(prefix) :]: (data.get(key) or "").strip() for key in data if key.startswith(prefix)}
        if not cells:
            return data.get(name)  # a raw JSON mapping (or nothing)
        table = {}
        for rank, raw in cells.items():
            if not raw:
                continue
            try:
                number = Decimal(raw.replace(",", "."))
                table[rank] = int(number) if number == number.to_integral_value() else float(number)
            except (InvalidOperation, ValueError, OverflowError):
                table[rank] = raw  # the model's validator names the rank and says it is not a number
        return json.dumps(dict(sorted(table.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)))

    def value_omitted_from_data(self, data, files, name):
        return name not in data and not any(key.startswith(f"{name}__pct_") for key in data)
