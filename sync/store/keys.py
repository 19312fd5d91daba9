"""The store key: made at enrolment, kept in the OS keyring or wrapped by the password.

Every enrolled store is an SQLCipher file under a random 256-bit key (a *raw* key: no
passphrase derivation on each open). Where that key lives is written in a small JSON file beside
the store, ``<store>.key``, which holds no secret of its own:

- ``home = "keyring"``: the key is in the OS keyring (Windows Credential Manager, the Secret
  Service on UOS/Kylin desktops, macOS Keychain) under service ``gridroom``, user
  ``store-key#<store_id>``. Nothing on disk opens the store.
- ``home = "password"``: no usable keyring (see :func:`keyring_backend`; ``keyrings.alt`` file
  backends are refused). The key is wrapped — AES-256-GCM under a key derived from the user's
  password with scrypt — and only the wrapped copy is on disk. Optionally a second copy is
  wrapped by a short PIN for quick unlock on a shared PC; after :data:`PIN_ATTEMPTS` wrong PINs
  that copy is deleted and the password is needed again.

:func:`key_for` is the one way every opener gets a store's key (``Store.open`` calls it when no
key is given): this process's memory first (a store unlocked by a password stays unlocked for
the life of the process, as sign-in tokens do), then the keyring, then the password or PIN
given. :func:`prepare` is what the entry points (the app, ``gridroom sync``/``stats``/``export``/
``import``/``login``) call first: it also converts a plaintext store in place when site policy
(``require_encryption``) or enrolment asks for it, with progress, keeping the original intact
until the encrypted copy has been verified. The demo store (synthetic data) stays plain.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import StoreError, StoreLocked, classify

SERVICE = "gridroom"
KEY_BYTES = 32
SIDECAR_SUFFIX = ".key"
FORMAT = "gridroom-store-key/1"
SQLITE_HEADER = b"SQLite format 3\x00"
#: Wrong PINs before the PIN copy of the key is deleted (the password is then needed).
PIN_ATTEMPTS = 5
#: scrypt cost: 2**15 × 8 × 128 B = 32 MiB and about 0.1 s per try for a password; a PIN has
#: far less entropy, so its copy costs four times more to try.
PASSWORD_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
PIN_SCRYPT = {"n": 2**17, "r": 8, "p": 1}

#: ``progress(done, total, phase)``; returning False cancels (before the original is replaced).
Progress = Callable[[int, int, str], Any]


class KeyNeeded(StoreError):
    """The store's key is wrapped by the password (no keyring here) and it was not given."""

    code = "key_needed"


class WrongPassword(StoreError):
    code = "wrong_password"


class WrongPin(StoreError):
    """A wrong PIN; ``left`` more tries before the PIN copy is deleted (0: it is gone)."""

    code = "wrong_pin"

    def __init__(self, message: str, *, left: int, path: Path | str | None = None) -> None:
        super().__init__(message, path=path)
        self.left = left


class KeyLost(StoreError):
    """The store is encrypted but its key is nowhere on this computer (keyring reset, another
    user account, a copied file): it cannot be read; re-enrol, the county has the data."""

    code = "key_lost"


class NotEncrypted(StoreError):
    """A plaintext store where site policy requires encryption, and no way to convert it now."""

    code = "not_encrypted"


class Cancelled(StoreError):
    code = "cancelled"


# -- the keyring ------------------------------------------------------------------------------


def unusable_reason(backend: object) -> str | None:
    """Why a keyring backend must not hold secrets (tokens, store keys), or None when it may."""
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if type(backend).__module__.startswith("keyrings.alt"):
        return f"{name} keeps secrets in a file anyone with the disk can read"
    if type(backend).__module__ in ("keyring.backends.fail", "keyring.backends.null"):
        return f"no keyring service on this machine ({name})"
    inner = getattr(backend, "backends", None)
    if inner is not None:  # the chainer: every backend it would write to must be acceptable
        if not inner:
            return f"no keyring service on this machine ({name})"
        for b in inner:
            why = unusable_reason(b)
            if why is not None:
                return why
    return None


