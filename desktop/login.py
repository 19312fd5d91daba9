"""Signing in to the county platform: the login dialog, and offline sign-in when it is away.

Online, the dialog signs in through :func:`sync.client.enrol.login` on a network thread: the
county checks the password, enrols this computer's store to the township (created on the first
sign-in, at ``township-<code>.sqlite`` in the data folder) and the token goes to the OS keyring.
Then a verifier of the password is kept in the store (:mod:`desktop.sync.offline`) so that, when
the county cannot be reached later — no network, a captive portal, a certificate problem — the
same person can still sign in *offline*: the password is checked against this computer's copy,
the app works on the local store, and changes wait until the county is back. The dialog, the
status bar and the 同步 page say so.

The server address comes from the site config; when county IT locked it there, the field is
read-only. Every failure is told in plain words: wrong password, account disabled, county
unreachable, a network that wants a browser sign-in first, a certificate that is not accepted.

The account the app works as is the county's account *id* of whoever signed in (saved as the
``account`` setting); :func:`enrolled_actor` finds it again at the next start, also after
``gridroom login`` (which signs in the same way).
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from sync import logs
from sync.client import enrol
from sync.client.tokens import TokenStore
from sync.client.transport import TransportError
from sync.model.records import Actor, Role
from sync.settings import Settings, SettingsError, user_data_dir
from sync.store import Store, StoreError, keys, replica

from .sync import offline
from .sync import words as sync_words
from .syncer import NetworkWorker, shared_tokens


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, where, and whether the county checked it (online) or this computer did."""

    online: bool
    actor: Actor
    login: str
    server_url: str
    township: str
    store_path: Path
    created_store: bool = False
    #: offline: why the county could not be reached (its error code and the client's sentence)
    reason_code: str = ""
    reason: str = ""


#: Sign-in transport: a short backoff between urllib3's connection retries, so a person learns
#: within a second or two that the county cannot be reached (and may sign in offline).
LOGIN_TRANSPORT: dict[str, Any] = {"backoff": 0.2}


