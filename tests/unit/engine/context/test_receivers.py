"""The name monitor: which receivers at a Python cursor resolve, and to which member names."""

from __future__ import annotations

from pathlib import Path

import pytest

from pairline.engine.context import ContextGatherer
from pairline.engine.core.config import Settings
from pairline.engine.core.types import Position
from tests.unit.engine.context.monitor_workspace import gatherer_for, members_at

FILES = {
    "helpers.py": """
        import os

        LIMIT = 3

        def normalise_path(p: str) -> str:
            return os.path.normpath(p)
    """,
    "shapes/__init__.py": """
        from .base import Shape
        from .round import Circle
        from . import extra
    """,
    "shapes/base.py": """
        class Shape:
            sides = 0

            def area(self) -> float:
                return 0.0
    """,
    "shapes/round.py": """
        from .base import Shape

        class Circle(Shape):
            def __init__(self, r: float) -> None:
                self.radius = r

            def grow(self) -> None:
                self.radius += 1
    """,
    "shapes/extra.py": """
        def tool() -> None: ...
    """,
    "shapes/made.py": """
        import typing as t

        from .round import Circle

        @t.overload
        def unit(silent: t.Literal[False] = False) -> Circle: ...
        @t.overload
        def unit(silent: bool = ...) -> "Circle | None": ...
        def unit(silent: bool = False) -> t.Optional[Circle]:
            return Circle(1)

        def either() -> Circle: ...
        def either() -> int: ...

        class Sized:
            def __init__(self) -> None:
                self.outline: Circle = Circle(2)

        default = unit()
    """,
    "shapes/dynamic.py": """
        import enum

        class Anything:
            def __getattr__(self, name):
                return name

        class FromOutside(SomethingUnknown):
            pass

        class Failure(ValueError):
            code = 1

        class Mode(enum.Enum):
            FAST = 1

            @classmethod
            def parse(cls, text): ...
    """,
}


@pytest.fixture
def gatherer(tmp_path: Path) -> ContextGatherer:
    return gatherer_for(tmp_path, FILES)


def _at(gatherer: ContextGatherer, source: str, marker: str = "<|>") -> dict[str, frozenset[str]]:
    """The monitor's map at `marker` in `source`, as main.py of the workspace."""
    return members_at(gatherer, source, "main.py", "python", marker)


def _public(names: frozenset[str]) -> set[str]:
    return {name for name in names if not name.startswith("__")}


def test_an_imported_module_has_its_top_level_names(gatherer: ContextGatherer) -> None:
    found = _at(gatherer, "import helpers\n\nhelpers.<|>\n")
    assert _public(found["helpers"]) == {"os", "LIMIT", "normalise_path"}


def test_a_package_has_its_reexports_and_submodules(gatherer: ContextGatherer) -> None:
    found = _at(gatherer, "import shapes\nfrom shapes import extra\n<|>\n")
    assert {"Shape", "Circle", "extra", "base", "round"} <= _public(found["shapes"])
    assert _public(found["extra"]) == {"tool"}


def test_a_reexported_class_has_its_members_and_its_bases(gatherer: ContextGatherer) -> None:
    found = _at(gatherer, "from shapes import Circle\n<|>\n")
    assert _public(found["Circle"]) == {"radius", "grow", "sides", "area"}


def test_self_in_a_method_has_the_class_members(gatherer: ContextGatherer) -> None:
    source = """
        from shapes import Shape

        class Square(Shape):
            def __init__(self) -> None:
                self.side = 1

            def double(self) -> None:
                <|>
    """
    found = _at(gatherer, source)
    assert _public(found["self"]) == {"side", "double", "sides", "area"}
    assert _public(found["Square"]) == {"side", "double", "sides", "area"}


def test_annotated_parameters_and_constructed_locals_resolve(gatherer: ContextGatherer) -> None:
    source = """
        from shapes.round import Circle
        import shapes

        def f(c: Circle, maybe: "shapes.Shape | None", n: int, other):
            made = Circle(2)
            <|>
    """
    found = _at(gatherer, source)
    assert "grow" in found["c"]
    assert _public(found["maybe"]) == {"sides", "area"}
    assert "grow" in found["made"]
    assert "n" not in found and "other" not in found


