"""A loopback HTTP server that speaks as much of the Hugging Face hub as huggingface_hub uses.

Point `HF_ENDPOINT` (or the `endpoint` argument) at `FakeHub.url`. It answers what
`hf_hub_download` and `HfApi.list_repo_files` ask for: `HEAD`/`GET
/{repo}/resolve/{revision}/{file}` with the hub's headers (`X-Repo-Commit`, `ETag` and
`X-Linked-Etag` = the file's sha256 as for LFS files, `X-Linked-Size`), `Range` requests
answered with 206, 404s with the hub's `X-Error-Code`, and `GET /api/models/{repo}/tree/{rev}`.
Faults on request: drop the connection part-way through the first transfer, or serve bytes
that differ from the sha256 it advertises. Every request is recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "4f1c2a3b5d6e7f8091a2b3c4d5e6f708192a3b4c"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_TREE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/?]+)")
_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    # Computed here, not with pairline's own function: the server is the test's oracle.
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass
class Request:
    method: str
    path: str
    range: str | None


@dataclass
class FakeHub:
    files: dict[tuple[str, str], Path] = field(default_factory=dict)
    drop_at: int | None = None  # the first GET of a file ends after this many bytes
    corrupt: bool = False  # serve a byte that differs from what the sha256 says
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    _sha: dict[Path, str] = field(default_factory=dict)
    _dropped: bool = False

    def add(self, repo: str, file: str, path: Path) -> None:
        self.files[repo, file] = path
        self._sha[path] = sha256_of(path)

    def sha256(self, repo: str, file: str) -> str:
        return self._sha[self.files[repo, file]]

    def gets(self) -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and "/resolve/" in r.path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: FakeHub

    def log_message(self, format: str, *args: object) -> None:  # quiet in tests
        pass

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        hub = self.hub
        hub.requests.append(Request(self.command, self.path, self.headers.get("Range")))
        if tree := _TREE.match(self.path):
            self._tree(tree["repo"])
            return
        match = _RESOLVE.match(self.path.split("?")[0])
        if match is None:
            self._error(404, "RepoNotFound")
            return
        repo, file = match["repo"], match["file"]
        if not any(r == repo for r, _ in hub.files):
            self._error(404, "RepoNotFound")
            return
        path = hub.files.get((repo, file))
        if path is None:
            self._error(404, "EntryNotFound")
            return
        self._file(path, hub.sha256(repo, file), body=body)

    def _error(self, status: int, code: str) -> None:
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _tree(self, repo: str) -> None:
        entries = [
            {"type": "file", "path": file, "size": path.stat().st_size, "oid": COMMIT}
            for (r, file), path in self.hub.files.items()
            if r == repo
        ]
        if not entries:
            self._error(404, "RepoNotFound")
            return
        data = json.dumps(entries).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _file(self, path: Path, sha: str, *, body: bool) -> None:
        size = path.stat().st_size
        start = 0
        ranged = self.headers.get("Range")
        if ranged and (m := re.fullmatch(r"bytes=(\d+)-", ranged)):
            start = int(m[1])
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{sha}"')
        self.send_header("X-Linked-Etag", f'"{sha}"')
        self.send_header("X-Linked-Size", str(size))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(size - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        if body:
            self._send(path, start, size)

    def _send(self, path: Path, start: int, size: int) -> None:
        hub = self.hub
        stop = size
        drop = hub.drop_at is not None and not hub._dropped and start == 0
        if drop:
            assert hub.drop_at is not None
            hub._dropped = True
            stop = hub.drop_at
        flip = size // 2 if hub.corrupt else -1
        with path.open("rb") as handle:
            handle.seek(start)
            position = start
            while position < stop:
                chunk = bytearray(handle.read(min(_CHUNK, stop - position)))
                if position <= flip < position + len(chunk):
                    chunk[flip - position] ^= 0xFF
                self.wfile.write(chunk)
                position += len(chunk)
        if drop:
            # The connection ends with the body half sent, as a network failure would end it.
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up mid-transfer (a cancelled download) is expected here


@contextmanager
def running_hub(hub: FakeHub) -> Iterator[FakeHub]:
    handler = type("Handler", (_Handler,), {"hub": hub})
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
