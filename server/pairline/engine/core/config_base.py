"""What the settings sections of config.py are built on: rules, camelCase keys, structuring.

A field's rules (a range, a pattern, the keys a map may have) sit in its metadata, so the one
declaration serves both the check made when a section is built and the JSON Schema that
`schema.py` emits for editors and docs. String options are `Literal`s, checked by cattrs.

Structuring turns plain dicts (editor JSON or TOML) into sections and describes every fault with
the setting's TOML name, so the caller can show it to the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, get_args, get_origin

if TYPE_CHECKING:
    import cattrs


class SettingError(ValueError):
    """A value out of its range or otherwise unusable; the message names the setting."""


class Rule(Protocol):
    """A check on one field's value, which can also say itself in JSON Schema keywords."""

    def check(self, where: str, value: Any) -> None: ...

    def schema(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Range:
    """Within low..high (high may be open), or above 0 when `positive`."""

    low: float | None = None
    high: float | None = None
    positive: bool = False

    def check(self, where: str, value: float) -> None:
        if self.positive and not value > 0:
            raise SettingError(f"{where} must be positive, got {value}")
        if self.low is not None and self.high is not None:
            if not self.low <= value <= self.high:
                raise SettingError(f"{where} must be within {self.low}..{self.high}, got {value}")
        elif self.low is not None and value < self.low:
            raise SettingError(f"{where} must be >= {self.low}, got {value}")

    def schema(self) -> dict[str, Any]:
        keywords: dict[str, Any] = {"exclusiveMinimum": 0} if self.positive else {}
        if self.low is not None:
            keywords["minimum"] = self.low
        if self.low is not None and self.high is not None:
            keywords["maximum"] = self.high
        return keywords


@dataclass(frozen=True)
class Pattern:
    """A string in which `regex` is found; `rule` says it in words ("must not be empty")."""

    regex: str
    rule: str

    def check(self, where: str, value: str) -> None:
        if not re.search(self.regex, value):
            raise SettingError(f"{where} {self.rule}, got {value!r}")

    def schema(self) -> dict[str, Any]:
        return {"pattern": self.regex, "patternErrorMessage": self.rule.capitalize()}


@dataclass(frozen=True)
class Keys:
    """A map whose keys are among `choices` (e.g. the code actions)."""

    choices: tuple[str, ...]
    noun: str

    def check(self, where: str, value: Mapping[str, Any]) -> None:
        for key in value:
            if key not in self.choices:
                raise SettingError(f"{where}: unknown {self.noun} {key!r}")

    def schema(self) -> dict[str, Any]:
        return {"propertyNames": {"enum": list(self.choices)}}


def rules(*checks: Rule) -> dict[str, tuple[Rule, ...]]:
    """Field metadata carrying `checks`."""
    return {"rules": checks}


def ranged(
    default: float, low: float | None = None, high: float | None = None, *, positive: bool = False
) -> Any:
    """A field that must lie within low..high (high may be open) or, if `positive`, above 0."""
    return field(default=default, metadata=rules(Range(low, high, positive)))


def field_rules(each: Any) -> tuple[Rule, ...]:
    """The rules of a dataclass field."""
    found: tuple[Rule, ...] = each.metadata.get("rules", ())
    return found


@dataclass(kw_only=True)
class Section:
    """A settings section (`[section]` in TOML); the rules of its fields are checked when built."""

    section: ClassVar[str]

    def __post_init__(self) -> None:
        for each in fields(self):
            for rule in field_rules(each):
                rule.check(f"{self.section}.{each.name}", getattr(self, each.name))


# --- Structuring ------------------------------------------------------------------------------


def camel_case(name: str) -> str:
    """`n_gpu_layers` -> `nGpuLayers`: how editors spell a setting."""
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _section_hook(converter: cattrs.Converter, cls: type[Section]) -> Callable[[Any, Any], Section]:
    """Structure `cls` from a mapping, each field under its camelCase key or its own name.

    Only the section's own fields are renamed, so the keys of its maps (language ids, action
    names) stay as written.
    """
    from cattrs.gen import make_dict_structure_fn, override

    camel = {each.name: camel_case(each.name) for each in fields(cls)}
    renames: dict[str, Any] = {name: override(rename=key) for name, key in camel.items()}
    structure = make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True, **renames)

    def hook(data: Any, _: Any) -> Section:
        if not isinstance(data, Mapping):
            raise SettingError(f"{cls.section} must be an object, got {type(data).__name__}")
        # TOML spells the fields in snake_case: give them the editors' names.
        return structure({camel.get(str(key), str(key)): value for key, value in data.items()}, cls)

    return hook


class _NotAChoice(ValueError):
    """A string option given none of its choices; the message is made where the path is known."""

    def __init__(self, value: object, choices: tuple[object, ...]) -> None:
        super().__init__(f"{value!r} is not one of {choices}")
        self.value = value
        self.choices = choices


def _structure_choice(value: Any, type_: Any) -> Any:
    choices = get_args(type_)
    if value not in choices:
        raise _NotAChoice(value, choices)
    return value


_LITERAL = get_origin(Literal["x"])


# Built on first use: the model host reads its settings as plain fields and never structures
# any, so it does without cattrs' memory.
@cache
def converter() -> cattrs.Converter:
    """The converter that structures settings sections from plain dicts."""
    import cattrs

    made = cattrs.Converter(forbid_extra_keys=True)
    made.register_structure_hook_factory(
        lambda type_: isinstance(type_, type) and issubclass(type_, Section),
        lambda cls: _section_hook(made, cls),
    )
    made.register_structure_hook_func(
        lambda type_: get_origin(type_) is _LITERAL, _structure_choice
    )
    return made


def _one_of(choices: tuple[object, ...]) -> str:
    quoted = [f'"{choice}"' for choice in choices]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]


def faults(exc: BaseException, where: str, type_: Any = None) -> list[str]:
    """One line per fault in `exc`, each naming the setting as TOML spells it."""
    import cattrs
    from cattrs.errors import AttributeValidationNote
    from cattrs.v import format_exception

    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        noted, bare = exc.group_exceptions()
        lines: list[str] = []
        for sub, note in noted:
            key = note.name if isinstance(note, AttributeValidationNote) else note.index
            lines += faults(sub, f"{where}.{key}", note.type)
        return lines + [line for sub in bare for line in faults(sub, where)]
    if isinstance(exc, SettingError):
        return [str(exc)]
    if isinstance(exc, _NotAChoice):
        return [f"{where} must be {_one_of(exc.choices)}, got {exc.value!r}"]
    return [f"{where}: {format_exception(exc, type_)}"]