def keyring_backend() -> tuple[Any | None, str]:
    """(the usable OS keyring backend, "") or (None, why there is none)."""
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # whatever breaks inside a keyring backend means: none usable
        return None, f"the keyring failed to load: {exc}"
    why = unusable_reason(backend)
    if why is not None:
        return None, why
    return backend, ""


def _keyring_user(store_id: str) -> str:
    return f"store-key#{store_id}"


# -- the sidecar file -------------------------------------------------------------------------


def sidecar_path(path: Path | str) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path | str) -> dict[str, Any] | None:
    side = sidecar_path(path)
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StoreError(
            f"The key file {side} cannot be read ({exc}). Restore it, or enrol this computer "
            "again.",
            path=side,
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not data.get("store_id"):
        raise StoreError(f"{side} is not a Gridroom key file.", path=side)
    return data


def _write_sidecar(path: Path | str, data: dict[str, Any]) -> None:
    from .engine import fsync_dir

    side = sidecar_path(path)
    side.parent.mkdir(parents=True, exist_ok=True)
    tmp = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, side)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(side.parent)


# -- wrapping ---------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _derive(secret: str, salt: bytes, params: dict[str, int]) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    kdf = Scrypt(salt=salt, length=32, n=params["n"], r=params["r"], p=params["p"])
    return kdf.derive(secret.encode("utf-8"))


def _wrap(key: bytes, secret: str, store_id: str, what: str, params: dict[str, int]) -> dict:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    aad = f"gridroom store key|{store_id}|{what}".encode()
    wrapped = AESGCM(_derive(secret, salt, params)).encrypt(nonce, key, aad)
    return {
        "kdf": "scrypt",
        **params,
        "salt": _b64(salt),
        "nonce": _b64(nonce),
        "wrapped": _b64(wrapped),
    }


def _unwrap(box: dict[str, Any], secret: str, store_id: str, what: str) -> bytes | None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    params = {"n": int(box["n"]), "r": int(box["r"]), "p": int(box["p"])}
    aad = f"gridroom store key|{store_id}|{what}".encode()
    kek = _derive(secret, _unb64(box["salt"]), params)
    try:
        return AESGCM(kek).decrypt(_unb64(box["nonce"]), _unb64(box["wrapped"]), aad)
    except InvalidTag:
        return None


#: Password-wrapped copies kept at most (the enrolling account's, then others who signed in).
MAX_PASSWORDS = 8


def _password_boxes(side: dict[str, Any]) -> list[dict[str, Any]]:
    boxes = [side["password"]] if side.get("password") else []
    return boxes + list(side.get("passwords") or [])


def _unwrap_any(side: dict[str, Any], password: str, store_id: str) -> bytes | None:
    for box in _password_boxes(side):
        key = _unwrap(box, password, store_id, "password")
        if key is not None:
            return key
    return None


def add_password(path: Path | str, password: str) -> bool:
    """Wrap the (unlocked) key of a password-protected store by one more password: another
    account that signed in on this PC, or the new password after a change at the county. True
    when a copy was added; the key must be unlocked in this process already."""
    path = Path(path)
    side = read_sidecar(path)
    if side is None or side.get("home") != "password" or is_plaintext(path):
        return False
    store_id = str(side["store_id"])
    with _CACHE_LOCK:
        key = _CACHE.get(store_id)
    if key is None or _unwrap_any(side, password, store_id) is not None:
        return False
    extra = list(side.get("passwords") or [])
    extra.append(_wrap(key, password, store_id, "password", PASSWORD_SCRYPT))
    side["passwords"] = extra[-(MAX_PASSWORDS - 1) :]
    _write_sidecar(path, side)
    return True


# -- this process's memory --------------------------------------------------------------------

