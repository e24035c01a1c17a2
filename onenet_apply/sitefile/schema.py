"""The published JSON Schema, compiled into fast checks with friendly messages.

`schemas/site.schema.json` is the one definition of the file format: editors use
it for completion, and `onenet validate` enforces it through this module. A
generic validator walks the schema for every value (about 0.1 ms a user with
jsonschema: a second or more on a large site); compiling it once into closures
costs microseconds a user, and lets messages speak the admin's language ("unknown
key `frist_name`, did you mean `first_name`?").

Only the keywords the site schema uses are supported; compiling a schema with any
other assertion keyword fails loudly, so the schema can never state a rule that
is silently not enforced. The test suite checks that jsonschema and this module
agree on every fixture.
"""

from __future__ import annotations

import json
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from onenet_apply.sitefile.hints import did_you_mean

Anchor = Literal["key", "value", "container"]

_ANNOTATIONS = {
    "$schema",
    "$id",
    "title",
    "description",
    "default",
    "examples",
    "$defs",
    "$comment",
}
_SUPPORTED = _ANNOTATIONS | {
    "type",
    "properties",
    "additionalProperties",
    "propertyNames",
    "required",
    "enum",
    "const",
    "pattern",
    "x-pattern-message",
    "x-enum-said",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "items",
    "uniqueItems",
    "$ref",
}


@dataclass(slots=True)
class Violation:
    """One schema rule broken. `reversed_path` grows as the violation bubbles up."""

    message: str
    anchor: Anchor = "value"
    hint: str | None = None
    expected_string: bool = False  # a non-string where a string belongs: suggest quotes
    missing: str | None = None  # the required key that is absent
    reversed_path: list[str | int] = field(default_factory=list)

    @property
    def path(self) -> tuple[str | int, ...]:
        return tuple(reversed(self.reversed_path))


Check = Callable[[Any], list[Violation] | None]


class SchemaCompileError(ValueError):
    pass


