"""CSV export of statistics rows: a header row of the field names, then one row per item (RFC 4180, UTF-8)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel

CSV_MEDIA_TYPE = "text/csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Format = Annotated[
    Literal["json", "csv"] | None,
    Query(
        alias="format",
        description="`csv` for a CSV file (as does `Accept: text/csv` when `format` is left out); JSON otherwise.",
    ),
]


def csv_responses(example: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entry documenting the CSV form of a 200 answer."""
    return {
        200: {
            "description": "The statistics as JSON, or as CSV with `format=csv` or `Accept: text/csv`.",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}, "example": example}},
        }
    }


def wants_csv(request: Request, fmt: Format = None) -> bool:
    """Whether the answer is CSV: `format=csv`, or `Accept: text/csv` when `format` is left out."""
    if fmt is not None:
        return fmt == "csv"
    return CSV_MEDIA_TYPE in request.headers.get("accept", "").lower()


WantsCsv = Annotated[bool, Depends(wants_csv)]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # a spreadsheet must not read a node's name as a formula
    return value


def csv_response(
    model: type[BaseModel], rows: Sequence[BaseModel], filename: str, headers: Mapping[str, str] | None = None
) -> Response:
    columns = list(model.model_fields)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        data = row.model_dump(mode="json")
        writer.writerow([_cell(data[c]) for c in columns])
    return Response(
        out.getvalue(),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )
