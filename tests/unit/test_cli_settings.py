"""Settings from the command line: a settings file with the model options on top."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from pairline.cli_settings import add_model_args, settings_from_args


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_model_args(parser)
    return parser.parse_args(argv)


def test_options_override_the_settings_file(tmp_path: Path) -> None:
    config = tmp_path / "pairline.toml"
    config.write_text('[model]\nname = "a.gguf"\nn_ctx = 1024\n\n[completion]\nmax_tokens = 7\n')
    settings = settings_from_args(
        parse("--config", str(config), "--n-ctx", "4096", "--threads", "3", "--gpu-layers", "0")
    )
    assert settings.model.name == "a.gguf"
    assert (settings.model.n_ctx, settings.model.n_threads, settings.model.n_gpu_layers) == (
        4096,
        3,
        0,
    )
    assert settings.completion.max_tokens == 7


def test_json_file_and_cache_dir(tmp_path: Path) -> None:
    config = tmp_path / "pairline.json"
    config.write_text('{"model": {"name": "b.gguf"}}')
    settings = settings_from_args(parse("--config", str(config), "--cache-dir", str(tmp_path)))
    assert settings.model.name == "b.gguf" and settings.cache_path == tmp_path


def test_a_file_without_a_table_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "pairline.json"
    config.write_text("[1, 2]")
    with pytest.raises(SystemExit, match="table of settings"):
        settings_from_args(parse("--config", str(config)))