def describe(value: Any) -> str:
    """How YAML read a value, in words: `the number 145`, `true`, `a list`."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) in (int, float),
    "boolean": lambda v: type(v) is bool,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "null": lambda v: v is None,
}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "empty",
}


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: dict[str, Any] | bool) -> Check:
        if schema is True:
            return lambda value: None
        if schema is False:
            return lambda value: [Violation("no value is allowed here")]
        unknown = set(schema) - _SUPPORTED
        if unknown:
            raise SchemaCompileError(f"unsupported schema keywords: {sorted(unknown)}")
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self._ref(schema["$ref"]))
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            checks.append(self._object(schema))
        elif kind == "array":
            checks.append(self._array(schema))
        elif kind == "string":
            checks.append(self._string(schema))
        elif kind in ("integer", "number"):
            checks.append(self._number(schema))
        elif kind is not None:
            checks.append(self._type_only(kind))
        if "enum" in schema:
            checks.append(self._enum(schema["enum"], schema.get("x-enum-said")))
        if "const" in schema:
            const = schema["const"]
            checks.append(
                lambda v: (
                    None
                    if (v == const and type(v) is type(const))
                    else [Violation(f"must be {json.dumps(const)}, not {describe(v)}")]
                )
            )
        return _all_of(checks)

    def _ref(self, ref: str) -> Check:
        if not ref.startswith("#/$defs/"):
            raise SchemaCompileError(f"only local $defs references are supported: {ref}")
        name = ref.removeprefix("#/$defs/")
        if name not in self.refs:
            # a forward slot first, so recursive definitions terminate
            slot: list[Check] = []
            self.refs[name] = lambda v: slot[0](v)
            slot.append(self.compile(self.root["$defs"][name]))
            self.refs[name] = slot[0]
        return self.refs[name]

    def _type_only(self, kind: str) -> Check:
        test, word = _TYPE_TESTS[kind], _TYPE_WORDS[kind]
        return lambda v: None if test(v) else [Violation(f"must be {word}, not {describe(v)}")]

    def _string(self, schema: dict[str, Any]) -> Check:
        lo = schema.get("minLength", 0)
        hi = schema.get("maxLength")
        pattern = _full_match(schema["pattern"]) if "pattern" in schema else None
        pattern_message = schema.get("x-pattern-message") or (
            f"does not match the pattern {schema.get('pattern')}"
        )

        def check(v: Any) -> list[Violation] | None:
            if type(v) is not str:
                return [Violation(f"must be a string, not {describe(v)}", expected_string=True)]
            n = len(v)
            if n < lo:
                return [
                    Violation(
                        "must not be empty" if lo == 1 else f"must be at least {lo} characters long"
                    )
                ]
            if hi is not None and n > hi:
                return [Violation(f"is {n} characters long; at most {hi} are allowed")]
            if pattern is not None and pattern(v) is None:
                return [Violation(f"{pattern_message} (got {v!r})")]
            return None

        return check

    def _number(self, schema: dict[str, Any]) -> Check:
        kind = schema["type"]
        test, word = _TYPE_TESTS[kind], _TYPE_WORDS[kind]
        lo, hi = schema.get("minimum"), schema.get("maximum")

        def check(v: Any) -> list[Violation] | None:
            if not test(v):
                return [Violation(f"must be {word}, not {describe(v)}")]
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                return [Violation(_range_message(lo, hi, v))]
            return None

        return check

    def _enum(self, allowed: list[Any], said: list[Any] | None) -> Check:
        """`said` (x-enum-said): the values named and hinted; the others are still read
        (an earlier spelling) but never suggested."""
        allowed_set = frozenset(allowed)
        named = said or allowed
        listing = ", ".join(str(a) for a in named)

        def check(v: Any) -> list[Violation] | None:
            if isinstance(v, str | int | bool) and v in allowed_set:
                return None
            hint = did_you_mean(v, named) if isinstance(v, str) else None
            return [Violation(f"must be one of {listing}; not {describe(v)}", hint=hint)]

        return check

    def _array(self, schema: dict[str, Any]) -> Check:
        items = self.compile(schema["items"]) if "items" in schema else None
        unique = schema.get("uniqueItems", False)

        def check(v: Any) -> list[Violation] | None:
            if type(v) is not list:
                return [Violation(f"must be a list, not {describe(v)}")]
            out: list[Violation] | None = None
            if items is not None:
                for i, item in enumerate(v):
                    found = items(item)
                    if found:
                        out = _prefixed(out, found, i)
            if unique and len(v) > 1:
                seen: set[tuple[type, Any]] = set()
                for i, item in enumerate(v):
                    marker = (type(item), item)  # JSON: 1 and true are different items
                    try:
                        if marker in seen:
                            out = _prefixed(out, [Violation(f"`{item}` is listed twice")], i)
                        seen.add(marker)
                    except TypeError:  # unhashable items are reported by `items`
                        continue
            return out

        return check

    def _object(self, schema: dict[str, Any]) -> Check:
        properties = {name: self.compile(sub) for name, sub in schema.get("properties", {}).items()}
        known = sorted(properties)
        additional_schema = schema.get("additionalProperties", True)
        additional = None if additional_schema is False else self.compile(additional_schema)
        names = self.compile(schema["propertyNames"]) if "propertyNames" in schema else None
        required = tuple(schema.get("required", ()))

        def check(v: Any) -> list[Violation] | None:
            if type(v) is not dict:
                return [Violation(f"must be a mapping, not {describe(v)}")]
            out: list[Violation] | None = None
            for key, value in v.items():
                sub = properties.get(key)
                if sub is None:
                    if additional is None:
                        out = _prefixed(
                            out,
                            [
                                Violation(
                                    f"unknown key `{key}`",
                                    "key",
                                    did_you_mean(key, known) or f"allowed keys: {', '.join(known)}",
                                )
                            ],
                            key,
                        )
                        continue
                    sub = additional
                if names is not None:
                    bad_name = names(key)
                    if bad_name:
                        for violation in bad_name:
                            violation.anchor = "key"
                            violation.message = f"key `{key}` {violation.message}"
                        out = _prefixed(out, bad_name, key)
                found = sub(value)
                if found:
                    out = _prefixed(out, found, key)
            for name in required:
                if name not in v:
                    out = out or []
                    out.append(
                        Violation(f"missing required key `{name}`", "container", missing=name)
                    )
            return out

        return check


END = "$(?!\\n)"


def _full_match(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """A schema pattern as a whole-string match.

    Python's (and so jsonschema's) `$` also matches before a trailing newline, and
    ECMA-262 (editors) has no `\\Z`: so schema patterns are written `^...$(?!\\n)`,
    which means "the end of the text" in both dialects. Any other form fails to
    compile, so "anna\\n" can never pass as an id in one validator and not another.
    """
    if not (pattern.startswith("^") and pattern.endswith(END)):
        raise SchemaCompileError(f"patterns must be anchored as ^...{END}: {pattern}")
    return re.compile(pattern).fullmatch


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return lambda v: None
    if len(checks) == 1:
        return checks[0]

    def check(v: Any) -> list[Violation] | None:
        for c in checks:
            found = c(v)
            if found:  # the first failing facet is the most specific message
                return found
        return None

    return check


def _prefixed(
    out: list[Violation] | None, found: list[Violation], part: str | int
) -> list[Violation]:
    for violation in found:
        violation.reversed_path.append(part)
    if out is None:
        return found
    out.extend(found)
    return out


def _range_message(lo: Any, hi: Any, v: Any) -> str:
    if lo is not None and hi is not None:
        return f"must be between {lo} and {hi}, not {v}"
    if lo is not None:
        return f"must be at least {lo}, not {v}"
    return f"must be at most {hi}, not {v}"


def schema_text() -> str:
    data = pkgutil.get_data("onenet_apply", "data/site.schema.json")  # as default_catalogue
    assert data is not None
    return data.decode("utf-8")


@cache
def site_schema() -> dict[str, Any]:
    return json.loads(schema_text())


@cache
def site_checker() -> Check:
    """The compiled checker for the site schema (built once per process)."""
    return compile_schema(site_schema())


def sub_checker(fragment: dict[str, Any]) -> Check:
    """A compiled check of one fragment of the site schema; its $refs resolve in it."""
    return _Compiler(site_schema()).compile(fragment)


def compile_schema(schema: dict[str, Any]) -> Check:
    return _Compiler(schema).compile(schema)
