"""Typed settings for the engine, built with cattrs from plain dicts (editor JSON or TOML).

Invalid input never stops the engine: each section that fails to structure falls back to its
defaults and the reason is reported, so the caller can show it to the user.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import cattrs
import platformdirs
from cattrs.v import format_exception

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(kw_only=True)
class ModelConfig:
    """Which local model to run and how."""

    name: str = "gemma3-270m"  # a built-in model name (see `pairline models`) or a GGUF path
    n_ctx: int = 2048
    n_threads: int = 0  # 0: one per CPU core
    n_batch: int = 256
    n_gpu_layers: int = 0  # -1: all layers on the GPU (needs a GPU build of llama.cpp)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("model.name must not be empty")
        if not 256 <= self.n_ctx <= 131072:
            raise ValueError(f"model.n_ctx must be within 256..131072, got {self.n_ctx}")
        if self.n_threads < 0:
            raise ValueError(f"model.n_threads must be >= 0, got {self.n_threads}")
        if not 8 <= self.n_batch <= 8192:
            raise ValueError(f"model.n_batch must be within 8..8192, got {self.n_batch}")
        if self.n_gpu_layers < -1:
            raise ValueError(f"model.n_gpu_layers must be >= -1, got {self.n_gpu_layers}")

    @property
    def threads(self) -> int:
        return self.n_threads or max(1, os.cpu_count() or 1)


@dataclass(kw_only=True)
class CompletionConfig:
    """Inline completion behaviour."""

    max_tokens: int = 48  # per suggestion on one line
    max_block_tokens: int = 128  # per suggestion that fills a block
    max_block_lines: int = 8
    prompt_tokens: int = 1024  # budget for the text around the cursor
    suffix_lines: int = 20  # lines after the cursor used to check the suggestion
    # Completion-menu items (textDocument/completion): "auto" serves them only to clients
    # that cannot show inline completions; "on" / "off" force it.
    items: str = "auto"
    cache: bool = True  # reuse earlier completions, also across restarts (on disk)
    cache_size_mb: int = 64
    speculative: bool = True  # precompute the next suggestion as if the shown one is accepted
    syntax_check: bool = True  # trim or drop suggestions that add parse errors
    # Typing-triggered requests are skipped where a suggestion rarely helps: inside strings
    # (unless in_strings) and before more than this many characters of code on the line.
    in_strings: bool = False
    max_chars_right: int = 8
    # Models without fill-in-the-middle tokens cannot see the code after the cursor, so a few
    # candidates are ranked by how likely they make that code: "invoked" (explicit requests
    # and `pairline complete`, where a few hundred ms more buy a better answer), "always" or
    # "off". `rerank_candidates` is how many are generated.
    rerank: str = "invoked"
    rerank_candidates: int = 3
    # Keep a local log of suggestions shown and accepted per language for `pairline stats`
    # (counts and timings only, never code; nothing leaves the machine).
    record_stats: bool = True
    # Per-language switch, as editors usually spell it: "*" is the default for the others.
    enable: dict[str, bool] = field(
        default_factory=lambda: {"*": True, "plaintext": False, "markdown": False}
    )

    def __post_init__(self) -> None:
        for name in ("max_tokens", "max_block_tokens", "max_block_lines", "prompt_tokens"):
            value = getattr(self, name)
            if not 1 <= value <= 8192:
                raise ValueError(f"completion.{name} must be within 1..8192, got {value}")
        if self.suffix_lines < 0:
            raise ValueError(f"completion.suffix_lines must be >= 0, got {self.suffix_lines}")
        if not 1 <= self.cache_size_mb <= 65536:
            raise ValueError(
                f"completion.cache_size_mb must be within 1..65536, got {self.cache_size_mb}"
            )
        if self.rerank not in ("invoked", "always", "off"):
            raise ValueError(
                f'completion.rerank must be "invoked", "always" or "off", got {self.rerank!r}'
            )
        if not 2 <= self.rerank_candidates <= 8:
            raise ValueError(
                f"completion.rerank_candidates must be within 2..8, got {self.rerank_candidates}"
            )
        if self.items not in ("auto", "on", "off"):
            raise ValueError(f'completion.items must be "auto", "on" or "off", got {self.items!r}')

    def enabled_for(self, language: str) -> bool:
        return self.enable.get(language, self.enable.get("*", True))


@dataclass(kw_only=True)
class RemoteConfig:
    """An HTTP model server for larger edits. Nothing is sent anywhere while base_url is empty."""

    base_url: str = ""
    api: str = "openai"  # "openai" (OpenAI-compatible) or "anthropic"
    model: str = ""
    api_key_env: str = ""  # the NAME of the environment variable that holds the key
    timeout_s: float = 60.0
    # "chat" (/chat/completions, instruct models) or "completion" (/completions, base models).
    prompt_style: str = "chat"
    connect_timeout_s: float = 5.0
    max_retries: int = 2  # extra attempts after a 429, a 5xx or a dropped connection
    max_tokens: int = 768

    def __post_init__(self) -> None:
        if self.api not in ("openai", "anthropic"):
            raise ValueError(f'remote.api must be "openai" or "anthropic", got {self.api!r}')
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"remote.base_url must be an http(s) URL, got {self.base_url!r}")
        if self.timeout_s <= 0:
            raise ValueError("remote.timeout_s must be positive")
        if self.prompt_style not in ("chat", "completion"):
            raise ValueError(
                f'remote.prompt_style must be "chat" or "completion", got {self.prompt_style!r}'
            )
        if self.connect_timeout_s <= 0:
            raise ValueError("remote.connect_timeout_s must be positive")
        if not 0 <= self.max_retries <= 10:
            raise ValueError(f"remote.max_retries must be within 0..10, got {self.max_retries}")
        if not 16 <= self.max_tokens <= 32768:
            raise ValueError(f"remote.max_tokens must be within 16..32768, got {self.max_tokens}")


ACTION_KINDS = ("fix", "implement", "docstring")


@dataclass(kw_only=True)
class ActionsConfig:
    """Code actions ("Fix this", "Implement this function", "Add docstring") and their checks."""

    # Which model answers each action: "auto" (remote when configured, else local), "remote"
    # or "local"; "*" is the default for the others.
    backend: dict[str, str] = field(default_factory=lambda: {"*": "auto"})
    # Running a check command executes workspace code, so it needs an explicit opt-in.
    trusted: bool = False
    # LSP language id -> command run in a temporary copy of the workspace; {file} is the
    # edited file relative to the workspace root, e.g. {"python": "ruff check {file}"}.
    check_commands: dict[str, str] = field(default_factory=dict)
    check_timeout_s: float = 60.0
    rounds: int = 3  # generate-verify-revise rounds before giving up
    offer_unverified: bool = False  # offer the best unverified edit when none verified
    local_max_tokens: int = 256
    context_lines: int = 120  # lines of the rest of the file given with the region

    def __post_init__(self) -> None:
        for kind, choice in self.backend.items():
            if kind != "*" and kind not in ACTION_KINDS:
                raise ValueError(f"actions.backend: unknown action {kind!r}")
            if choice not in ("auto", "remote", "local"):
                raise ValueError(
                    f'actions.backend.{kind} must be "auto", "remote" or "local", got {choice!r}'
                )
        if not 1 <= self.rounds <= 10:
            raise ValueError(f"actions.rounds must be within 1..10, got {self.rounds}")
        if self.check_timeout_s <= 0:
            raise ValueError("actions.check_timeout_s must be positive")
        if not 16 <= self.local_max_tokens <= 8192:
            raise ValueError(
                f"actions.local_max_tokens must be within 16..8192, got {self.local_max_tokens}"
            )
        if self.context_lines < 0:
            raise ValueError(f"actions.context_lines must be >= 0, got {self.context_lines}")

    def backend_for(self, kind: str) -> str:
        return self.backend.get(kind, self.backend.get("*", "auto"))


@dataclass(kw_only=True)
class ContextConfig:
    """Cross-file context for completions: imported symbols and similar open-buffer code."""

    enable: bool = True  # off: completions see only the current file
    imports: bool = True  # outlines of the symbols the file imports from the workspace
    buffers: bool = True  # windows of other open buffers that resemble the cursor's code
    budget_tokens: int = 384  # most tokens of context placed before the code
    extra_roots: list[str] = field(default_factory=list)  # indexed besides the workspace roots
    max_file_bytes: int = 1_000_000  # larger files are never read

    def __post_init__(self) -> None:
        if not 0 <= self.budget_tokens <= 8192:
            raise ValueError(
                f"context.budget_tokens must be within 0..8192, got {self.budget_tokens}"
            )
        if self.max_file_bytes < 1:
            raise ValueError(f"context.max_file_bytes must be positive, got {self.max_file_bytes}")
        self.extra_roots = [os.path.expanduser(root) for root in self.extra_roots]


@dataclass(kw_only=True)
class Settings:
    """Everything a user can set."""

    model: ModelConfig = field(default_factory=ModelConfig)
    completion: CompletionConfig = field(default_factory=CompletionConfig)
    remote: RemoteConfig = field(default_factory=RemoteConfig)
    actions: ActionsConfig = field(default_factory=ActionsConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    cache_dir: str = ""  # empty: the user cache dir of the platform

    def __post_init__(self) -> None:
        if self.cache_dir:
            self.cache_dir = os.path.expanduser(self.cache_dir)

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir or platformdirs.user_cache_dir("pairline"))


_converter = cattrs.Converter(forbid_extra_keys=True)


def _snake(data: Any, *, keep_keys: bool = False) -> Any:
    """Accept the camelCase keys editors use as well as snake_case."""
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key) if keep_keys else _CAMEL.sub("_", str(key)).lower()
        # Keys of these maps are language ids or action names, not setting names.
        out[name] = _snake(value, keep_keys=name in ("enable", "check_commands", "backend"))
    return out


def _format_error(exc: BaseException, type_: Any) -> str:
    # A check in __post_init__ arrives without a target type: its message says it all.
    if type_ is None and isinstance(exc, ValueError):
        return str(exc)
    return format_exception(exc, type_)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc, format_exception=_format_error))
    return str(exc)


def load_settings(data: Any) -> tuple[Settings, list[str]]:
    """Structure `data` into Settings; each invalid section falls back to its defaults.

    Returns the settings and a list of problems, one line each, fit to show the user.
    """
    problems: list[str] = []
    if data is None:
        return Settings(), problems
    if not isinstance(data, dict):
        return Settings(), [f"settings must be an object, got {type(data).__name__}"]
    data = _snake(data)
    # Editors often nest everything under the server's name.
    if set(data) == {"pairline"} and isinstance(data["pairline"], dict):
        data = data["pairline"]
    sections: dict[str, type] = {
        "model": ModelConfig,
        "completion": CompletionConfig,
        "remote": RemoteConfig,
        "actions": ActionsConfig,
        "context": ContextConfig,
        "cache_dir": str,
    }
    assert set(sections) == {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in sections:
            problems.append(f"unknown setting {key!r} ignored")
            continue
        try:
            values[key] = _converter.structure(value, sections[key])
        except Exception as exc:  # cattrs and __post_init__ both raise; report either
            problems.append(f"invalid {key} settings ({_describe(exc)}); using defaults")
    return Settings(**values), problems


def dump_settings(settings: Settings) -> dict[str, Any]:
    """Plain-dict form of `settings` (for logs and `pairline doctor`)."""
    result: dict[str, Any] = _converter.unstructure(settings)
    return result
