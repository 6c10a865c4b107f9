"""The JSON Schema of a rule file, for editors (yaml-language-server) and `rules schema`."""

from __future__ import annotations

from typing import Any

from monitor.detect.rules.model import FIELDS, SEVERITIES
from monitor.detect.rules.parse import DEFAULT_NEAR

_NAME = {"type": "string", "description": "The name of a term list (from terms: or uses:)."}
_NAMES = {"type": "array", "items": _NAME}
_FIELDS = {
    "description": "Where to look: title, text or source (default: title and text).",
    "oneOf": [
        {"enum": list(FIELDS)},
        {"type": "array", "items": {"enum": list(FIELDS)}, "minItems": 1},
    ],
}
_PHRASES = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "string", "minLength": 1},
    "description": "Phrases, matched case-insensitively on whole words; a final * is a prefix.",
}


def rule_schema() -> dict[str, Any]:
    clause_list = {"$ref": "#/$defs/clause"}  # one clause, or a list of them
    clause_map = {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "all": {**clause_list, "description": "Every clause holds."},
            "any": {**clause_list, "description": "At least one clause holds."},
            "none": {**clause_list, "description": "No clause holds."},
            "at_least": {"type": "integer", "minimum": 1, "description": "With of: N clauses."},
            "of": clause_list,
            "near": {
                **_NAMES,
                "minItems": 2,
                "maxItems": 2,
                "description": "Two term lists within `within` words of each other.",
            },
            "within": {"type": "integer", "minimum": 0, "default": DEFAULT_NEAR},
            "same_sentence": {
                **_NAMES,
                "minItems": 2,
                "description": "Term lists found in one sentence.",
            },
            "regex": {"type": "string", "description": "Escape hatch: a Python regex."},
            "term": _NAME,
            "phrase": {
                "oneOf": [{"type": "string"}, _PHRASES],
                "description": "Phrases written in place.",
            },
            "in": _FIELDS,
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sanctions-monitor rule",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "title", "match"],
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$"},
            "title": {"type": "string"},
            "severity": {"enum": list(SEVERITIES), "default": "medium"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "description": {"type": "string"},
            "uses": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Lexicon files, relative to the rules folder.",
            },
            "terms": {"type": "object", "additionalProperties": _PHRASES},
            "match": {"$ref": "#/$defs/clause"},
            "examples": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "match": {"type": "array", "items": {"type": "string"}},
                    "no_match": {"type": "array", "items": {"type": "string"}},
                },
            },
            "labels": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Labels that routes can select on.",
            },
            "enabled": {"type": "boolean", "default": True},
            "references": {"type": "array", "items": {"type": "string"}},
        },
        "$defs": {
            "clause": {
                "oneOf": [_NAME, {"type": "array", "items": {"$ref": "#/$defs/clause"}}, clause_map]
            }
        },
    }
