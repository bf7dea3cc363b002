"""Lake: a thin fsspec wrapper whose writes are atomic (write to a temporary name, then rename/put)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

ZONES = ("raw", "staged", "published")
# Temporary files of running steps (local lakes: inside the lake, so finished files move into place by rename).
SCRATCH = "ops/tmp"


class LakeError(Exception):
    """A lake path that cannot be used (missing, unreadable, not a directory)."""


class Lake:
    """A root URL (`./data/lake`, `file:///…`, `s3://bucket/prefix`) and atomic file operations under it.

    Paths passed to methods are relative to the root and always use `/`.
    """

    def __init__(self, url: str | os.PathLike[str]) -> None:
        url = os.fspath(url)
        self.fs, root = fsspec.core.url_to_fs(url, **_storage_options(url))
        self.is_local = isinstance(self.fs, LocalFileSystem)
        self.root = str(Path(root).resolve()) if self.is_local else root.rstrip("/")
        self.url = self.root if self.is_local else f"{self.fs.protocol[0] if isinstance(self.fs.protocol, tuple) else self.fs.protocol}://{self.root}"

    def __repr__(self) -> str:
        return f"Lake({self.url!r})"

    # -- paths -------------------------------------------------------------------------------
    def path(self, relpath: str = "") -> str:
        """The filesystem path of `relpath` (what `self.fs` understands)."""
        return f"{self.root}/{relpath}".rstrip("/") if relpath else self.root

    def uri(self, relpath: str = "") -> str:
        """A URL for `relpath` that DuckDB, pyarrow and users can open (a plain path when local)."""
        if self.is_local:
            return self.path(relpath)
        return f"{self.url}/{relpath}".rstrip("/") if relpath else self.url

    def relative(self, path: str) -> str:
        """`relpath` of an absolute path returned by `glob`/`find`."""
        path = path.split("://", 1)[-1]
        root = self.root.split("://", 1)[-1]
        return path[len(root) :].lstrip("/")

    # -- reading -----------------------------------------------------------------------------
    def exists(self, relpath: str) -> bool:
        return self.fs.exists(self.path(relpath))

    def glob(self, pattern: str) -> list[str]:
        """Relative paths matching `pattern`, sorted, hidden/temporary files left out."""
        found = self.fs.glob(self.path(pattern))
        rels = [self.relative(p) for p in found]
        return sorted(r for r in rels if not _is_hidden(r))

    def read_bytes(self, relpath: str) -> bytes:
        try:
            return self.fs.cat_file(self.path(relpath))
        except FileNotFoundError as e:
            raise LakeError(f"{self.uri(relpath)}: no such file in the lake") from e

    def require(self) -> None:
        """Fail with a one-line LakeError if the lake root does not exist."""
        if not self.fs.exists(self.root):
            raise LakeError(f"lake not found at {self.uri()} (set CRYPTOPULSE_LAKE or run `cryptopulse generate`)")

    # -- atomic writing ----------------------------------------------------------------------
    def write_bytes(self, relpath: str, data: bytes) -> None:
        """Write `data` to `relpath` atomically: readers see the old file or the new one, never half."""
        with self.writing(relpath) as local:
            Path(local).write_bytes(data)

    @contextlib.contextmanager
    def writing(self, relpath: str) -> Iterator[str]:
        """Yield a local temporary path; on success it becomes `relpath` in one atomic step.

        Locally the temporary file sits in the lake's scratch folder (same filesystem) and is renamed
        over the target; on object stores the finished file is uploaded in one PUT. On error the
        temporary file is removed and the target is untouched; a killed writer's file is removed by
        `remove_stale_scratch`.
        """
        if self.is_local:
            target = Path(self.path(relpath))
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.scratch_root() / f"write.{_owner()}.{uuid.uuid4().hex[:12]}"
            try:
                yield str(tmp)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        else:
            with self.scratch("write") as tmpdir:
                tmp = str(tmpdir / Path(relpath).name)
                yield tmp
                self.fs.put_file(tmp, self.path(relpath))

    def scratch_root(self) -> Path:
        """Where this lake's temporary files go: `ops/tmp` inside a local lake, else a folder in the system temp."""
        root = Path(self.path(SCRATCH)) if self.is_local else Path(tempfile.gettempdir()) / "cryptopulse-scratch"
        root.mkdir(parents=True, exist_ok=True)
        return root

    @contextlib.contextmanager
    def scratch(self, purpose: str) -> Iterator[Path]:
        """A fresh local folder for a step's temporary files, removed when the step ends (or by the next run if killed)."""
        path = Path(tempfile.mkdtemp(prefix=f"{purpose}.{_owner()}.", dir=self.scratch_root()))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def remove_stale_scratch(self) -> list[str]:
        """Remove the temporary files and folders that ended processes of this host left behind; return their names."""
        removed = []
        for entry in sorted(self.scratch_root().iterdir()):
            if not _owner_ended(entry.name):
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry.name)
        return removed

    def move(self, src: str, dst: str) -> None:
        """Move `src` over `dst` (an atomic rename locally; a server-side copy then delete on S3)."""
        if self.is_local:
            target = Path(self.path(dst))
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.path(src), target)
        else:
            self.fs.copy(self.path(src), self.path(dst))
            self.fs.rm(self.path(src))

    def remove(self, relpath: str, recursive: bool = False) -> None:
        if self.fs.exists(self.path(relpath)):
            self.fs.rm(self.path(relpath), recursive=recursive)

    def makedirs(self, relpath: str) -> None:
        if self.is_local:
            Path(self.path(relpath)).mkdir(parents=True, exist_ok=True)


def _storage_options(url: str) -> dict[str, object]:
    """S3: the endpoint from AWS_ENDPOINT_URL (S3-compatible servers), and no cached listings, since other
    processes (Airflow tasks, a second run) change the bucket and a stale listing would skip or resurrect files."""
    if not url.startswith(("s3://", "s3a://")):
        return {}
    options: dict[str, object] = {"use_listings_cache": False}
    if os.environ.get("AWS_ENDPOINT_URL"):
        options["endpoint_url"] = os.environ["AWS_ENDPOINT_URL"]
    return options


def _owner() -> str:
    """`host.pid` of this process, as scratch names carry it (`<purpose>.<host>.<pid>.<random>`)."""
    return f"{socket.gethostname()}.{os.getpid()}"


def _owner_ended(name: str) -> bool:
    """True if the scratch entry `name` belongs to a process of this host that no longer runs."""
    parts = name.split(".")
    if len(parts) < 4 or not parts[-2].isdigit() or ".".join(parts[1:-2]) != socket.gethostname():
        return False
    try:
        os.kill(int(parts[-2]), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def _is_hidden(relpath: str) -> bool:
    return any(part.startswith((".", "_")) for part in relpath.split("/"))
