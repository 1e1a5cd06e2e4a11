"""CSV form of an analytics answer (the API's `?format=csv` and the CLI's `--format csv`).

One rule flattens all four answers, with columns fixed by the answer's shape (`reports.analytics.answers`), so a
spreadsheet gets the same header whatever the data:
- each list of objects becomes rows, one per object, with the objects' fields as columns;
- scalar fields are repeated as columns on every row (an answer without lists is one row of its scalars);
- when an answer has several lists (cost-breakdown), a first column `section` names the list of each row and
  the columns are the union of the lists' fields (a cell is empty where a row's list lacks the field);
- null is an empty cell; numbers are written as in the JSON;
- a text cell that a spreadsheet would run as a formula (it starts with =, +, -, @, tab or carriage return:
  names and ids come from the org directory and the raw events, which anyone can write) gets a leading
  apostrophe, the OWASP rule against CSV injection.
"""

from __future__ import annotations

import csv
import io
import json
import typing
from typing import Any

from pydantic import BaseModel


def answer_columns(shape: type[BaseModel]) -> list[str]:
    scalars, lists = _fields(shape)
    columns = ["section"] if len(lists) > 1 else []
    for item_shape in lists.values():
        columns += [name for name in item_shape.model_fields if name not in columns]
    return columns + [name for name in scalars if name not in columns]


def answer_rows(answer: dict[str, Any], shape: type[BaseModel]) -> list[list[Any]]:
    scalars, lists = _fields(shape)
    columns = answer_columns(shape)
    common = {name: answer[name] for name in scalars}
    if not lists:
        return [[common[column] for column in columns]]
    rows = []
    for section in lists:
        for item in answer[section]:
            record = {**common, **item, "section": section}
            rows.append([record.get(column) for column in columns])
    return rows


def answer_csv(answer: dict[str, Any], shape: type[BaseModel]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(answer_columns(shape))
    writer.writerows([[_cell(value) for value in row] for row in answer_rows(answer, shape)])
    return buffer.getvalue()


def _fields(shape: type[BaseModel]) -> tuple[list[str], dict[str, type[BaseModel]]]:
    """The shape's scalar field names, and its list fields with the shape of their items."""
    scalars, lists = [], {}
    for name, info in shape.model_fields.items():
        if typing.get_origin(info.annotation) is list:
            lists[name] = typing.get_args(info.annotation)[0]
        else:
            scalars.append(name)
    return scalars, lists


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    return json.dumps(value)
