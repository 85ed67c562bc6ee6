"""The name monitor in Go: imported packages, struct fields and methods across the files of a
package, receivers, typed parameters and composite literals."""

from __future__ import annotations

from pathlib import Path

import pytest

from pairline.engine.context import ContextGatherer
from tests.unit.engine.context.monitor_workspace import gatherer_for, members_at

FILES = {
    "go.mod": "module example.com/m\n\ngo 1.22\n",
    "util/base.go": """
        package util

        type Base struct {
            ID int
        }

        func (b *Base) Reset() { b.ID = 0 }

        func New() *Base { return &Base{} }

        func helper() {}
    """,
    "util/more.go": """
        package util

        const Limit = 3

        func (b Base) Describe() string { return "" }
    """,
    "srv/server.go": """
        package srv

        import "example.com/m/util"

        type Server struct {
            Name string
            util.Base
            count int
        }
    """,
}


@pytest.fixture
def gatherer(tmp_path: Path) -> ContextGatherer:
    return gatherer_for(tmp_path, FILES)


def _at(gatherer: ContextGatherer, source: str) -> dict[str, set[str]]:
    found = members_at(gatherer, source, "srv/handle.go", "go")
    return {key: set(names) for key, names in found.items()}


def test_an_imported_package_has_the_exported_names_of_all_its_files(
    gatherer: ContextGatherer,
) -> None:
    found = _at(gatherer, 'package srv\n\nimport "example.com/m/util"\n\n<|>\n')
    assert found["util"] == {"Base", "New", "Limit"}


def test_receivers_parameters_and_literals_have_fields_methods_and_embedded_ones(
    gatherer: ContextGatherer,
) -> None:
    source = """
        package srv

        import "example.com/m/util"

        func (s *Server) Handle(b *util.Base, n int) {
            other := &Server{}
            made := util.New()
            <|>
        }
    """
    found = _at(gatherer, source)
    # Server lives in another file of the package; Base's methods in two files of util.
    server = {"Name", "Base", "count", "ID", "Reset", "Describe", "Handle"}
    assert found["s"] == found["other"] == server
    assert found["b"] == found["made"] == {"ID", "Reset", "Describe"}
    assert "n" not in found