_CACHE: dict[str, bytes] = {}
_CACHE_LOCK = threading.Lock()


def _remember(store_id: str, key: bytes) -> None:
    with _CACHE_LOCK:
        _CACHE[store_id] = key


def forget_unlocked(path: Path | str | None = None) -> None:
    """Drop the key this process unlocked for the store at ``path`` (signing out of a shared
    PC: the next opener needs the password or PIN again), or every key (``None``; tests)."""
    if path is None:
        with _CACHE_LOCK:
            _CACHE.clear()
        return
    side = read_sidecar(path)
    if side is not None:
        with _CACHE_LOCK:
            _CACHE.pop(str(side["store_id"]), None)


# -- the one way to get a key -----------------------------------------------------------------


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def sqlcipher_key(key: bytes) -> str:
    """The ``PRAGMA key`` value of a raw 256-bit key (no passphrase derivation per open)."""
    return f"x'{key.hex()}'"


def is_plaintext(path: Path | str) -> bool:
    """True for an existing, unencrypted SQLite file (the first 16 bytes say so)."""
    try:
        with Path(path).open("rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except (FileNotFoundError, IsADirectoryError):
        return False


def key_for(
    path: Path | str,
    *,
    password: str | None = None,
    pin: str | None = None,
) -> bytes | None:
    """The key of the store at ``path``; None for a plaintext (or missing) file.

    Raises :class:`KeyNeeded` (wrapped by the password, which was not given), :class:`KeyLost`
    (the keyring has no key for it), :class:`WrongPassword`, :class:`WrongPin` — in plain words.
    Nothing here writes to the store.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0 or is_plaintext(path):
        return None
    side = read_sidecar(path)
    if side is None:
        return None  # not ours to unlock: the engine says it needs its key, in plain words
    store_id = str(side["store_id"])
    with _CACHE_LOCK:
        cached = _CACHE.get(store_id)
    if cached is not None:
        return cached
    if side.get("home") == "keyring":
        backend, why = keyring_backend()
        found = None
        if backend is not None:
            try:
                found = backend.get_password(SERVICE, _keyring_user(store_id))
            except Exception as exc:  # a locked or broken keyring service
                raise KeyLost(
                    f"The keyring that holds the key of {path} cannot be read: {exc}.", path=path
                ) from None
        if not found:
            where = why or "this user's keyring"
            raise KeyLost(
                f"The key of {path} is not in the keyring ({where}). The file cannot be read "
                "without it: sign in again to enrol this computer afresh — the county has the "
                "data; changes that were never synced are lost.",
                path=path,
            )
        key = bytes.fromhex(found)
        _remember(store_id, key)
        return key
    if pin is not None:
        key = _unlock_pin(path, side, pin)
    elif password is not None:
        unwrapped = _unwrap_any(side, password, store_id)
        if unwrapped is None:
            raise WrongPassword(
                f"The password does not open {path} (this computer keeps its key wrapped by the "
                "password of the account that enrolled it). The file was not changed.",
                path=path,
            )
        key = unwrapped
    else:
        raise KeyNeeded(
            f"{path} is encrypted and its key is protected by your password (there is no "
            "keyring on this computer): sign in to open it.",
            path=path,
        )
    _remember(store_id, key)
    return key


def needs_secret(path: Path | str) -> bool:
    """True when :func:`key_for` would need the password (or PIN) for this store."""
    try:
        key_for(path)
    except KeyNeeded:
        return True
    except StoreError:
        return False
    return False


def needs_conversion(path: Path | str, *, require: bool | None = None) -> bool:
    """True when :func:`prepare` would convert this store (or finish converting its photos):
    the caller may want to show progress."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return False
    if not is_plaintext(path):
        try:
            side = read_sidecar(path)
        except StoreError:
            return False
        return bool(side and side.get("files") == "converting")
    try:
        facts = _plain_facts(path)
    except StoreError:
        return False
    if facts.get("synthetic") == "1":
        return False
    return bool((required() if require is None else require) or facts.get("server_url"))


def password_needed(path: Path | str) -> bool:
    """True when opening this store needs the password: its key is wrapped by it, or it must be
    encrypted now and there is no keyring to keep the new key."""
    if needs_secret(path):
        return True
    path = Path(path)
    if is_plaintext(path) and needs_conversion(path) and not is_plaintext_by_choice(path):
        return keyring_backend()[0] is None
    return False


def is_plaintext_by_choice(path: Path | str) -> bool:
    try:
        return plain_by_choice(path) is not None
    except StoreError:
        return False


def has_pin(path: Path | str) -> bool:
    side = read_sidecar(path)
    return bool(side and side.get("pin"))


def _unlock_pin(path: Path, side: dict[str, Any], pin: str) -> bytes:
    box = side.get("pin")
    if not box:
        raise WrongPin(
            f"No PIN is set for {path} (or it was removed after too many wrong tries): use the "
            "password.",
            left=0,
            path=path,
        )
    key = _unwrap(box, pin, str(side["store_id"]), "pin")
    if key is not None:
        if box.get("failures"):
            box["failures"] = 0
            _write_sidecar(path, side)
        return key
    failures = int(box.get("failures") or 0) + 1
    left = max(0, PIN_ATTEMPTS - failures)
    if left == 0:
        side.pop("pin", None)  # too many wrong PINs: only the password opens it now
    else:
        box["failures"] = failures
    _write_sidecar(path, side)
    if left == 0:
        raise WrongPin(
            f"Wrong PIN, {PIN_ATTEMPTS} times: the PIN was removed. Sign in with your password.",
            left=0,
            path=path,
        )
    raise WrongPin(
        f"Wrong PIN: {left} tries left before the password is needed.", left=left, path=path
    )


# -- keeping a key ----------------------------------------------------------------------------


def keep(
    path: Path | str,
    key: bytes,
    *,
    password: str | None = None,
    store_id: str | None = None,
    backend: Any | None = None,
) -> str:
    """Keep ``key`` for the store at ``path``: in the keyring when there is a usable one
    (``backend``, default the OS keyring), else wrapped by ``password``. Returns where
    (``keyring``/``password``). Raises :class:`NotEncrypted` when neither is possible. Call
    before the encrypted file exists."""
    path = Path(path)
    store_id = store_id or uuid.uuid4().hex
    why = ""
    if backend is None or unusable_reason(backend) is not None:
        backend, why = keyring_backend()
    data: dict[str, Any] = {"format": FORMAT, "store_id": store_id, "created_at": int(time.time())}
    if backend is not None:
        try:
            backend.set_password(SERVICE, _keyring_user(store_id), key.hex())
            if backend.get_password(SERVICE, _keyring_user(store_id)) != key.hex():
                raise RuntimeError("the keyring did not keep the key")
        except Exception as exc:
            why = f"the keyring refused the key: {exc}"
            backend = None
    if backend is not None:
        data["home"] = "keyring"
        data["keyring"] = f"{type(backend).__module__}.{type(backend).__name__}"
    elif password:
        data["home"] = "password"
        data["no_keyring"] = why
        data["password"] = _wrap(key, password, store_id, "password", PASSWORD_SCRYPT)
    else:
        raise NotEncrypted(
            f"There is nowhere safe to keep the key of {path}: {why}, and no password was given "
            "to protect it. Sign in (gridroom login) so that the password protects it.",
            path=path,
        )
    _write_sidecar(path, data)
    _remember(store_id, key)
    return str(data["home"])


def set_pin(path: Path | str, pin: str, *, password: str | None = None) -> None:
    """Keep a PIN-wrapped copy of the key (quick unlock on a shared PC without a keyring)."""
    path = Path(path)
    side = read_sidecar(path)
    if side is None or side.get("home") != "password":
        raise StoreError(
            f"A PIN is only for stores whose key is protected by a password ({path}); this one "
            "needs none.",
            path=path,
        )
    if not (4 <= len(pin) <= 12 and pin.isdigit()):
        raise StoreError("A PIN is 4 to 12 digits.", path=path)
    key = key_for(path, password=password)
    assert key is not None
    side["pin"] = _wrap(key, pin, str(side["store_id"]), "pin", PIN_SCRYPT)
    side["pin"]["failures"] = 0
    _write_sidecar(path, side)


def remove_pin(path: Path | str) -> None:
    side = read_sidecar(path)
    if side is not None and side.pop("pin", None) is not None:
        _write_sidecar(path, side)


def forget(path: Path | str) -> None:
    """Delete the key of the store at ``path`` (keyring entry, key file, memory)."""
    side = read_sidecar(path)
    if side is None:
        return
    store_id = str(side["store_id"])
    with _CACHE_LOCK:
        _CACHE.pop(store_id, None)
    if side.get("home") == "keyring":
        backend, _why = keyring_backend()
        if backend is not None:
            with contextlib.suppress(Exception):
                backend.delete_password(SERVICE, _keyring_user(store_id))
    with contextlib.suppress(FileNotFoundError):
        sidecar_path(path).unlink()


def set_aside(path: Path | str) -> Path:
    """Move an unreadable store (its key lost) and everything beside it out of the way, so that
    a fresh enrolment can start; nothing is deleted. Returns the new name of the store."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.unreadable-{stamp}")
    for suffix in ("", "-wal", "-shm", SIDECAR_SUFFIX, ".files"):
        src = path.with_name(path.name + suffix)
        if src.exists():
            os.replace(src, target.with_name(target.name + suffix))
    return target


# -- policy and conversion --------------------------------------------------------------------


def required() -> bool:
    """``require_encryption`` as the settings say (IT may lock it in site.toml)."""
    from ..settings import Settings

    try:
        return bool(Settings().get("require_encryption"))
    except Exception:  # an unreadable settings file: its problem is reported elsewhere
        return False


def _plain_facts(path: Path) -> dict[str, str]:
    """``synthetic`` and ``server_url`` of a plaintext store, read without writing."""
    import sqlcipher3

    uri = path.resolve().as_uri() + "?mode=ro"
    conn = sqlcipher3.connect(uri, uri=True, isolation_level=None)
    try:
        facts: dict[str, str] = {}
        with contextlib.suppress(sqlcipher3.Error):
            facts.update(conn.execute("SELECT key, value FROM meta").fetchall())
        with contextlib.suppress(sqlcipher3.Error):
            state = dict(conn.execute("SELECT key, value FROM sync_state").fetchall())
            if state.get("server_url"):
                facts["server_url"] = state["server_url"]
        return facts
    except sqlcipher3.Error as exc:
        raise classify(exc, path) or exc from exc
    finally:
        conn.close()


def plain_by_choice(path: Path | str) -> str | None:
    """Why a plaintext store may stay plain (``demo``), or None when it must be encrypted."""
    facts = _plain_facts(Path(path))
    return "demo" if facts.get("synthetic") == "1" else None


def prepare(
    path: Path | str,
    *,
    password: str | None = None,
    pin: str | None = None,
    progress: Progress | None = None,
    require: bool | None = None,
    backend: Any | None = None,
) -> bytes | None:
    """What every entry point calls before opening a store: its key (None: plain), after
    converting a plaintext store in place when policy or enrolment asks for it.

    A plaintext store is converted when ``require_encryption`` is set or the store is enrolled
    with a county — unless it is the demo (synthetic data), which stays plain. Without a keyring
    and without ``password`` the conversion cannot keep its key: then :class:`NotEncrypted`
    when policy requires it, else the store stays plain for now.
    """
    path = Path(path)
    _recover(path)
    if not path.exists() or path.stat().st_size == 0:
        return None
    if not is_plaintext(path):
        key = key_for(path, password=password, pin=pin)
        side = read_sidecar(path)
        if key is not None and side is not None and side.get("files") == "converting":
            _finish_files(path, key, progress)
        return key
    must = required() if require is None else require
    try:
        facts = _plain_facts(path)
    except StoreError:
        return None  # not readable as a store: Store.open says why, in its words
    if facts.get("synthetic") == "1":
        return None
    if not (must or facts.get("server_url")):
        return None
    try:
        return encrypt_in_place(path, password=password, progress=progress, backend=backend)
    except NotEncrypted:
        if must:
            raise
        return None


def _recover(path: Path) -> None:
    """Finish the one step a crash can leave half-done on Windows: the plaintext original set
    aside, the encrypted copy not yet renamed in its place."""
    old = path.with_name(path.name + ".plain-old")
    tmp = _tmp_path(path)
    if not path.exists() and old.exists():
        if tmp.exists():
            os.replace(tmp, path)
        else:
            os.replace(old, path)
    if path.exists() and old.exists() and not is_plaintext(path):
        _shred(old)


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.encrypting")


def _drop_tmp(tmp: Path) -> None:
    for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _shred(path: Path) -> None:
    """Overwrite a file's bytes with zeros, then delete it (see docs/deploy.md for what this
    does and does not achieve on SSDs)."""
    try:
        fh = path.open("r+b")
    except FileNotFoundError:
        return
    with fh:
        _zero(fh)
    path.unlink()


def _zero(fh: Any) -> None:
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    block = b"\0" * (1 << 20)
    left = size
    while left > 0:
        n = min(left, len(block))
        fh.write(block[:n])
        left -= n
    fh.flush()
    os.fsync(fh.fileno())


def _change_counter(path: Path) -> bytes:
    with path.open("rb") as fh:
        fh.seek(24)
        return fh.read(4)


def _tables(conn: Any, schema: str = "main") -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
    ]
    counts = {}
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        with contextlib.suppress(Exception):  # a virtual table without its module
            counts[name] = int(
                conn.execute(f"SELECT count(*) FROM {schema}.{quoted}").fetchone()[0]
            )
    return counts


def encrypt_in_place(
    path: Path | str,
    *,
    password: str | None = None,
    progress: Progress | None = None,
    backend: Any | None = None,
) -> bytes:
    """Convert a plaintext store (and its photos) to an encrypted one, keeping every row.

    Steps: keep a key (keyring, else wrapped by ``password``) *before* anything changes;
    checkpoint the WAL and leave WAL mode (which also proves no other program has the store
    open); ``sqlcipher_export`` into ``.<name>.encrypting``; verify the copy (quick_check, the
    same row count in every table, the same schema version); fsync; make sure the original did
    not change meanwhile; atomically rename the copy over it; overwrite the original's bytes
    with zeros and let it go. A crash or a cancel before the rename leaves the original as it
    was (a rerun starts again); after it, the store is encrypted and the photos are converted
    by the next :func:`prepare` if the crash came in between.
    """
    import sqlcipher3

    path = Path(path)
    report = progress or (lambda done, total, phase: True)
    if not is_plaintext(path):
        found = key_for(path, password=password)
        if found is None:
            raise StoreError(f"{path} is not a Gridroom store that can be encrypted.", path=path)
        return found
    side = read_sidecar(path)
    key: bytes | None = None
    if side is not None:  # an earlier conversion was interrupted: reuse its key
        with contextlib.suppress(KeyNeeded, KeyLost, WrongPassword):
            key = _key_from_sidecar(path, side, password, backend)
    if key is None:
        key = new_key()
        keep(path, key, password=password, backend=backend)
    side = read_sidecar(path)
    assert side is not None
    total = max(1, path.stat().st_size)
    tmp = _tmp_path(path)
    _drop_tmp(tmp)  # what a crashed earlier attempt left (its journal too: never replay it)
    report(0, total, "checkpoint")
    conn = sqlcipher3.connect(str(path), isolation_level=None, timeout=5)
    try:
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        except sqlcipher3.Error as exc:
            raise classify(exc, path) or exc from exc
        if str(mode).lower() != "delete":
            raise StoreLocked(
                f"{path} is open in another program (Gridroom?): close it, then try again. "
                "Nothing was changed.",
                path=path,
            )
        before = _change_counter(path)
        counts = _tables(conn)
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])

        def step() -> int:
            done = tmp.stat().st_size if tmp.exists() else 0
            return 0 if report(min(done, total), total, "copy") is not False else 1

        conn.set_progress_handler(step, 200)
        try:
            conn.execute(f'ATTACH DATABASE ? AS encrypted KEY "{sqlcipher_key(key)}"', [str(tmp)])
            conn.execute("SELECT sqlcipher_export('encrypted')").fetchone()
            conn.execute(f"PRAGMA encrypted.user_version = {version}")
            conn.execute("DETACH DATABASE encrypted")
        except sqlcipher3.OperationalError as exc:
            if "interrupt" in str(exc).lower():
                raise Cancelled(
                    "The encryption was cancelled; the store was not changed."
                ) from None
            raise classify(exc, path) or exc from exc
        finally:
            conn.set_progress_handler(None, 0)
    except BaseException:
        conn.close()
        _drop_tmp(tmp)
        raise
    conn.close()
    try:
        if report(total, total, "verify") is False:
            raise Cancelled("The encryption was cancelled; the store was not changed.")
        _verify(tmp, key, counts, version)
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        if _change_counter(path) != before or _wal_has_frames(path):
            raise StoreLocked(
                f"{path} was changed by another program during the encryption: close it and "
                "try again. Nothing was changed.",
                path=path,
            )
        if report(total, total, "replace") is False:
            raise Cancelled("The encryption was cancelled; the store was not changed.")
    except BaseException:
        _drop_tmp(tmp)
        raise
    side["files"] = "converting"
    _write_sidecar(path, side)
    _replace_and_shred(path, tmp)
    for suffix in ("-wal", "-shm"):
        leftover = path.with_name(path.name + suffix)
        if leftover.exists():
            _shred(leftover)
    _finish_files(path, key, progress)
    return key


def _key_from_sidecar(
    path: Path, side: dict[str, Any], password: str | None, backend: Any | None = None
) -> bytes | None:
    store_id = str(side["store_id"])
    with _CACHE_LOCK:
        if store_id in _CACHE:
            return _CACHE[store_id]
    if side.get("home") == "keyring":
        if backend is None:
            backend, _why = keyring_backend()
        found = backend.get_password(SERVICE, _keyring_user(store_id)) if backend else None
        return bytes.fromhex(found) if found else None
    if password is None:
        return None
    return _unwrap_any(side, password, store_id)


def _wal_has_frames(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def _verify(tmp: Path, key: bytes, counts: dict[str, int], version: int) -> None:
    import sqlcipher3

    check = sqlcipher3.connect(str(tmp), isolation_level=None)
    try:
        check.execute("PRAGMA cipher_log_level = NONE")
        check.execute(f'PRAGMA key = "{sqlcipher_key(key)}"')
        ok = check.execute("PRAGMA quick_check").fetchone()[0]
        got = _tables(check)
        got_version = int(check.execute("PRAGMA user_version").fetchone()[0])
    finally:
        check.close()
    if ok != "ok" or got != counts or got_version != version:
        missing = sorted(k for k in counts if got.get(k) != counts[k])
        raise StoreError(
            f"The encrypted copy of {tmp.name} did not check out ({ok}; tables differing: "
            f"{', '.join(missing) or 'none'}); the original was kept unchanged.",
            path=tmp,
        )


def _replace_and_shred(path: Path, tmp: Path) -> None:
    from .engine import fsync_dir

    if os.name == "nt":  # an open file cannot be replaced there: set it aside first
        old = path.with_name(path.name + ".plain-old")
        os.replace(path, old)
        os.replace(tmp, path)
        fsync_dir(path.parent)
        _shred(old)
        return
    # Hold the original open across the rename: its bytes are then overwritten through this
    # handle, after the encrypted copy has taken its name (a crash in between loses nothing).
    with path.open("r+b") as original:
        os.replace(tmp, path)
        fsync_dir(path.parent)
        _zero(original)


def _finish_files(path: Path, key: bytes, progress: Progress | None) -> None:
    """Encrypt the photos of a store whose database was just encrypted (or whose conversion a
    crash interrupted), then mark the key file done."""
    from . import attachments
    from .store import Store

    with Store.open(path, key=key) as store:
        attachments.encrypt_files(store, progress)
    side = read_sidecar(path)
    if side is not None:
        side["files"] = "encrypted"
        _write_sidecar(path, side)


def describe(path: Path | str) -> str:
    """One line for doctor and the settings page: is this store encrypted, where is its key."""
    path = Path(path)
    if not path.exists():
        return f"no store at {path}"
    if is_plaintext(path):
        why = None
        with contextlib.suppress(Exception):
            why = plain_by_choice(path)
        if why == "demo":
            return "not encrypted: the demo store (synthetic data) stays plain by design"
        return "NOT encrypted"
    side = read_sidecar(path)
    if side is None:
        return "encrypted, with no key file beside it (unless its key is given by hand, re-enrol)"
    if side.get("home") == "keyring":
        return f"encrypted; key in the OS keyring ({side.get('keyring', '')})"
    pin = ", with a PIN copy" if side.get("pin") else ""
    return f"encrypted; key wrapped by the password (no usable keyring){pin}"


# -- the device's own key pair (sync bundles) -----------------------------------------------------

#: What the device key pair is wrapped under: a key derived from the store key, so it opens
#: exactly when the store does (keyring, password or PIN) and is never on disk in plain.
_DEVICE_KEY_INFO = b"gridroom device key pair/1"


def _device_kek(store_key: bytes, store_id: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=store_id.encode(), info=_DEVICE_KEY_INFO
    ).derive(store_key)


def keep_device_key(path: Path | str, secret: bytes) -> None:
    """Keep the device's private key pair (sync bundles) beside the store key: AES-256-GCM under
    a key derived from the store key, in the key file. The store key must be unlocked."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    path = Path(path)
    side = read_sidecar(path)
    key = key_for(path)
    if side is None or key is None:
        raise NotEncrypted(
            f"{path} is not encrypted: a device key is kept only with an encrypted store.",
            path=path,
        )
    store_id = str(side["store_id"])
    nonce = os.urandom(12)
    aad = f"gridroom device key|{store_id}".encode()
    wrapped = AESGCM(_device_kek(key, store_id)).encrypt(nonce, secret, aad)
    side["device_key"] = {"nonce": _b64(nonce), "wrapped": _b64(wrapped)}
    _write_sidecar(path, side)


def device_key(path: Path | str) -> bytes | None:
    """The device's private key pair, or None when it has none yet (enrolled before bundles, or
    the store was re-keyed); raises like :func:`key_for` when the store key is locked."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    path = Path(path)
    side = read_sidecar(path)
    if side is None or not isinstance(side.get("device_key"), dict):
        return None
    key = key_for(path)
    if key is None:
        return None
    store_id = str(side["store_id"])
    box = side["device_key"]
    aad = f"gridroom device key|{store_id}".encode()
    try:
        return AESGCM(_device_kek(key, store_id)).decrypt(
            _unb64(box["nonce"]), _unb64(box["wrapped"]), aad
        )
    except (InvalidTag, KeyError, ValueError):
        return None  # wrapped under an earlier store key: a new pair is made at sign-in