class LoginFailed(Exception):
    """A sign-in that did not succeed. ``code`` is the county's or the client's error code, or
    ``offline_password`` / ``offline_unknown`` / ``offline_damaged`` for an offline attempt
    (``cause`` then says why the county was not reachable), or ``bad_url``."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        cause: TransportError | None = None,
        retry_after: float | None = None,
        left: int = 0,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.cause = cause
        self.retry_after = retry_after
        self.left = left  # wrong_pin: tries left before the PIN copy is deleted


# -- the work (network thread) --------------------------------------------------------------------


def data_dir(settings: Settings) -> Path:
    configured = settings.get("data_dir")
    return Path(configured) if configured else user_data_dir()


def candidate_stores(settings: Settings, store_path: Path | None) -> list[Path]:
    """Where an offline sign-in may be kept: the given store, the enrolled township's, then any
    township store in the data folder."""
    found: list[Path] = []
    if store_path is not None:
        found.append(Path(store_path))
    township = settings.get("township")
    if township:
        found.append(enrol.default_store_path(township, settings.get("data_dir") or None))
    folder = data_dir(settings)
    if folder.is_dir():
        found.extend(sorted(folder.glob("township-*.sqlite")))
    return [p for p in dict.fromkeys(found) if p.exists() and p.stat().st_size > 0]


def unreachable(exc: TransportError) -> bool:
    """The county was not reached (no network, timeout, certificate, or a captive portal that
    answered in its place): an offline sign-in may be offered."""
    return not exc.reached or exc.code == "bad_response"


def attempt(
    server_url: str,
    login_name: str,
    password: str,
    *,
    settings: Settings,
    tokens: TokenStore,
    store_path: Path | None = None,
    transport_options: dict[str, Any] | None = None,
) -> SignedIn:
    """Sign in online, or offline when the county cannot be reached (runs on a network thread).
    Raises :class:`LoginFailed` with the reason."""
    logs.add_secret(password)  # what was typed is never in a log line, whatever prints it
    server = server_url.strip().rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise LoginFailed("bad_url", "The server address must start with https://.")
    try:
        result = enrol.login(
            server,
            login_name,
            password,
            tokens=tokens,
            store_path=store_path,
            data_dir=settings.get("data_dir") or None,
            device_name=socket.gethostname(),
            ca_file=settings.get("ca_file") or None,
            transport_options=transport_options,
        )
    except TransportError as exc:
        if exc.code in ("account_disabled", "device_revoked"):
            # A disabled account (or a revoked computer) must not go on working offline here.
            for path in candidate_stores(settings, store_path):
                # (a store whose key this password does not open holds no sign-in of it)
                with contextlib.suppress(StoreError):
                    keys.key_for(path, password=password)
                    with Store.open(path) as store:
                        offline.forget(store, login_name)
        if unreachable(exc):
            return sign_in_offline(settings, store_path, login_name, password, exc)
        raise LoginFailed(exc.code, exc.message, retry_after=exc.retry_after) from None
    with Store.open(result.store_path) as store:
        logs.add_secret(tokens.get(server, store.device_id))  # the new token, likewise
        offline.remember(store, login_name, password, result.account, server)
    return SignedIn(
        online=True,
        actor=offline.actor_of(result.account),
        login=login_name,
        server_url=server,
        township=str(result.device.get("township") or ""),
        store_path=result.store_path,
        created_store=result.created_store,
    )


def sign_in_offline(
    settings: Settings,
    store_path: Path | None,
    login_name: str,
    password: str,
    why: TransportError,
) -> SignedIn:
    """Check the password against this computer's copy (the county is unreachable).

    A store whose key the password protects (no keyring) is unlocked by it first: a password
    that does not unwrap the key is wrong, whatever the verifier inside would say."""
    for path in candidate_stores(settings, store_path):
        try:
            keys.key_for(path, password=password)
        except keys.WrongPassword:
            raise LoginFailed(
                "offline_password", "Wrong password (this computer's copy).", cause=why
            ) from None
        except StoreError:
            continue  # its key is lost, or it is not a store: not this person's copy
        with Store.open(path) as store:
            try:
                kept = offline.check(store, login_name, password)
            except offline.OfflineRefused as refused:
                if refused.code == "unknown":
                    continue
                raise LoginFailed("offline_" + refused.code, str(refused), cause=why) from None
            return SignedIn(
                online=False,
                actor=kept.actor,
                login=login_name,
                server_url=kept.server_url,
                township=store.scope,
                store_path=path,
                reason_code=why.code,
                reason=why.message,
            )
    raise LoginFailed(
        "offline_unknown",
        f"{login_name} has never signed in online on this computer.",
        cause=why,
    )


def pin_store(settings: Settings, store_path: Path | None) -> Path | None:
    """The store a PIN would unlock here (its key wrapped by the password, a PIN copy kept)."""
    for path in candidate_stores(settings, store_path):
        with contextlib.suppress(StoreError):
            if keys.has_pin(path):
                return path
    return None


def unlock_with_pin(settings: Settings, store_path: Path | None, pin: str) -> SignedIn:
    """Quick unlock on a shared PC without a keyring: the PIN opens this computer's store, and
    the app works on it as whoever signed in last (changes wait until a sign-in with the
    password lets them sync). Raises :class:`LoginFailed` (``wrong_pin``, ``no_pin``)."""
    path = pin_store(settings, store_path)
    if path is None:
        raise LoginFailed("no_pin", "No PIN is set on this computer: use the password.")
    try:
        keys.key_for(path, pin=pin)
    except keys.WrongPin as exc:
        raise LoginFailed("wrong_pin", str(exc), left=exc.left) from None
    with Store.open(path) as store:
        state = replica.state(store)
        login_name = state.get("account_login", "")
        actor = enrolled_actor(store, settings.get("account") or None)
        if actor is None:
            raise LoginFailed("no_pin", "This store is not enrolled: use the password.")
        return SignedIn(
            online=False,
            actor=actor,
            login=login_name,
            server_url=state.get("server_url", ""),
            township=store.scope,
            store_path=path,
            reason_code="pin",
            reason="",
        )


def keep_pin(outcome: SignedIn, password: str, pin: str) -> None:
    """After a sign-in with the password: keep a PIN copy of the store key (no keyring)."""
    side = keys.read_sidecar(outcome.store_path)
    if side is not None and side.get("home") == "password":
        keys.set_pin(outcome.store_path, pin, password=password)


def remember_settings(settings: Settings, outcome: SignedIn) -> None:
    """Save the server, township and account id as user settings (unless IT locked them)."""
    values = [("township", outcome.township), ("account", outcome.actor.id)]
    if outcome.online:
        values.insert(0, ("server_url", outcome.server_url))
    for name, value in values:
        if not value or settings.is_locked(name) or settings.get(name) == value:
            continue
        # An unwritable config folder must not undo a sign-in that worked.
        with contextlib.suppress(SettingsError, OSError):
            settings.set(name, value)


# -- app start -------------------------------------------------------------------------------------


def needs_sign_in(path: Path, tokens: TokenStore) -> bool:
    """An enrolled store whose sign-in this computer does not hold (never kept, signed out, or
    a machine without a keyring), or whose key the password protects: the app asks for the
    password before opening it."""
    if keys.password_needed(path):
        return True
    try:
        key = keys.key_for(path)
    except keys.KeyLost:
        return True  # signing in sets the unreadable store aside and enrols afresh
    # (only read here: a plain store that policy wants encrypted is converted right after)
    with Store.open(path, key=key, require_encryption=False) as store:
        server = replica.state(store).get("server_url") or ""
        if not server or store.synthetic:
            return False
        return tokens.get(server, store.device_id) is None


def enrolled_actor(store: Store, wanted: str | None) -> Actor | None:
    """The account to work as on an enrolled store (None for a store that is not enrolled).

    Only accounts that signed in on this computer qualify — the county refuses steps of any
    other (``actor_not_on_device``): ``wanted`` (an account id, or a login name as older
    ``gridroom login`` saved it) when it signed in here — the last sign-in, or one whose
    offline sign-in is kept — else whoever signed in last.
    """
    state = replica.state(store)
    if not state.get("server_url"):
        return None
    signed_in = state.get("account_id") or ""
    if wanted:
        kept = offline.account_for(store, wanted)
        if kept is not None:
            return store.account(kept.id) or kept
    if not signed_in:
        return None
    found = store.account(signed_in)
    if found is not None:
        return found
    # Enrolled, the reference data (accounts) not synced yet: the sign-in's own account.
    try:
        role = Role(state.get("account_role") or Role.OPERATOR.value)
    except ValueError:
        return None
    name = state.get("account_name") or state.get("account_login") or signed_in
    return Actor(signed_in, name, role)


# -- the dialog -----------------------------------------------------------------------------------


class LoginDialog(QDialog):
    """Server address, account and password; signs in online, or offline when it must.

    Signals:
        signed_in(object): a :class:`SignedIn` — the dialog then closes as accepted.
    """

    signed_in = Signal(object)

    def __init__(
        self,
        settings: Settings,
        *,
        store_path: Path | None = None,
        tokens: TokenStore | None = None,
        transport_options: dict[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle(self.tr("Sign in to the county platform"))
        self._settings = settings
        self._store_path = Path(store_path) if store_path is not None else None
        self._tokens = tokens
        self._transport_options = (
            LOGIN_TRANSPORT if transport_options is None else transport_options
        )
        self._worker: NetworkWorker | None = None
        self.outcome: SignedIn | None = None
        self.failure: LoginFailed | None = None

        intro = QLabel(
            self.tr(
                "Sign in with the account your county gave you. The first sign-in on this "
                "computer needs the network; after that, when the county cannot be reached, the "
                "same account and password sign in offline."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.server = QLineEdit(self)
        self.server.setObjectName("loginServer")
        self.server.setPlaceholderText("https://grid.example.gov.cn")
        self.server_note = QLabel(
            self.tr("Set by your IT department; it cannot be changed here."), self
        )
        self.server_note.setObjectName("lockedNote")
        self.user = QLineEdit(self)
        self.user.setObjectName("loginUser")
        self.user.setPlaceholderText(self.tr("e.g. 330825102-op"))
        self.password = QLineEdit(self)
        self.password.setObjectName("loginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        # No keyring here: the password protects the database key, and a PIN may unlock it too.
        self.pin = QLineEdit(self)
        self.pin.setObjectName("loginPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin.setPlaceholderText(self.tr("optional, 4 to 12 digits"))
        self.pin_note = QLabel(
            self.tr(
                "This computer has no keyring: your password protects the database. With the "
                "password, a PIN typed here is kept for quick unlock next time; then the PIN "
                "alone opens the database (5 wrong PINs and the password is needed again)."
            ),
            self,
        )
        self.pin_note.setObjectName("pinNote")
        self.pin_note.setWordWrap(True)
        self._pin_wanted = keys.keyring_backend()[0] is None
        self.message = QLabel(self)
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        self.buttons = QDialogButtonBox(self)
        self.sign_in_button = self.buttons.addButton(
            self.tr("Sign in"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.sign_in_button.setObjectName("signIn")
        self.sign_in_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(
            self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(self.tr("County server:"), self.server)
        form.addRow("", self.server_note)
        form.addRow(self.tr("Account:"), self.user)
        form.addRow(self.tr("Password:"), self.password)
        form.addRow(self.tr("PIN:"), self.pin)
        form.addRow("", self.pin_note)
        for w in (self.pin, self.pin_note):
            w.setVisible(self._pin_wanted)
        if not self._pin_wanted:
            form.setRowVisible(self.pin, False)
            form.setRowVisible(self.pin_note, False)
        box = QVBoxLayout(self)
        box.addWidget(intro)
        box.addLayout(form)
        box.addWidget(self.message)
        box.addWidget(self.buttons)
        self.setMinimumWidth(520)
        self._preset()

    def _preset(self) -> None:
        server = self._settings.get("server_url")
        last_login = ""
        if self._store_path is not None and self._store_path.exists():
            # The store's own enrolment: its server, and who signed in last.
            with contextlib.suppress(Exception), Store.open(self._store_path) as store:
                state = replica.state(store)
                server = server or state.get("server_url", "")
                last_login = state.get("account_login", "")
        self.server.setText(server)
        locked = self._settings.is_locked("server_url")
        self.server.setReadOnly(locked)
        self.server.setEnabled(not locked)
        self.server_note.setVisible(locked)
        self.user.setText(last_login)
        (self.password if last_login else self.user if server else self.server).setFocus()

    # -- signing in -------------------------------------------------------------------------

    def busy(self) -> bool:
        return self._worker is not None and self._worker.busy()

    def submit(self) -> None:
        """Sign in with what is typed (on the network thread)."""
        if self.busy():
            return
        server, login_name = self.server.text().strip(), self.user.text().strip()
        password = self.password.text()
        pin = self.pin.text().strip() if self._pin_wanted else ""
        if pin and not (4 <= len(pin) <= 12 and pin.isdigit()):
            self._say(self.tr("A PIN is 4 to 12 digits."))
            return
        if not password and pin:
            settings, store_path = self._settings, self._store_path
            saying = self.tr("Unlocking with the PIN…")
            self._run(lambda: unlock_with_pin(settings, store_path, pin), saying)
            return
        if not server or not login_name or not password:
            self._say(self.tr("Enter the server address, your account and your password."))
            return
        tokens = self._tokens or shared_tokens()
        settings, store_path, options = self._settings, self._store_path, self._transport_options

        def work() -> SignedIn:
            outcome = attempt(
                server,
                login_name,
                password,
                settings=settings,
                tokens=tokens,
                store_path=store_path,
                transport_options=options,
            )
            if pin:
                keep_pin(outcome, password, pin)
            return outcome

        self._run(work, self.tr("Connecting to the county platform…"))

    def _run(self, work: Any, saying: str) -> None:
        self._working(True)
        self._say(saying, tone="")
        if self._worker is None:
            self._worker = NetworkWorker("gridroom-login", parent=self)
        self._worker.submit(work, self._succeeded, self._failed)

    def _succeeded(self, outcome: SignedIn) -> None:
        self._working(False)
        self.outcome = outcome
        remember_settings(self._settings, outcome)
        self.signed_in.emit(outcome)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._working(False)
        if isinstance(exc, LoginFailed):
            self.failure = exc
            self._say(self.explain(exc))
            if exc.code in ("bad_credentials", "offline_password"):
                self.password.selectAll()
                self.password.setFocus()
            return
        from .errors import explain

        words = explain(exc)
        self._say(f"{words.headline} {words.advice}")

    def explain(self, exc: LoginFailed) -> str:
        """A failed sign-in in plain words."""
        if exc.code == "bad_url":
            return self.tr("The server address must start with https:// (or http://).")
        if exc.code == "throttled" and exc.retry_after:
            return self.tr("Too many failed sign-ins: try again in %1 seconds.").replace(
                "%1", str(int(exc.retry_after))
            )
        why = sync_words.error(exc.cause.code, exc.cause.message) if exc.cause else ""
        if exc.code == "offline_password":
            return (
                self.tr(
                    "Wrong password (checked against this computer's copy, because the county "
                    "cannot be reached)."
                )
                + " "
                + why
            )
        if exc.code == "offline_unknown":
            return (
                self.tr(
                    "The county cannot be reached, and this account has never signed in online on "
                    "this computer: the first sign-in needs the network."
                )
                + " "
                + why
            )
        if exc.code == "wrong_pin":
            left = exc.left
            if left <= 0:
                return self.tr(
                    "Wrong PIN, too many times: the PIN was removed. Sign in with your password."
                )
            return self.tr("Wrong PIN: %1 tries left before the password is needed.").replace(
                "%1", str(left)
            )
        if exc.code == "no_pin":
            return self.tr("No PIN is set on this computer: sign in with your password.")
        if exc.code == "offline_damaged":
            return self.tr(
                "The county cannot be reached, and this computer's copy of the sign-in is "
                "damaged: sign in when the network is back."
            )
        return sync_words.error(exc.code, exc.message)

    def _say(self, text: str, tone: str = "red") -> None:
        self.message.setText(text)
        self.message.setProperty("tone", tone)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setVisible(bool(text))

    def _working(self, on: bool) -> None:
        for w in (self.user, self.password, self.pin, self.sign_in_button):
            w.setEnabled(not on)
        self.server.setEnabled(not on and not self._settings.is_locked("server_url"))

    def done(self, result: int) -> None:
        # A sign-in still on its way is left to finish on its own (its daemon thread); what it
        # would bring is not waited for once the dialog is closed.
        if self._worker is not None:
            self._worker.shutdown(0)
            self._worker = None
        super().done(result)
