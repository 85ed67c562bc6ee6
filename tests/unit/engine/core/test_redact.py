"""Secret redaction: planted secrets are replaced before sending and put back in the answer."""

from __future__ import annotations

import threading

import pytest

from pairline.engine.actions import fix
from pairline.engine.actions.verify import Verdict
from pairline.engine.backends.edit import GREEDY, EditPrompt, Sampling
from pairline.engine.backends.openai_compat import OpenAICompatBackend
from pairline.engine.core.config import RemoteConfig
from pairline.engine.core.redact import Redactor, is_secret_file
from pairline.engine.core.types import EngineError
from tests.unit.engine.backends.test_remote import FaultServer, openai_chunks, sse

# Planted secrets, each in a shape the redactor must recognise (none is a real credential).
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "x1Y2z3" * 6
OPENAI = "sk-proj-" + "Abc123Def456Ghi789Jkl0"
ANTHROPIC = "sk-ant-api03-" + "Q" * 30
SLACK = "xoxb-" + "1234567890-abcdefghij"
GOOGLE = "AIza" + "S" * 35
PASSWORD = "correct-horse-battery"
DB_PASSWORD = "pgPassw0rd"
ENV_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PEM = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----"
)

SOURCE = f"""import os

AWS_KEY_ID = "{AWS_ID}"
client = Github("{GITHUB}")
openai.api_key = '{OPENAI}'
anthropic = Anthropic(api_key="{ANTHROPIC}")
slack = "{SLACK}"
maps = "{GOOGLE}"
password = "{PASSWORD}"
DSN = "postgres://app:{DB_PASSWORD}@db.internal:5432/app"
KEY = \"\"\"{PEM}\"\"\"


def total(values):
    return sum(values)
"""
ENV_FILE = f"export AWS_SECRET_ACCESS_KEY={ENV_SECRET}\nDEBUG=true\n"
PLANTED = (AWS_ID, GITHUB, OPENAI, ANTHROPIC, SLACK, GOOGLE, PASSWORD, DB_PASSWORD, ENV_SECRET)


def test_every_planted_secret_is_replaced_and_restored() -> None:
    redactor = Redactor()
    sent = redactor.text(SOURCE)
    for secret in (*PLANTED[:-1], "b3BlbnNzaC1rZXktdjEAAAAA"):
        assert secret not in sent
    assert "PRIVATE KEY" not in sent
    # The code around the secrets is kept: the model still sees what to fix.
    assert "def total(values):\n    return sum(values)" in sent
    assert "password = " in sent and "postgres://app:" in sent
    assert redactor.count == 9  # eight secrets and the key block
    assert redactor.restore(sent) == SOURCE


def test_env_style_lines_are_redacted() -> None:
    redactor = Redactor()
    sent = redactor.text(ENV_FILE)
    assert ENV_SECRET not in sent
    assert "DEBUG=true" in sent
    assert redactor.restore(sent) == ENV_FILE


@pytest.mark.parametrize(
    "code",
    [
        "token = get_token()\n",
        "password = input('password: ')\n",
        "api_key = os.environ['OPENAI_API_KEY']\n",
        "def tokenize(text):\n    return text.split()\n",
        "url = 'https://example.com/path'\n",
        "skip = 'sk-short'\n",
    ],
)
def test_ordinary_code_is_left_alone(code: str) -> None:
    redactor = Redactor()
    assert redactor.text(code) == code
    assert redactor.count == 0


def test_same_secret_same_placeholder_and_many_placeholders_restore() -> None:
    redactor = Redactor()
    tokens = [f"ghp_{i:02d}" + "a" * 36 for i in range(12)]
    text = " ".join(tokens + tokens[:1])
    sent = redactor.text(text)
    assert sent.split()[0] == sent.split()[-1]
    assert redactor.count == 12
    # REDACTED_SECRET_12 must not be restored as secret 1 followed by "2".
    assert redactor.restore(sent) == text


def test_json_values_are_redacted_keys_kept() -> None:
    redactor = Redactor()
    body = {"model": "m", "messages": [{"role": "user", "content": f"x = '{OPENAI}'"}], "n": 1}
    sent = redactor.value(body)
    assert OPENAI not in str(sent)
    assert sent["model"] == "m" and sent["n"] == 1 and sent["messages"][0]["role"] == "user"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        (".env", True),
        (".env.local", True),
        ("prod.env", True),
        (".envrc", True),
        ("id_rsa", True),
        ("id_ed25519.pub", True),
        ("server.pem", True),
        ("tls.key", True),
        (".netrc", True),
        (".npmrc", True),
        ("credentials", True),
        ("secrets.yaml", True),
        ("/home/u/project/.env.production", True),
        ("app.py", False),
        ("environment.py", False),
        ("keys.py", False),
        ("README.md", False),
    ],
)
def test_secret_files_by_name(name: str, secret: bool) -> None:
    assert is_secret_file(name) is secret


