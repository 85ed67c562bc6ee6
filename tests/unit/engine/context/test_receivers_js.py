"""The name monitor in TypeScript and JavaScript: namespaces, classes, `this`, typed names."""

from __future__ import annotations

from pathlib import Path

import pytest

from pairline.engine.context import ContextGatherer
from tests.unit.engine.context.monitor_workspace import gatherer_for, members_at

FILES = {
    "shapes.ts": """
        export class Shape {
          sides = 0;
          #secret = 1;
          area(): number { return 0; }
        }
    """,
    "helpers.ts": """
        import { Shape } from './shapes';
        export { Shape } from './shapes';

        export function normalisePath(p: string): string { return p; }
        export const LIMIT = 3;
        const hidden = 1;

        export class Circle extends Shape {
          constructor(r: number) { super(); this.radius = r; }
          grow(): void { this.radius += 1; }
        }

        export class Odd extends mixin(Shape) {}
    """,
    "legacy.js": """
        const path = require('path');
        export function old() {}
    """,
}


@pytest.fixture
def gatherer(tmp_path: Path) -> ContextGatherer:
    return gatherer_for(tmp_path, FILES)


def _at(gatherer: ContextGatherer, source: str, name: str = "main.ts") -> dict[str, set[str]]:
    language = "typescript" if name.endswith(".ts") else "javascript"
    found = members_at(gatherer, source, name, language)
    own = {"constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable"}
    own |= {"toLocaleString", "toString", "valueOf"}
    return {key: set(names) - own for key, names in found.items()}


def test_a_namespace_import_has_the_exports(gatherer: ContextGatherer) -> None:
    found = _at(gatherer, "import * as helpers from './helpers';\n<|>\n")
    assert found["helpers"] == {"normalisePath", "LIMIT", "Circle", "Odd", "Shape"}


def test_this_and_typed_names_have_the_class_members_and_bases(gatherer: ContextGatherer) -> None:
    source = """
        import { Circle } from './helpers';

        class Ring extends Circle {
          inner = 0;
          method(c: Circle, n: number): void {
            const made = new Circle(2);
            <|>
          }
        }
    """
    found = _at(gatherer, source)
    assert found["this"] == {"inner", "method", "radius", "grow", "sides", "area"}
    assert found["c"] == found["made"] == {"radius", "grow", "sides", "area"}
    assert "n" not in found


def test_what_cannot_be_known_is_left_out(gatherer: ContextGatherer) -> None:
    source = """
        import { Odd } from './helpers';
        import * as fs from 'fs';
        function f(o: Odd) {
          <|>
        }
    """
    found = _at(gatherer, source)
    assert "Odd" not in found and "o" not in found and "fs" not in found


def test_require_in_javascript(gatherer: ContextGatherer) -> None:
    found = _at(gatherer, "const legacy = require('./legacy');\n<|>\n", "main.js")
    assert found["legacy"] == {"old"}
