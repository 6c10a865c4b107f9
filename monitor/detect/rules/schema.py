"""The JSON Schema of a rule file, for editors (yaml-language-server) and ``monitor rules schema``.

It is generated from the models that validate rule files (:mod:`monitor.detect.rules.format`),
so the two cannot disagree about the format. What a schema cannot say (a term list name that
is not defined, a regex that does not compile) is left to ``monitor rules validate``.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from monitor.detect.rules.format import RuleDoc

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Generator(GenerateJsonSchema):
    """Pydantic's generator without what only adds noise for authors: a title per field made
    from its name, and ``default: null`` for keys that are simply optional."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> dict[str, Any]:
        out = super().default_schema(schema)
        if out.get("default", ...) is None:
            del out["default"]
        return out


def rule_schema() -> dict[str, Any]:
    schema = RuleDoc.model_json_schema(schema_generator=_Generator)
    head = {"$schema": DIALECT, "title": "sanctions-monitor rule"}
    return head | {
        key: value for key, value in schema.items() if key not in ("title", "description")
    }
