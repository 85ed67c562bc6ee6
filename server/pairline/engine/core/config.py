"""Typed settings for the engine, built with cattrs from plain dicts (editor JSON or TOML).

This module is the one source of the settings: every section is a dataclass whose fields carry
their defaults, their rules (a range, a pattern; see config_base.py) and, for string options,
the `Literal` of allowed values. The comment on a field is its description: `schema.py` reads it
into the JSON Schema from which the editors' settings and the docs are generated, so it says
what the setting does for a user first, then why. Keys may be written in snake_case (TOML) or
camelCase (editor settings).

Invalid input never stops the engine: each section that fails to structure falls back to its
defaults and the reason is reported, so the caller can show it to the user.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, get_type_hints

import platformdirs

from pairline.engine.core.config_base import (
    Keys,
    Pattern,
    Section,
    camel_case,
    converter,
    faults,
    ranged,
    rules,
)

ItemsMode = Literal["auto", "on", "off"]
RerankMode = Literal["invoked", "always", "off"]
RemoteApi = Literal["openai", "anthropic"]
PromptStyle = Literal["chat", "completion"]
BackendChoice = Literal["auto", "remote", "local"]
NextEditModel = Literal["off", "local", "remote"]
KvCacheType = Literal["f16", "q8_0"]
CompletionBackend = Literal["local", "remote"]
CompletionApi = Literal["llama-server", "openai", "ollama"]
FimFamily = Literal["auto", "none", "qwen", "starcoder", "codellama", "deepseek", "codestral"]

ACTION_KINDS = ("fix", "implement", "docstring")  # the code actions, keys of actions.backend


@dataclass(kw_only=True)
class ModelConfig(Section):
    """Which local model to run and how."""

    section: ClassVar[str] = "model"

    # A built-in model name, a preset (`pairline models` lists them; `pairline models pull
    # NAME` downloads one), `owner/repo:file.gguf` from the Hugging Face cache, or the path of a
    # GGUF file.
    name: str = field(default="gemma3-270m", metadata=rules(Pattern(r"\S", "must not be empty")))
    # Context window in tokens: what a suggestion's prompt needs (prompt_tokens + context
    # budget + answer) with room to spare; a larger window only costs memory (the KV cache is
    # allocated at this size).
    n_ctx: int = ranged(1536, 256, 131072)
    n_threads: int = ranged(0, 0)  # CPU threads for the model; 0: one per CPU core
    n_batch: int = ranged(256, 8, 8192)  # prompt tokens evaluated per batch
    # Keep every position in the cache of sliding-window layers (Gemma 3), which only attend to
    # their last few hundred positions, so that a prompt that changes far from its end (the
    # cursor moved up some lines) still reuses the text before the change. Off, those layers
    # keep a window's worth (19 MB less with Gemma 3 270M) and such a prompt is evaluated from
    # its start; typing reuses as much either way.
    swa_full: bool = True
    # The KV cache's number format. 8-bit halves its memory (18 MB with Gemma 3 270M at
    # n_ctx 2048) and needs llama.cpp's flash attention, which the CPU kernels have too.
    kv_cache_type: KvCacheType = "q8_0"
    # Layers offloaded to a GPU, -1 for all (needs a GPU build of llama.cpp).
    n_gpu_layers: int = ranged(0, -1)
    # Run the model in a process of its own (`pairline serve`), so a crash inside llama.cpp
    # costs one suggestion, not the editor's session: the server restarts it (in a safe
    # configuration after repeated crashes). Off, the model runs inside the server.
    host: bool = True

    @property
    def threads(self) -> int:
        return self.n_threads or max(1, os.cpu_count() or 1)


@dataclass(kw_only=True)
class CompletionConfig(Section):
    """Inline completion behaviour."""

    section: ClassVar[str] = "completion"

    max_tokens: int = ranged(48, 1, 8192)  # most tokens of a suggestion on one line
    max_block_tokens: int = ranged(128, 1, 8192)  # most tokens of a suggestion filling a block
    max_block_lines: int = ranged(8, 1, 8192)  # most lines of a suggestion filling a block
    # Tokens of the text around the cursor given to the model. 512 saved more keystrokes than
    # 1024 in `bench accept` and shows suggestions sooner: a tiny model gains little from
    # distant lines.
    prompt_tokens: int = ranged(512, 1, 8192)
    # The cross-file context block comes on top of prompt_tokens, which stay all the code's.
    # Off: the block takes its tokens from the code's, down to a quarter of them.
    context_on_top: bool = False
    suffix_lines: int = ranged(20, 0)  # lines after the cursor used to check the suggestion
    # Completion-menu items (textDocument/completion): "auto" serves them only to clients
    # that cannot show inline completions; "on" / "off" force it.
    items: ItemsMode = "auto"
    cache: bool = True  # reuse earlier completions, also across restarts (on disk)
    cache_size_mb: int = ranged(64, 1, 65536)  # that cache's size on disk, in MB
    speculative: bool = True  # precompute the next suggestion as if the shown one is accepted
    # A keystroke that types on at the cursor of a suggestion still being generated lets it
    # finish: when it starts with what was typed, the rest is shown at once (typing-through).
    finish_typed_into: bool = True
    syntax_check: bool = True  # trim or drop suggestions that add parse errors
    # Polish the model's text into a suggestion. Off: every suggestion is the model's text cut
    # at the end of the line, with no block suggestions, trimming against the rest of the line
    # or bracket repair; the ablation bench's `naive` arm measures what that polishing is worth.
    postprocess: bool = True
    # Ask for suggestions while typing inside strings too. Off, strings are skipped: a
    # suggestion rarely helps there (an explicit request still gets one).
    in_strings: bool = False
    # Typing asks for no suggestion before more than this many characters of code on the
    # line, where one rarely helps (an explicit request still gets one).
    max_chars_right: int = 8
    # Models without fill-in-the-middle tokens cannot see the code after the cursor, so a few
    # candidates are ranked by how likely they make that code: "invoked" (explicit requests
    # and `pairline complete`, where a few hundred ms more buy a better answer), "always" or
    # "off".
    rerank: RerankMode = "invoked"
    rerank_candidates: int = ranged(3, 2, 8)  # how many candidates `rerank` ranks
    # Token healing: with the cursor inside a word (`self.ba|`) the prompt ends in half a token
    # the model rarely saw split there; healing backs off that token and makes the suggestion
    # start by spelling it again (models without fill-in-the-middle tokens).
    token_healing: bool = True
    # Suggestions whose tokens the model gave a geometric-mean probability below this are not
    # shown (a guess the user would have to read and reject); 0 shows every suggestion. At 0.5 bench
    # infill (mid-word, 300 tasks) hid 17 suggestions of which 16 were wrong.
    min_confidence: float = ranged(0.5, 0.0, 1.0)
    # Where suggestions come from: "local" (the model inside pairline) or "remote" (the model
    # server named in completion_remote, e.g. llama-server on a team's GPU box).
    backend: CompletionBackend = "local"
    # While the model writes a name after `receiver.`, allow only the members the receiver
    # really has (a module, class or instance resolved in the workspace); unresolved receivers
    # are left alone.
    guide_names: bool = False
    # Cut a suggestion before the first member access that names a member its (resolved)
    # receiver does not have.
    check_names: bool = False
    # With guide_names: among the members allowed, prefer those the code around the cursor
    # already uses after the same receiver.
    prefer_seen_names: bool = False
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
class RemoteConfig(Section):
    """An HTTP model server for larger edits. Nothing is sent anywhere while base_url is empty."""

    section: ClassVar[str] = "remote"

    # An OpenAI-compatible or Anthropic endpoint for code actions (and next edits when
    # next_edit.model says so), e.g. http://127.0.0.1:8080/v1; empty: nothing is sent anywhere.
    base_url: str = field(
        default="", metadata=rules(Pattern("^(https?://|$)", "must be an http(s) URL"))
    )
    api: RemoteApi = "openai"  # the API it speaks: "openai" (OpenAI-compatible) or "anthropic"
    model: str = ""  # the model's name at that server
    # The NAME of the environment variable that holds the API key (the key itself never goes
    # into settings).
    api_key_env: str = ""
    timeout_s: float = ranged(60.0, positive=True)  # seconds a request may take in all
    # How prompts are sent: "chat" (/chat/completions, instruct models) or "completion"
    # (/completions, base models).
    prompt_style: PromptStyle = "chat"
    connect_timeout_s: float = ranged(5.0, positive=True)  # seconds to connect
    # Extra attempts after an HTTP 429 or 5xx answer, waiting as Retry-After says or with a
    # jittered exponential backoff, and never longer than timeout_s. Connection failures and
    # timeouts are not retried: they end the request with their own message.
    max_retries: int = ranged(2, 0, 10)
    max_tokens: int = ranged(768, 16, 32768)  # most tokens of an answer


@dataclass(kw_only=True)
class CompletionRemoteConfig(Section):
    """The model server for inline suggestions when completion.backend is "remote"."""

    section: ClassVar[str] = "completion_remote"

    # The server's address, e.g. http://127.0.0.1:8012 (llama-server), http://gpu-box:8000/v1
    # (OpenAI-compatible) or http://127.0.0.1:11434 (Ollama); empty: nothing is sent anywhere.
    base_url: str = field(
        default="", metadata=rules(Pattern("^(https?://|$)", "must be an http(s) URL"))
    )
    # The API it speaks: "llama-server" (/infill and /completion), "openai" (/v1/completions)
    # or "ollama" (/api/generate).
    api: CompletionApi = "llama-server"
    model: str = ""  # the model's name at that server (OpenAI-compatible and Ollama)
    # The fill-in-the-middle tokens the server's model knows: "auto" (ask llama-server; Ollama
    # lays out the code after the cursor with the model's template; prefix only for
    # OpenAI-compatible servers), "none" (prefix only) or a model family, whose tokens are then
    # written into the prompt.
    fim: FimFamily = "auto"
    # The NAME of the environment variable that holds the API key (the key itself never goes
    # into settings).
    api_key_env: str = ""
    timeout_s: float = ranged(10.0, positive=True)  # seconds a suggestion may take in all
    connect_timeout_s: float = ranged(2.0, positive=True)  # seconds to connect
    # Milliseconds llama-server may spend generating one suggestion (its t_max_predict_ms).
    max_predict_ms: int = ranged(1000, 1)
    # Allow plain http to a server that is not on this machine (code is sent unencrypted).
    allow_insecure: bool = False


@dataclass(kw_only=True)
class ActionsConfig(Section):
    """Code actions ("Fix this", "Implement this function", "Add docstring") and their checks."""

    section: ClassVar[str] = "actions"

    # Which model answers each action: "auto" (remote when configured, else local), "remote"
    # or "local"; "*" is the default for the others.
    backend: dict[str, BackendChoice] = field(
        default_factory=lambda: {"*": "auto"}, metadata=rules(Keys(("*", *ACTION_KINDS), "action"))
    )
    # Run check_commands (else the tests the project has for the file) to verify the edits.
    # They execute workspace code, so this needs an explicit opt-in.
    trusted: bool = False
    # LSP language id -> command run in a temporary copy of the workspace; {file} is the
    # edited file relative to the workspace root, e.g. {"python": "ruff check {file}"}.
    check_commands: dict[str, str] = field(default_factory=dict)
    check_timeout_s: float = ranged(60.0, positive=True)  # seconds one check may run
    # After each save, run the file's check (check_commands, else the tests the project has:
    # pytest on the test files that import it, `node --test`, `go test`, `cargo test`) in the
    # background and mark each failure where its traceback points, with "Fix this" on it. Needs
    # `trusted`; off by default since it runs tests.
    test_diagnostics: bool = False
    rounds: int = ranged(3, 1, 10)  # generate-verify-revise rounds before an action gives up
    # Candidates asked for per round (best-of-N): a small model rarely writes a passing fix in
    # one go, but one of several diverse samples often does, and running the check picks it.
    candidates: int = ranged(8, 1, 64)
    # Wall-clock limit of the whole loop (generation and checks); the best so far is then used.
    budget_s: float = ranged(60.0, positive=True)
    # Sampling temperature of every candidate but a round's first (which is greedy): diversity.
    temperature: float = ranged(0.8, 0.0, 2.0)
    # Put the check's failure on the unmodified file (e.g. the failing assertion) in every
    # prompt that has no rejected candidate to revise, the whole first round included: without
    # it a small model has no hint of what is wrong and mostly copies the code back unchanged.
    # Off until `pairline bench fix --baseline-feedback on|off` shows it wins.
    baseline_feedback: bool = False
    # "Fix this" also checks one-token edits of the region (`<` for `<=`, `n` for `n - 1`, one
    # variable for another, …) when the check fails on it as it is: most bugs a test catches
    # are one of these, and running the check finds them with no model. Trusted checks only.
    small_edits: bool = True
    # Small edits that add `+ 1` or `- 1` to a name or call assigned, returned or passed on
    # (`lo = mid` for `lo = mid + 1`): a common one-token bug the older edits miss. Each extra
    # edit costs a check, pushing the others back in the budget; off until a bench shows a win.
    small_edit_offsets: bool = False
    # Small edits that swap two neighbouring arguments or items (`replace(",", " ")`,
    # `day, month = …`), or the operands of an operator whose order matters (`b - a`).
    small_edit_swaps: bool = True
    # Small edits that add the step a `while` loop is missing: its condition reads names the
    # body never writes (`while div:` without `div -= 1`, `while n >= x` without `n -= x`),
    # code that hangs or never runs.
    small_edit_steps: bool = True
    # Run pytest checks on a warm interpreter (pytest imported once per workspace copy, a fork
    # per check) instead of a cold `python -m pytest` each: the start-up is most of a small
    # test file's check, and "Fix this" runs hundreds of them.
    warm_checks: bool = True
    # Order the small edits by fault localisation: the lines the failing tests of the code as
    # it is ran (and passing ones did not) first, from a trace of that one file (pytest). Off
    # until a bench shows it wins: on one-function tasks (bench fix --check p) it changed
    # nothing but noise, and no whole-file bench exists yet.
    fault_localisation: bool = False
    # Offer the best unverified edit (marked so) when none passed the checks; off, nothing is
    # applied and a message says why.
    offer_unverified: bool = False
    local_max_tokens: int = ranged(256, 16, 8192)  # most tokens of an answer of the local model
    context_lines: int = ranged(120, 0)  # lines of the rest of the file given with the region

    def backend_for(self, kind: str) -> BackendChoice:
        return self.backend.get(kind, self.backend.get("*", "auto"))


@dataclass(kw_only=True)
class ContextConfig(Section):
    """Cross-file context for completions: imported symbols, similar code, recent edits."""

    section: ClassVar[str] = "context"

    # Context from other files in the prompt; off: completions see only the current file.
    # Off by default: with the built-in 270M model it cost keystrokes saved in bench accept
    # (+6.6 and +5.8 chars per 100 keys without it, accepted share -0.01 and -0.03) and exact
    # and identifier match in bench crossfile (click, jinja2): the tiny model does not copy
    # names from it. A larger model (pairline models) is where it is worth trying.
    enable: bool = False
    imports: bool = True  # give outlines of the symbols the file imports from the workspace
    buffers: bool = True  # give windows of other open buffers that resemble the cursor's code
    # Give windows of any indexed workspace file of the language (opened or not) that resemble the
    # lines above the cursor, ranked by identifier similarity; for a model without FIM tokens
    # also windows of this buffer after the cursor, which it cannot see otherwise. Off by
    # default: in two `bench accept` runs it changed chars saved by -3.1 and +4.9 per 100 keys
    # (noise) and made shown suggestions slower (p50 8 -> 82 and 62 -> 77 ms): no win shown.
    retrieval: bool = False
    # Give the user's last few edits elsewhere (other files, or away from the cursor), as small
    # before/after snippets. Off by default: no bench here replays edits made elsewhere, so
    # nothing has shown yet that they earn their tokens.
    recent_edits: bool = False
    budget_tokens: int = ranged(384, 0, 8192)  # most tokens of context placed before the code
    extra_roots: list[str] = field(default_factory=list)  # folders indexed besides the workspace
    max_file_bytes: int = ranged(1_000_000, positive=True)  # larger files (bytes) are never read

    def __post_init__(self) -> None:
        super().__post_init__()
        self.extra_roots = [os.path.expanduser(root) for root in self.extra_roots]


@dataclass(kw_only=True)
class NextEditConfig(Section):
    """Next-edit suggestions: the edit that should follow the one the user just made."""

    section: ClassVar[str] = "next_edit"

    # Suggest the edit that should follow the one just made (a rename carried to the next
    # occurrence, an argument added to the next call), found without a model (see `model`).
    enable: bool = True
    # After propagation (no model) found nothing: ask "local" (the embedded model), "remote"
    # (remote.base_url, so code leaves the machine) or no model at all ("off").
    model: NextEditModel = "off"
    # Edits below this confidence are never returned (propagation's scores are calibrated on
    # `pairline bench nextedit`: at 0.5, 0.83 of those shown are right).
    min_confidence: float = ranged(0.5, 0.0, 1.0)
    max_edits: int = ranged(3, 1, 10)  # alternatives returned per request, best first


@dataclass(kw_only=True)
class Settings:
    """Everything a user can set."""

    model: ModelConfig = field(default_factory=ModelConfig)
    completion: CompletionConfig = field(default_factory=CompletionConfig)
    remote: RemoteConfig = field(default_factory=RemoteConfig)
    completion_remote: CompletionRemoteConfig = field(default_factory=CompletionRemoteConfig)
    actions: ActionsConfig = field(default_factory=ActionsConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    next_edit: NextEditConfig = field(default_factory=NextEditConfig)
    cache_dir: str = ""  # where models and caches are kept; empty: the platform's user cache dir

    def __post_init__(self) -> None:
        if self.cache_dir:
            self.cache_dir = os.path.expanduser(self.cache_dir)

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir or platformdirs.user_cache_dir("pairline"))


# --- Structuring (the converter lives in config_base) ------------------------------------


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
            values[name] = converter().structure(value, types[name])
        except Exception as exc:  # cattrs and __post_init__ both raise; report either
            problems.append(
                f"invalid {name} settings ({'; '.join(faults(exc, name))}); using defaults"
            )
    return Settings(**values), problems


def dump_settings(settings: Settings) -> dict[str, Any]:
    """Plain-dict form of `settings` (for logs and `pairline doctor`)."""
    result: dict[str, Any] = converter().unstructure(settings)
    return result
