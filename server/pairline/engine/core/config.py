"""Typed settings for the engine, built with cattrs from plain dicts (editor JSON or TOML).

Every section is a dataclass whose fields carry their defaults, their range (checked once the
section is built) and, for string options, the `Literal` of allowed values (checked by cattrs).
Keys may be written in snake_case (TOML) or camelCase (editor settings).

Invalid input never stops the engine: each section that fails to structure falls back to its
defaults and the reason is reported, so the caller can show it to the user.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args, get_origin, get_type_hints

import cattrs
import platformdirs
from cattrs.errors import AttributeValidationNote
from cattrs.gen import make_dict_structure_fn, override
from cattrs.v import format_exception

ItemsMode = Literal["auto", "on", "off"]
RerankMode = Literal["invoked", "always", "off"]
RemoteApi = Literal["openai", "anthropic"]
PromptStyle = Literal["chat", "completion"]
BackendChoice = Literal["auto", "remote", "local"]
NextEditModel = Literal["off", "local", "remote"]
KvCacheType = Literal["f16", "q8_0"]

ACTION_KINDS = ("fix", "implement", "docstring")  # the code actions, keys of actions.backend


class SettingError(ValueError):
    """A value out of its range or otherwise unusable; the message names the setting."""


@dataclass(frozen=True)
class _Range:
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


def _ranged(
    default: float, low: float | None = None, high: float | None = None, *, positive: bool = False
) -> Any:
    """A field that must lie within low..high (high may be open) or, if `positive`, above 0."""
    return field(default=default, metadata={"range": _Range(low, high, positive)})


@dataclass(kw_only=True)
class _Section:
    """A settings section (`[section]` in TOML); the ranges of its fields are checked when built."""

    section: ClassVar[str]

    def __post_init__(self) -> None:
        for each in fields(self):
            bounds = each.metadata.get("range")
            if bounds is not None:
                bounds.check(f"{self.section}.{each.name}", getattr(self, each.name))


@dataclass(kw_only=True)
class ModelConfig(_Section):
    """Which local model to run and how."""

    section: ClassVar[str] = "model"

    name: str = "gemma3-270m"  # a built-in model name (see `pairline models`) or a GGUF path
    # What a suggestion's prompt needs (prompt_tokens + context budget + answer) with room to
    # spare; a larger window only costs memory (the KV cache is allocated at this size).
    n_ctx: int = _ranged(1536, 256, 131072)
    n_threads: int = _ranged(0, 0)  # 0: one per CPU core
    n_batch: int = _ranged(256, 8, 8192)
    # Sliding-window layers (Gemma 3) only attend to their last few hundred positions; a
    # full-size cache keeps every position there too, so that a prompt that changes far from
    # its end (the cursor moved up some lines) still reuses the text before the change. Off,
    # those layers keep a window's worth (19 MB less with Gemma 3 270M) and such a prompt is
    # evaluated from its start; typing reuses as much either way.
    swa_full: bool = True
    # The KV cache's number format. 8-bit halves its memory (18 MB with Gemma 3 270M at
    # n_ctx 2048) and needs llama.cpp's flash attention, which the CPU kernels have too.
    kv_cache_type: KvCacheType = "q8_0"
    # -1: all layers on the GPU (needs a GPU build of llama.cpp)
    n_gpu_layers: int = _ranged(0, -1)
    # Run the model in a process of its own (`pairline serve`), so a crash inside llama.cpp
    # costs one suggestion, not the editor's session: the server restarts it (in a safe
    # configuration after repeated crashes). Off, the model runs inside the server.
    host: bool = True

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise SettingError("model.name must not be empty")
        super().__post_init__()

    @property
    def threads(self) -> int:
        return self.n_threads or max(1, os.cpu_count() or 1)


@dataclass(kw_only=True)
class CompletionConfig(_Section):
    """Inline completion behaviour."""

    section: ClassVar[str] = "completion"

    max_tokens: int = _ranged(48, 1, 8192)  # per suggestion on one line
    max_block_tokens: int = _ranged(128, 1, 8192)  # per suggestion that fills a block
    max_block_lines: int = _ranged(8, 1, 8192)
    # Budget for the text around the cursor. 512 saved more keystrokes than 1024 in `bench
    # accept` and shows suggestions sooner: a tiny model gains little from distant lines.
    prompt_tokens: int = _ranged(512, 1, 8192)
    suffix_lines: int = _ranged(20, 0)  # lines after the cursor used to check the suggestion
    # Completion-menu items (textDocument/completion): "auto" serves them only to clients
    # that cannot show inline completions; "on" / "off" force it.
    items: ItemsMode = "auto"
    cache: bool = True  # reuse earlier completions, also across restarts (on disk)
    cache_size_mb: int = _ranged(64, 1, 65536)
    speculative: bool = True  # precompute the next suggestion as if the shown one is accepted
    syntax_check: bool = True  # trim or drop suggestions that add parse errors
    # Off: every suggestion is the model's text cut at the end of the line, with no block
    # suggestions, trimming against the rest of the line or bracket repair; the ablation
    # bench's `naive` arm measures what that polishing is worth.
    postprocess: bool = True
    # Typing-triggered requests are skipped where a suggestion rarely helps: inside strings
    # (unless in_strings) and before more than this many characters of code on the line.
    in_strings: bool = False
    max_chars_right: int = 8
    # Models without fill-in-the-middle tokens cannot see the code after the cursor, so a few
    # candidates are ranked by how likely they make that code: "invoked" (explicit requests
    # and `pairline complete`, where a few hundred ms more buy a better answer), "always" or
    # "off". `rerank_candidates` is how many are generated.
    rerank: RerankMode = "invoked"
    rerank_candidates: int = _ranged(3, 2, 8)
    # With the cursor inside a word (`self.ba|`) the prompt ends in half a token the model
    # rarely saw split there; token healing backs off that token and makes the suggestion
    # start by spelling it again (models without fill-in-the-middle tokens).
    token_healing: bool = True
    # Suggestions whose tokens average a log-probability below this are not shown (a
    # guess the user would have to read and reject); 0 shows every suggestion. At 0.5 bench
    # infill (mid-word, 300 tasks) hid 17 suggestions of which 16 were wrong.
    min_confidence: float = _ranged(0.5, 0.0, 1.0)
    # Keep a local log of suggestions shown and accepted per language for `pairline stats`
    # (counts and timings only, never code; nothing leaves the machine).
    record_stats: bool = True
    # Per-language switch, as editors usually spell it: "*" is the default for the others.
    enable: dict[str, bool] = field(
        default_factory=lambda: {"*": True, "plaintext": False, "markdown": False}
    )

    def enabled_for(self, language: str) -> bool:
        return self.enable.get(language, self.enable.get("*", True))


@dataclass(kw_only=True)
class RemoteConfig(_Section):
    """An HTTP model server for larger edits. Nothing is sent anywhere while base_url is empty."""

    section: ClassVar[str] = "remote"

    base_url: str = ""
    api: RemoteApi = "openai"  # "openai" (OpenAI-compatible) or "anthropic"
    model: str = ""
    api_key_env: str = ""  # the NAME of the environment variable that holds the key
    timeout_s: float = _ranged(60.0, positive=True)
    # "chat" (/chat/completions, instruct models) or "completion" (/completions, base models).
    prompt_style: PromptStyle = "chat"
    connect_timeout_s: float = _ranged(5.0, positive=True)
    # Extra attempts after an HTTP 429 or 5xx answer, waiting as Retry-After says or with a
    # jittered exponential backoff, and never longer than timeout_s. Connection failures and
    # timeouts are not retried: they end the request with their own message.
    max_retries: int = _ranged(2, 0, 10)
    max_tokens: int = _ranged(768, 16, 32768)

    def __post_init__(self) -> None:
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise SettingError(f"remote.base_url must be an http(s) URL, got {self.base_url!r}")
        super().__post_init__()


@dataclass(kw_only=True)
class ActionsConfig(_Section):
    """Code actions ("Fix this", "Implement this function", "Add docstring") and their checks."""

    section: ClassVar[str] = "actions"

    # Which model answers each action: "auto" (remote when configured, else local), "remote"
    # or "local"; "*" is the default for the others.
    backend: dict[str, BackendChoice] = field(default_factory=lambda: {"*": "auto"})
    # Running a check command executes workspace code, so it needs an explicit opt-in.
    trusted: bool = False
    # LSP language id -> command run in a temporary copy of the workspace; {file} is the
    # edited file relative to the workspace root, e.g. {"python": "ruff check {file}"}.
    check_commands: dict[str, str] = field(default_factory=dict)
    check_timeout_s: float = _ranged(60.0, positive=True)
    # After each save, run the file's check (configured, else detected: the tests that import
    # it) in the background and mark each failure where its traceback points, so "Fix this" can
    # start from a red test. Trusted workspaces only; off by default since it runs tests.
    test_diagnostics: bool = False
    rounds: int = _ranged(3, 1, 10)  # generate-verify-revise rounds before giving up
    # Candidates asked for per round (best-of-N): a small model rarely writes a passing fix in
    # one go, but one of several diverse samples often does, and running the check picks it.
    candidates: int = _ranged(8, 1, 64)
    # Wall-clock limit of the whole loop (generation and checks); the best so far is then used.
    budget_s: float = _ranged(60.0, positive=True)
    # Sampling temperature of every candidate but a round's first (which is greedy): diversity.
    temperature: float = _ranged(0.8, 0.0, 2.0)
    # Put the check's failure on the unmodified file (e.g. the failing assertion) in every
    # prompt that has no rejected candidate to revise, the whole first round included: without
    # it a small model has no hint of what is wrong and mostly copies the code back unchanged.
    # Off until `pairline bench fix --baseline-feedback on|off` shows it wins.
    baseline_feedback: bool = False
    # "Fix this" also checks one-token edits of the region (`<` for `<=`, `n` for `n - 1`, one
    # variable for another, …) when the check fails on it as it is: most bugs a test catches
    # are one of these, and running the check finds them with no model. Trusted checks only.
    small_edits: bool = True
    # Run pytest checks on a warm interpreter (pytest imported once per workspace copy, a fork
    # per check) instead of a cold `python -m pytest` each: the start-up is most of a small
    # test file's check, and "Fix this" runs hundreds of them.
    warm_checks: bool = True
    # Order the small edits by fault localisation: the lines the failing tests of the code as
    # it is ran (and passing ones did not) first, from a trace of that one file (pytest). Off
    # until a bench shows it wins: on one-function tasks (bench fix --check p) it changed
    # nothing but noise, and no whole-file bench exists yet.
    fault_localisation: bool = False
    offer_unverified: bool = False  # offer the best unverified edit when none verified
    local_max_tokens: int = _ranged(256, 16, 8192)
    context_lines: int = _ranged(120, 0)  # lines of the rest of the file given with the region

    def __post_init__(self) -> None:
        for kind in self.backend:
            if kind != "*" and kind not in ACTION_KINDS:
                raise SettingError(f"actions.backend: unknown action {kind!r}")
        super().__post_init__()

    def backend_for(self, kind: str) -> BackendChoice:
        return self.backend.get(kind, self.backend.get("*", "auto"))


@dataclass(kw_only=True)
class ContextConfig(_Section):
    """Cross-file context for completions: imported symbols, similar code, recent edits."""

    section: ClassVar[str] = "context"

    enable: bool = True  # off: completions see only the current file
    imports: bool = True  # outlines of the symbols the file imports from the workspace
    buffers: bool = True  # windows of other open buffers that resemble the cursor's code
    # Windows of any indexed workspace file of the language (opened or not) that resemble the
    # lines above the cursor, ranked by identifier similarity; for a model without FIM tokens
    # also windows of this buffer after the cursor, which it cannot see otherwise. Off by
    # default: in two `bench accept` runs it changed chars saved by -3.1 and +4.9 per 100 keys
    # (noise) and made shown suggestions slower (p50 8 -> 82 and 62 -> 77 ms): no win shown.
    retrieval: bool = False
    # The user's last few edits elsewhere (other files, or away from the cursor), as small
    # before/after snippets. Off by default: no bench here replays edits made elsewhere, so
    # nothing has shown yet that they earn their tokens.
    recent_edits: bool = False
    budget_tokens: int = _ranged(384, 0, 8192)  # most tokens of context placed before the code
    extra_roots: list[str] = field(default_factory=list)  # indexed besides the workspace roots
    max_file_bytes: int = _ranged(1_000_000, positive=True)  # larger files are never read

    def __post_init__(self) -> None:
        super().__post_init__()
        self.extra_roots = [os.path.expanduser(root) for root in self.extra_roots]


@dataclass(kw_only=True)
class NextEditConfig(_Section):
    """Next-edit suggestions: the edit that should follow the one the user just made."""

    section: ClassVar[str] = "next_edit"

    enable: bool = True
    # After propagation (no model) found nothing: ask "local" (the embedded model), "remote"
    # (remote.base_url, so code leaves the machine) or no model at all ("off").
    model: NextEditModel = "off"
    # Edits below this confidence are never returned (propagation's scores are calibrated on
    # `pairline bench nextedit`: at 0.5, 0.83 of those shown are right).
    min_confidence: float = _ranged(0.5, 0.0, 1.0)
    max_edits: int = _ranged(3, 1, 10)  # alternatives returned per request, best first


@dataclass(kw_only=True)
class Settings:
    """Everything a user can set."""

    model: ModelConfig = field(default_factory=ModelConfig)
    completion: CompletionConfig = field(default_factory=CompletionConfig)
    remote: RemoteConfig = field(default_factory=RemoteConfig)
    actions: ActionsConfig = field(default_factory=ActionsConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    next_edit: NextEditConfig = field(default_factory=NextEditConfig)
    cache_dir: str = ""  # empty: the user cache dir of the platform

    def __post_init__(self) -> None:
        if self.cache_dir:
            self.cache_dir = os.path.expanduser(self.cache_dir)

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir or platformdirs.user_cache_dir("pairline"))


# --- Structuring ------------------------------------------------------------------------------

_converter = cattrs.Converter(forbid_extra_keys=True)


def camel_case(name: str) -> str:
    """`n_gpu_layers` -> `nGpuLayers`: how editors spell a setting."""
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _section_hook(cls: type[_Section]) -> Callable[[Any, Any], _Section]:
    """Structure `cls` from a mapping, each field under its camelCase key or its own name.

    Only the section's own fields are renamed, so the keys of its maps (language ids, action
    names) stay as written.
    """
    camel = {each.name: camel_case(each.name) for each in fields(cls)}
    renames: dict[str, Any] = {name: override(rename=key) for name, key in camel.items()}
    structure = make_dict_structure_fn(cls, _converter, _cattrs_forbid_extra_keys=True, **renames)

    def hook(data: Any, _: Any) -> _Section:
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


_converter.register_structure_hook_factory(
    lambda type_: isinstance(type_, type) and issubclass(type_, _Section), _section_hook
)
_LITERAL = get_origin(Literal["x"])
_converter.register_structure_hook_func(
    lambda type_: get_origin(type_) is _LITERAL, _structure_choice
)


def _one_of(choices: tuple[object, ...]) -> str:
    quoted = [f'"{choice}"' for choice in choices]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]


def _faults(exc: BaseException, where: str, type_: Any = None) -> list[str]:
    """One line per fault in `exc`, each naming the setting as TOML spells it."""
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        noted, bare = exc.group_exceptions()
        lines: list[str] = []
        for sub, note in noted:
            key = note.name if isinstance(note, AttributeValidationNote) else note.index
            lines += _faults(sub, f"{where}.{key}", note.type)
        return lines + [line for sub in bare for line in _faults(sub, where)]
    if isinstance(exc, SettingError):
        return [str(exc)]
    if isinstance(exc, _NotAChoice):
        return [f"{where} must be {_one_of(exc.choices)}, got {exc.value!r}"]
    return [f"{where}: {format_exception(exc, type_)}"]


def load_settings(data: Any) -> tuple[Settings, list[str]]:
    """Structure `data` into Settings; each invalid section falls back to its defaults.

    Returns the settings and a list of problems, one line each, fit to show the user.
    """
    problems: list[str] = []
    if data is None:
        return Settings(), problems
    if not isinstance(data, dict):
        return Settings(), [f"settings must be an object, got {type(data).__name__}"]
    # Editors often nest everything under the server's name.
    if set(data) == {"pairline"} and isinstance(data["pairline"], dict):
        data = data["pairline"]
    names = {key: f.name for f in fields(Settings) for key in (f.name, camel_case(f.name))}
    types = get_type_hints(Settings)
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = names.get(key)
        if name is None:
            problems.append(f"unknown setting {key!r} ignored")
            continue
        try:
            values[name] = _converter.structure(value, types[name])
        except Exception as exc:  # cattrs and __post_init__ both raise; report either
            problems.append(
                f"invalid {name} settings ({'; '.join(_faults(exc, name))}); using defaults"
            )
    return Settings(**values), problems


def dump_settings(settings: Settings) -> dict[str, Any]:
    """Plain-dict form of `settings` (for logs and `pairline doctor`)."""
    result: dict[str, Any] = _converter.unstructure(settings)
    return result
