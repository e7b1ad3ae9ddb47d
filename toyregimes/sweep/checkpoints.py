"""Checkpoints of a sweep: one file per finished chunk, so an interrupted sweep resumes losslessly.

A store is a directory (the CLI uses ``<out>.chunks/`` beside ``--out``)::

    manifest.json        format, version, and the fingerprint: SHA-256 of the canonical JSON of every
                         input that affects results (toy spec, elr and k values as exact reprs, seeds,
                         steps, tail, constraint, lyapunov, criteria, record_states, package version and
                         a hash of the kernels' source) and of the chunk layout (chunk_size, n_points); the
                         inputs themselves are kept too, to say what changed
    chunk-000000.npz     the raw arrays of one finished chunk (numpy .npz, read with allow_pickle=False)
                         and ``_meta``: the fingerprint, the chunk's index and point range, and the SHA-256
                         of its arrays

Every file is written to a temporary name in the directory, flushed to disk, then moved into place
with ``os.replace``: a chunk file is either complete or absent, so a crash (SIGKILL, power loss,
Ctrl-C) loses at most the chunks in flight.  Leftover temporary files (``.chunk-*.tmp``) are ignored.

Locking: a sweep holds ``lock`` (created with ``O_CREAT | O_EXCL``, holding the JSON of its pid, host and
start time) while it works in the store, so two sweeps never compute and write the same chunks.  A second
sweep on the same store refuses with ``ValueError`` naming the holder; a lock left by a dead process on
this host (``kill -9``, power loss) is taken over.  Removing the store renames it away first, so the lock
and the chunks vanish together.

Policy on bad files: opening a store whose fingerprint differs raises ``ValueError`` listing what
changed.  A chunk file that cannot be read, fails its checksum, carries another sweep's fingerprint or
sits under another chunk's name also raises ``ValueError`` naming the file, before anything is
computed: it is never merged and never silently replaced.  Since our own writes are atomic, such a
file means something a person should look at (a disk error, files copied between stores); deleting
it recomputes that chunk.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import time
from pathlib import Path

import numpy as np

__all__ = ["ChunkStore", "fingerprint", "checksum", "FORMAT", "VERSION"]

FORMAT = "toyregimes-sweep-chunks"
VERSION = 1
MANIFEST = "manifest.json"
LOCK = "lock"
_CHUNK = re.compile(r"chunk-(\d+)\.npz")


def fingerprint(params: dict) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no whitespace) of ``params``."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def checksum(arrays: dict) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes (C order) of ``arrays``, in sorted name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not supported on this platform: the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _flatten(params, prefix=""):
    out = {}
    for key, val in params.items():
        name = f"{prefix}{key}"
        if isinstance(val, dict):
            out.update(_flatten(val, name + "."))
        else:
            out[name] = val
    return out


def _describe_changes(old, new) -> str:
    if not isinstance(old, dict):
        return "its manifest has no readable parameter record"
    old, new = _flatten(old), _flatten(new)
    parts = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if a == b:
            continue
        sa, sb = json.dumps(a), json.dumps(b)
        parts.append(f"{key}: {sa} -> {sb}" if len(sa) + len(sb) <= 80 else f"{key} differs")
    return "; ".join(parts) or "same parameters, different fingerprint"


class ChunkStore:
    """A directory of finished chunks of one sweep (see the module docstring for the format).

    ``open`` is called by :func:`toyregimes.sweep` with the sweep's parameters; afterwards ``resumed``
    lists the chunks found complete and ``computed`` the chunks this process wrote.

    Example: ``store = ChunkStore("sweep.nc.chunks"); ds = sweep(toy, k=k, checkpoint=store)``.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.locked = False
        self._token = None
        self.fingerprint = None
        self.layout = []
        self.spec = {}
        self.resumed = []
        self.computed = []

    def __repr__(self) -> str:
        return f"ChunkStore({str(self.path)!r})"

    @property
    def n_chunks(self) -> int:
        return len(self.layout)

    def chunk_path(self, index: int) -> Path:
        return self.path / f"chunk-{index:06d}.npz"

    # ------------------------------------------------------------------ opening
    def open(self, params: dict, layout, spec: dict) -> dict:
        """Create the store, or check that it belongs to the sweep described by ``params``.

        Parameters
        ----------
        params : dict
            Canonical JSON record of every input that affects results and of the chunk layout.
        layout : list of (lo, hi)
            Point range of every chunk.
        spec : dict of name -> (dtype, trailing shape)
            The arrays every chunk must hold (leading dimension ``hi - lo``).

        Returns
        -------
        dict of index -> dict of arrays
            The finished chunks, each verified.  Raises ``ValueError`` naming the directory or file if
            the store belongs to another sweep or a chunk file is corrupt or foreign.
        """
        self.fingerprint = fingerprint(params)
        self.layout = [(int(lo), int(hi)) for lo, hi in layout]
        self.spec = {name: (np.dtype(dt), tuple(shape)) for name, (dt, shape) in spec.items()}
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"checkpoint {self.path} exists and is not a directory; use a new --out or delete it")
        try:
            self.path.mkdir(exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot create checkpoint directory {self.path} ({exc})") from None
        manifest = self.path / MANIFEST
        if manifest.exists():
            self._check_manifest(manifest, params)
        else:
            others = sorted(p.name for p in self.path.iterdir() if not _is_temp(p.name) and p.name != LOCK)
            if others:
                raise ValueError(
                    f"checkpoint {self.path} has no {MANIFEST} but holds {others[:3]}: it is not a toyregimes "
                    f"chunk store; use a new --out or delete {self.path}"
                )
            record = {"format": FORMAT, "version": VERSION, "fingerprint": self.fingerprint,
                      "n_chunks": self.n_chunks, "params": params}
            text = json.dumps(record, sort_keys=True, indent=1).encode()
            _atomic_write(manifest, lambda fh: fh.write(text))
        found = {}
        for path in sorted(self.path.iterdir()):
            match = _CHUNK.fullmatch(path.name)
            if match is None:
                continue  # the manifest, temporary files of an interrupted write, unrelated files
            index = int(match.group(1))
            if index >= self.n_chunks or path.name != self.chunk_path(index).name:
                raise ValueError(
                    f"chunk file {path} does not belong to this sweep's layout of {self.n_chunks} chunks; "
                    "it is never merged: delete it"
                )
            found[index] = self._read(path, index)
        self.resumed = sorted(found)
        self.computed = []
        return found

    def _check_manifest(self, manifest: Path, params: dict) -> None:
        try:
            record = json.loads(manifest.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{manifest} is not readable ({exc}); delete {self.path} to start over") from None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise ValueError(
                f"{manifest} is not a toyregimes chunk store manifest; use a new --out or delete {self.path}"
            )
        if record.get("version") != VERSION:
            raise ValueError(
                f"checkpoint {self.path} has chunk store format version {record.get('version')!r}, this toyregimes "
                f"reads version {VERSION}; use a new --out or delete {self.path}"
            )
        old = record.get("params")
        try:
            consistent = isinstance(old, dict) and fingerprint(old) == record.get("fingerprint")
        except (TypeError, ValueError):
            consistent = False
        if not consistent:
            raise ValueError(f"{manifest} is corrupt (its fingerprint does not match its parameters); "
                             f"delete {self.path} to start over")
        if record["fingerprint"] != self.fingerprint:
            raise ValueError(
                f"checkpoint {self.path} was started with different parameters ({_describe_changes(old, params)}); "
                f"use a new --out or delete {self.path}"
            )

    def _read(self, path: Path, index: int) -> dict:
        where = f"chunk file {path}"
        remedy = "it is never merged: delete it to recompute that chunk"
        try:
            with open(path, "rb") as fh:  # our handle: closed even when numpy fails half-way
                archive = np.load(fh, allow_pickle=False)
                if not isinstance(archive, np.lib.npyio.NpzFile):
                    raise ValueError("not an .npz archive")
                with archive:
                    data = {name: archive[name] for name in archive.files}
        except Exception as exc:  # any failure to read is a corrupt file, whatever numpy/zipfile raised
            detail = f"{type(exc).__name__}: {exc}"
            raise ValueError(f"{where} is corrupt or not a chunk file ({detail}); {remedy}") from None
        raw = data.pop("_meta", None)
        meta = None
        if raw is not None and raw.dtype == np.uint8 and raw.ndim == 1:
            try:
                meta = json.loads(raw.tobytes().decode())
            except (UnicodeDecodeError, ValueError):
                meta = None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{where} has no readable toyregimes chunk metadata; {remedy}")
        if meta.get("fingerprint") != self.fingerprint:
            raise ValueError(
                f"{where} belongs to a different sweep (fingerprint {str(meta.get('fingerprint'))[:12]}..., "
                f"this sweep {self.fingerprint[:12]}...); {remedy}"
            )
        lo, hi = self.layout[index]
        if (meta.get("index"), meta.get("lo"), meta.get("hi")) != (index, lo, hi):
            raise ValueError(
                f"{where} holds chunk {meta.get('index')} (points {meta.get('lo')}..{meta.get('hi')}), not chunk "
                f"{index} (points {lo}..{hi}); {remedy}"
            )
        if checksum(data) != meta.get("sha256"):
            raise ValueError(f"{where} is corrupt: its arrays do not match their checksum; {remedy}")
        self._check_arrays(where, data, hi - lo)
        return data

    def _check_arrays(self, where: str, data: dict, n: int) -> None:
        if set(data) != set(self.spec):
            raise ValueError(f"{where} holds arrays {sorted(data)}, expected {sorted(self.spec)}")
        for name, (dtype, shape) in self.spec.items():
            a = data[name]
            if a.dtype != dtype or a.shape != (n, *shape):
                raise ValueError(
                    f"{where}: array {name!r} is {a.dtype}{list(a.shape)}, expected {dtype}{[n, *shape]}"
                )

    # ------------------------------------------------------------------ writing
    def write(self, index: int, arrays: dict) -> Path:
        """Write chunk ``index`` atomically with its metadata and checksum; record it in ``computed``."""
        if self.fingerprint is None:
            raise ValueError("open the store before writing chunks")
        lo, hi = self.layout[index]
        arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
        self._check_arrays(f"chunk {index}", arrays, hi - lo)
        meta = {"format": FORMAT, "version": VERSION, "fingerprint": self.fingerprint, "index": index,
                "lo": lo, "hi": hi, "sha256": checksum(arrays)}
        payload = dict(arrays)
        payload["_meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
        path = self.chunk_path(index)
        _atomic_write(path, lambda fh: np.savez(fh, **payload))
        self.computed.append(index)
        return path

    def remove(self) -> None:
        """Delete the store (after its sweep's result has been written), lock included.

        The directory is first renamed to a unique name (atomic), so another sweep never sees it half
        deleted: without its lock but still with chunks, or without its manifest.
        """
        doomed = self.path.with_name(f".{self.path.name}.{os.getpid()}.{time.monotonic_ns()}.removed")
        os.replace(self.path, doomed)
        self.locked = False
        shutil.rmtree(doomed)

    # ------------------------------------------------------------------ locking
    def lock(self) -> None:
        """Take the store's lock (creating the directory), or raise ``ValueError`` naming the holder.

        A lock whose process is gone (same host, pid not running) is stale and taken over.  Example::

            store.lock()
            try: ...
            finally: store.unlock()
        """
        if self.locked:
            return
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"checkpoint {self.path} exists and is not a directory; use a new --out or delete it")
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
              "token": f"{os.getpid()}-{time.monotonic_ns()}"}
        lock = self.path / LOCK
        for _ in range(20):  # each retry follows a stale lock taken over or a store removed under us
            try:
                self.path.mkdir(parents=False, exist_ok=True)
            except OSError as exc:
                raise ValueError(f"cannot create checkpoint directory {self.path} ({exc.strerror or exc})") from None
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = _read_lock(lock)
                if holder is not None and _is_stale(holder):
                    _take_over(lock, holder)
                    continue
                if holder is None:  # being written this instant, or removed: look again
                    time.sleep(0.05)
                    continue
                raise ValueError(
                    f"checkpoint {self.path} is in use by another sweep (pid {holder.get('pid')} on host "
                    f"{holder.get('host')}, started {holder.get('started')}); wait for it to finish, or if that "
                    f"process is gone, delete {lock}"
                ) from None
            except FileNotFoundError:  # the store was removed between mkdir and open: start again
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            if _read_lock(lock) == me:  # another process taking over a 'stale' lock may have replaced ours
                self.locked = True
                self._token = me["token"]
                return
        raise ValueError(f"could not take the lock of checkpoint {self.path}: {lock} stays unreadable or keeps "
                         "changing; if no other sweep is running on this output, delete it")

    def unlock(self) -> None:
        """Release the lock if this store holds it (a store already removed has nothing to release)."""
        if not self.locked:
            return
        self.locked = False
        lock = self.path / LOCK
        holder = _read_lock(lock)
        if holder is not None and holder.get("token") == self._token:
            lock.unlink(missing_ok=True)
        try:  # a store that never got a manifest (the sweep stopped before starting) leaves nothing behind
            self.path.rmdir()
        except OSError:  # not empty (chunks to resume), or already gone
            pass


def _read_lock(lock: Path):
    try:
        record = json.loads(lock.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _is_stale(holder: dict) -> bool:
    """True if the lock's process is known to be gone: same host and no process with its pid."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False  # another machine's process: it cannot be checked from here, so it is respected
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def _take_over(lock: Path, holder: dict) -> None:
    """Remove a stale lock, unless it changed since it was read (then another process took it over)."""
    if _read_lock(lock) == holder:
        lock.unlink(missing_ok=True)
