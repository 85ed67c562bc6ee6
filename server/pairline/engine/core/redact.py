"""Secrets never leave the machine: redaction of everything sent to a remote model.

Before a request body goes to a remote server, every string in it is scanned for private key
blocks, well-known token shapes (AWS access key ids, GitHub, OpenAI/Anthropic, Slack, Google,
Stripe keys), credentials in URLs and quoted values assigned to names such as `password` or
`api_key`. Each secret is replaced by a placeholder (`REDACTED_SECRET_1`), and the placeholders
in the model's answer are put back to the original text, so an edit to a function that holds a
secret does not replace the secret with a placeholder in the user's file.

Files whose whole purpose is to hold secrets (`.env*`, key files, `.netrc`, …) are never sent
at all: `is_secret_file` names them; the code-action loop refuses them for remote models, and
the context index and buffer windows never read them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

# Whole-match patterns: everything the match covers is secret.
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
    re.S,
)
_TOKENS = re.compile(
    "|".join(
        (
            r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",  # AWS ids
            r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",  # GitHub tokens
            r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b",  # GitHub fine-grained tokens
            r"\bsk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_]{20,}",  # OpenAI, Anthropic (sk-ant-…)
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
            r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API keys
            r"\b(?:sk|rk)_live_[0-9A-Za-z]{16,}\b",  # Stripe
            r"\bglpat-[0-9A-Za-z_-]{20,}\b",  # GitLab
            r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
            r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",  # JWTs
        )
    )
)
# Group-2 patterns: only the value is secret; the name around it stays, so the code still reads.
_NAMES = r"[A-Za-z0-9_.-]*(?:secret|passw(?:or)?d|passwd|token|api[_-]?key|access[_-]?key|private[_-]?key|auth|credential)[A-Za-z0-9_.-]*"  # noqa: E501
_ASSIGNED = re.compile(
    # `password = "hunter2-hunter2"`, `"apiKey": 'abc…'`, `API_TOKEN: "…"` (quoted literals).
    rf"""(?i)(?P<pre>["']?{_NAMES}["']?\s*(?::=|=>|[:=])\s*[rbf]?(?P<q>["']))"""
    rf"""(?P<val>[^"'\s]{{8,}})(?P<post>(?P=q))"""
)
_ENV_NAMES = r"[A-Z0-9_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|AUTH|CREDENTIAL)[A-Z0-9_]*"  # noqa: E501
_ENV_LINE = re.compile(
    # `.env` style lines: `export AWS_SECRET_ACCESS_KEY=abc…` (unquoted, upper-case name, at a
    # line start); case matters, so `token = get_token()` in code is left alone.
    rf"""(?m)^(?P<pre>[ \t]*(?:export[ \t]+)?{_ENV_NAMES}[ \t]*=[ \t]*)"""
    rf"""(?P<val>[^\s"'#()]{{8,}})(?P<post>)(?=\s|$)"""
)
_URL_PASSWORD = re.compile(
    r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)(?P<val>[^\s@/]{3,})(?P<post>@)"
)

# Files that exist to hold secrets, by name alone (case-insensitive globs). The one list for
# every reader: the file index never opens them, buffer windows never quote them and code
# actions never send them to a remote model.
SECRET_FILE_PATTERNS = (
    ".env*",  # dotenv files and variants: .env, .env.local, .envrc
    "*.env",
    "*.pem",  # keys and keystores
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "*.asc",
    "*.gpg",
    "id_rsa*",  # ssh keys, public halves included
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*credential*",  # credentials.json, .git-credentials
    "*secret*",  # secrets.yaml, client_secret.json
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".htpasswd",
)
_SECRET_FILES = re.compile("|".join(fnmatch.translate(p) for p in SECRET_FILE_PATTERNS))


def is_secret_file(name: str) -> bool:
    """Whether a file, by its name (or path), exists to hold secrets: never read, never sent."""
    base = PurePath(name).name.lower()
    return bool(base) and _SECRET_FILES.match(base) is not None


@dataclass
class Redactor:
    """Replaces secrets with numbered placeholders, and puts them back in an answer."""

    _by_secret: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many distinct secrets were redacted."""
        return len(self._by_secret)

    def _placeholder(self, secret: str) -> str:
        found = self._by_secret.get(secret)
        if found is None:
            found = f"REDACTED_SECRET_{len(self._by_secret) + 1}"
            self._by_secret[secret] = found
        return found

    def text(self, text: str) -> str:
        """`text` with every secret replaced by its placeholder."""
        text = _PRIVATE_KEY.sub(lambda m: self._placeholder(m.group(0)), text)
        text = _TOKENS.sub(lambda m: self._placeholder(m.group(0)), text)
        for pattern in (_ASSIGNED, _ENV_LINE, _URL_PASSWORD):
            text = pattern.sub(self._keep_name, text)
        return text

    def _keep_name(self, match: re.Match[str]) -> str:
        value = match.group("val")
        if value.startswith("REDACTED_SECRET_"):
            return match.group(0)  # already redacted by an earlier pattern
        return match.group("pre") + self._placeholder(value) + match.group("post")

    def value(self, data: Any) -> Any:
        """A JSON-like value with every string in it redacted (keys are kept as they are)."""
        return _walk(data, self.text)

    def restore(self, text: str) -> str:
        """Put the original secrets back where an answer repeats their placeholders."""
        # Longest placeholder first: REDACTED_SECRET_12 must not be read as …_1 followed by "2".
        for secret, placeholder in sorted(self._by_secret.items(), key=lambda item: -len(item[1])):
            text = text.replace(placeholder, secret)
        return text


def _walk(data: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(data, str):
        return fn(data)
    if isinstance(data, dict):
        return {key: _walk(value, fn) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_walk(value, fn) for value in data]
    return data