# Examples of every pattern of the three lists that one list replaced: the file index's globs,
# the code-action guard's regular expression and the buffer windows' `.env` prefix. Each must
# still be a secret file: merging the lists may only widen what is protected.
# fmt: off
FORMER_SECRET_EXAMPLES = {
    "index": [
        ".env", ".env.local", "prod.env", "server.pem", "tls.key", "cert.p12", "cert.pfx",
        "store.jks", "app.keystore", "id_rsa", "id_rsa.pub", "id_dsa", "id_ecdsa.pub",
        "id_ed25519", "aws_credentials.py", "client_secret.json", ".netrc", ".npmrc", ".pypirc",
        ".htpasswd", "SERVER.PEM", ".ENV.local.py"
    ],
    "redact": [
        ".env", ".env.production", ".envrc", "prod.env", "server.pem", "tls.key", "cert.p12",
        "cert.pfx", "store.jks", "app.keystore", "putty.ppk", "public.asc", "backup.gpg",
        "id_rsa", "id_dsa.old", "id_ecdsa", "id_ed25519.pub", ".netrc", "_netrc", ".npmrc",
        ".pypirc", ".pgpass", ".git-credentials", "credentials", "credentials.json",
        "secret.json", "secrets.yaml", "secrets.yml", "secret.toml", "/srv/app/.env.production"
    ],
    "buffer windows": [
        ".env", ".envrc", ".env.local.py", ".environment.py"
    ],
}
# fmt: on


@pytest.mark.parametrize(
    "name",
    sorted({name for names in FORMER_SECRET_EXAMPLES.values() for name in names}),
)
def test_every_former_secret_pattern_is_still_covered(name: str) -> None:
    assert is_secret_file(name)


async def test_backend_sends_redacted_body_and_restores_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through a real loopback HTTP server: what arrives there holds no planted secret."""
    api_key = "sk-planted-" + "K" * 32
    monkeypatch.setenv("PAIRLINE_TEST_PLANTED_KEY", api_key)
    # The model answers with the placeholder it was given; the caller gets the secret back.
    # (The prompt's text is the first the redactor sees, so its numbering is the same here.)
    redacted = Redactor().text(SOURCE)
    placeholder = redacted.split('AWS_KEY_ID = "', 1)[1].split('"', 1)[0]
    reply = f'```python\nAWS_KEY_ID = "{placeholder}"\n```'
    server = FaultServer([sse(openai_chunks(reply))])
    await server.start()
    config = RemoteConfig(
        base_url=server.url, api_key_env="PAIRLINE_TEST_PLANTED_KEY", max_retries=0
    )
    backend = OpenAICompatBackend(config)
    try:
        prompt = EditPrompt(system="s", user=SOURCE, completion=SOURCE, stop=())
        answer = await backend.answer(prompt, threading.Event())
    finally:
        await backend.aclose()
        await server.stop()
    seen = server.seen[0]
    body = str(seen.body)
    for secret in PLANTED[:-1]:
        assert secret not in body
    assert "REDACTED_SECRET_" in body
    # The API key goes only where it belongs: the Authorization header.
    assert api_key not in body
    assert seen.headers["authorization"] == f"Bearer {api_key}"
    assert f'AWS_KEY_ID = "{AWS_ID}"' in answer


class _RecordingRemote:
    """An edit backend that only records what it was asked."""

    def __init__(self, where: str) -> None:
        self.asked: list[EditPrompt] = []
        self._where = where

    @property
    def name(self) -> str:
        return "recording"

    @property
    def where(self) -> str:
        return self._where

    async def answer(
        self, prompt: EditPrompt, cancel: threading.Event, sampling: Sampling = GREEDY
    ) -> str:
        self.asked.append(prompt)
        return "```\nDEBUG=false\n```"

    async def aclose(self) -> None:
        return None


class _AcceptAll:
    async def verify(
        self, language: str, rel_path: str | None, original: str, candidate: str
    ) -> Verdict:
        return Verdict(True, "parse", "ok")

    async def baseline(self, language: str, rel_path: str | None, original: str) -> None:
        return None  # no check command runs


async def test_secret_files_never_go_to_a_remote_model() -> None:
    request = fix.FixRequest(
        kind=fix.FIX, language="plaintext", text=ENV_FILE, region=fix.Region(0, 2), file_name=".env"
    )
    remote = _RecordingRemote("remote")
    with pytest.raises(EngineError, match="never sent to a remote model"):
        await fix.fix(request, remote, _AcceptAll(), 1)
    assert remote.asked == []
    # The local model may see it: nothing leaves the machine.
    local = _RecordingRemote("local")
    result = await fix.fix(request, local, _AcceptAll(), 1)
    assert len(local.asked) == 1 and result.verified
