"""JSON for the store's JSON columns and blobs, through orjson.

Story centroids and article vectors (a hundred or more words with their weights each) are
written for every article, and the standard library's encoder was a tenth of the writer's time
(issue #15). orjson writes the same JSON values several times faster. It differs from
``json.dumps`` only where the standard one would fail or write what is not JSON: it encodes
datetimes, writes NaN as null, and, with ``OPT_NON_STR_KEYS``, turns non-string keys into
strings as ``json.dumps`` does.
"""

from __future__ import annotations

from typing import Any

import orjson

loads = orjson.loads


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def rows_json(rows: list[dict[str, Any]]) -> str:
    """Rows for PostgreSQL's ``json_to_recordset``: a datetime without a zone is UTC, as the
    store's datetimes are (:func:`monitor.store.tables.utcnow`)."""
    return orjson.dumps(rows, option=orjson.OPT_NAIVE_UTC).decode()