def test_a_local_name_hides_the_module_it_shadows(gatherer: ContextGatherer) -> None:
    found = _at(gatherer, "import helpers\n\ndef f(helpers):\n    <|>\n")
    assert "helpers" not in found


def test_attributes_of_self_typed_by_the_class(gatherer: ContextGatherer) -> None:
    source = """
        from shapes import Circle

        class Holder:
            def __init__(self) -> None:
                self.circle = Circle(1)

            def use(self) -> None:
                <|>
    """
    assert "grow" in _at(gatherer, source)["self.circle"]


def test_a_call_of_a_function_annotated_to_return_a_class_gives_an_instance(
    gatherer: ContextGatherer,
) -> None:
    source = """
        from shapes.made import default, either, unit
        from shapes import made as extra

        def use() -> None:
            made = unit()
            other = extra.unit(silent=True)
            unsure = either()
            <|>
    """
    found = _at(gatherer, source)
    circle = _at(gatherer, "from shapes import Circle\n<|>\n")["Circle"]
    assert found["made"] == found["other"] == found["default"] == circle
    # Overloads that agree count; definitions that disagree, and the function itself, do not.
    for name in ("unsure", "unit", "either"):
        assert name not in found, name


def test_attributes_typed_in_a_base_class(gatherer: ContextGatherer) -> None:
    source = """
        from shapes.made import Sized

        class Ring(Sized):
            def use(self) -> None:
                <|>
    """
    assert "grow" in _at(gatherer, source)["self.outline"]


def test_what_cannot_be_known_is_left_out(gatherer: ContextGatherer) -> None:
    source = """
        import os
        from shapes.dynamic import Anything, FromOutside, Failure, Mode
        from nowhere import Thing

        def f(t: Thing):
            <|>
    """
    found = _at(gatherer, source)
    for name in ("os", "Anything", "FromOutside", "Thing", "t"):
        assert name not in found
    # A builtin base whose members are known by name does not make the class unknown.
    assert {"code", "args", "with_traceback"} <= found["Failure"]
    assert _public(found["Mode"]) == {"FAST", "parse", "name", "value", "_name_", "_value_"} | {
        "_missing_",
        "_generate_next_value_",
    }


def test_an_edit_to_the_module_shows_at_the_next_request(gatherer: ContextGatherer) -> None:
    root = Path(gatherer.index.roots[0])
    assert "renamed" not in _at(gatherer, "import helpers\n<|>\n")["helpers"]
    uri = (root / "helpers.py").as_uri()
    gatherer.workspace.open(uri, "def renamed(): ...\n", language="python")
    assert _public(_at(gatherer, "import helpers\n<|>\n")["helpers"]) == {"renamed"}


def test_other_languages_are_not_constrained(gatherer: ContextGatherer) -> None:
    root = Path(gatherer.index.roots[0])
    uri = (root / "main.js").as_uri()
    gatherer.workspace.open(uri, "import * as h from './helpers'\n", language="javascript")
    request = gatherer.workspace.request_at(uri, Position(1, 0))
    assert gatherer.members_at(request) == {}


def test_self_is_left_alone_where_attributes_are_created(gatherer: ContextGatherer) -> None:
    source = """
        class Square:
            def __init__(self) -> None:
                <|>
    """
    assert "self" not in _at(gatherer, source)


def test_an_installed_package_in_the_extra_roots_has_its_members(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "vendorlib").mkdir(parents=True)
    (site / "vendorlib" / "__init__.py").write_text(
        "from .core import Client\n\ndef connect() -> Client: ...\n"
    )
    (site / "vendorlib" / "core.py").write_text(
        "class Client:\n    def send(self, data: bytes) -> None: ...\n"
    )
    gatherer = gatherer_for(tmp_path / "ws", {"app.py": "x = 1\n"})
    source = "import vendorlib\n\ndef run() -> None:\n    client = vendorlib.connect()\n    <|>\n"
    assert "vendorlib" not in members_at(gatherer, source, "main.py", "python")
    config = Settings().context
    config.extra_roots = [str(site)]
    gatherer.ensure_index(config)
    found = members_at(gatherer, source, "main.py", "python")
    assert _public(found["vendorlib"]) == {"Client", "connect", "core"}
    assert _public(found["client"]) == {"send"}
