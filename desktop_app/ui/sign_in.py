"""The sign-in dialog: region or custom URL, client credentials or email + password, verified live."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QRadioButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from desktop_app import APP_NAME, accounts
from desktop_app.accounts import AccountProfile, AuthMethod, SignedInAccount
from desktop_app.api.account import UNCONFIRMED_REGIONS
from desktop_app.credentials import NO_KEYRING_NOTICE, CredentialStore
from desktop_app.account_words import REGION_NAMES, address_problem, sign_in_problem
from desktop_app.logs import describe_exception, register_secrets
from desktop_app.ui.accessible import ValueLabel

if TYPE_CHECKING:
    from desktop_app.api.account import Credentials
    from desktop_app.api.client import WootricClient
    from desktop_app.ui.operations import Operations
    from desktop_app.ui.operations import TaskHandle

log = logging.getLogger(__name__)

# Builds a client for credentials; the dialog only calls authenticate() and close() on it.
ClientFactory = Callable[["Credentials"], "WootricClient"]

CUSTOM = "custom"
DEMO = "demo"


class SignInOutcome(enum.Enum):
    SIGNED_IN = "signed_in"
    DEMO = "demo"  # the person chose the embedded demo service


@dataclass(frozen=True, slots=True)
class SignInResult:
    """What the dialog hands back on accept."""

    outcome: SignInOutcome
    account: SignedInAccount | None = None


def _verify(credentials: Credentials, client_factory: ClientFactory) -> None:
    """Background: get a token with these credentials (raises the client's error if refused)."""
    client = client_factory(credentials)
    try:
        client.authenticate()
    finally:
        client.close()


class SignInDialog(QDialog):
    """Asks where and as whom to sign in, checks it with the service, stores the secret safely."""

    def __init__(
        self,
        store: CredentialStore,
        ops: Operations,
        client_factory: ClientFactory,
        *,
        data_dir: Path | None = None,
        initial: AccountProfile | None = None,
        offer_demo: bool = True,
        message: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SignInDialog")
        self.setWindowTitle(self.tr("Sign in to Wootric"))
        self.setAccessibleName(self.tr("Sign in"))
        self._store = store
        self._ops = ops
        self._client_factory = client_factory
        self._data_dir = data_dir
        self._handle: TaskHandle[Any] | None = None
        self._stage_storing = False
        self.result_value: SignInResult | None = None

        heading = QLabel(self.tr("Connect {app} to your Wootric account").format(app=APP_NAME), self)
        font = heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        heading.setFont(font)
        self.intro = QLabel(message or self.tr(
            "Your end users are kept on this computer, so you can keep working offline; "
            "edits are sent when you are back online."), self)
        self.intro.setWordWrap(True)

        self.region = QComboBox(self)
        self.region.setAccessibleName(self.tr("Region"))
        for code, url in accounts.regions().items():
            host = url.split("://", 1)[-1]
            name = self.tr(REGION_NAMES.get(code, code))
            self.region.addItem(f"{name} ({host})", code)
            if code in UNCONFIRMED_REGIONS:
                self.region.setItemData(self.region.count() - 1, self.tr(
                    "Wootric does not document this address; if signing in fails, ask Wootric "
                    "support for your region's API address and use a custom address."),
                    Qt.ItemDataRole.ToolTipRole)
        self.region.addItem(self.tr("Custom API address…"), CUSTOM)
        if offer_demo:
            self.region.addItem(self.tr("Demo: sample data on this computer"), DEMO)
        self.region.currentIndexChanged.connect(self._update_fields)
        self.base_url = QLineEdit(self)
        self.base_url.setPlaceholderText("https://api.example.com")
        self.base_url.setAccessibleName(self.tr("Custom API base URL"))

        self.use_client = QRadioButton(self.tr("API &client (client ID and secret)"), self)
        self.use_password = QRadioButton(self.tr("Account &email and password"), self)
        self.use_client.setChecked(True)
        self._method_group = QButtonGroup(self)
        self._method_group.addButton(self.use_client)
        self._method_group.addButton(self.use_password)
        self.use_client.toggled.connect(self._update_fields)
        method_row = QWidget(self)
        method_layout = QHBoxLayout(method_row)
        method_layout.setContentsMargins(0, 0, 0, 0)
        method_layout.addWidget(self.use_client)
        method_layout.addWidget(self.use_password)
        method_layout.addStretch(1)

        self.client_id = QLineEdit(self)
        self.client_id.setAccessibleName(self.tr("Client ID"))
        self.client_secret = QLineEdit(self)
        self.client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.client_secret.setAccessibleName(self.tr("Client secret"))
        self.username = QLineEdit(self)
        self.username.setAccessibleName(self.tr("Account email"))
        self.username.setPlaceholderText("you@example.com")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(self.tr("Password"))
        self.account_token = QLineEdit(self)
        self.account_token.setAccessibleName(self.tr("Account token (optional)"))
        self.account_token.setPlaceholderText(self.tr("NPS-xxxxxxxx, only if you have several accounts"))
        for secret_field in (self.client_secret, self.password):
            secret_field.setInputMethodHints(
                Qt.InputMethodHint.ImhHiddenText | Qt.InputMethodHint.ImhNoPredictiveText
                | Qt.InputMethodHint.ImhSensitiveData)

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.form.addRow(self.tr("&Region:"), self.region)
        self.form.addRow(self.tr("API &address:"), self.base_url)
        self.form.addRow(self.tr("Sign in with:"), method_row)
        self.form.addRow(self.tr("Client &ID:"), self.client_id)
        self.form.addRow(self.tr("Client &secret:"), self.client_secret)
        self.form.addRow(self.tr("E&mail:"), self.username)
        self.form.addRow(self.tr("&Password:"), self.password)
        self.form.addRow(self.tr("Account &token:"), self.account_token)

        # The keyring notice: said before anything is saved, not discovered afterwards.
        self.keyring_notice = ValueLabel(self.tr("Where your secret is kept"), self)
        self.keyring_notice.setWordWrap(True)
        self.keyring_notice.setObjectName("keyringNotice")
        self._keyring_icon = QLabel(self)
        notice_row = QHBoxLayout()
        notice_row.addWidget(self._keyring_icon, 0, Qt.AlignmentFlag.AlignTop)
        notice_row.addWidget(self.keyring_notice, 1)

        self.error_label = ValueLabel(self.tr("Sign-in problem"), self)
        self.error_label.setObjectName("signInError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        error_font = self.error_label.font()
        error_font.setBold(True)  # stands out in any colour scheme
        self.error_label.setFont(error_font)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumHeight(10)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName(self.tr("Checking with the service"))
        self.busy.hide()
        self.busy_label = ValueLabel(self.tr("Progress"), self)
        self.busy_label.hide()

        self.buttons = QDialogButtonBox(self)
        self.sign_in_button = self.buttons.addButton(
            self.tr("Sign in"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_in_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.intro)
        layout.addSpacing(6)
        layout.addLayout(self.form)
        layout.addLayout(notice_row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.busy_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

        self._show_keyring_status()
        if initial is not None:
            self._fill(initial)
        self._update_fields()

    # --- filling and showing fields -------------------------------------------------------

    def _fill(self, profile: AccountProfile) -> None:
        index = self.region.findData(profile.region)
        if index < 0 or profile.region == CUSTOM:
            index = self.region.findData(CUSTOM)
            self.base_url.setText(profile.base_url)
        self.region.setCurrentIndex(index)
        self.use_password.setChecked(profile.auth_method is AuthMethod.PASSWORD)
        self.use_client.setChecked(profile.auth_method is AuthMethod.CLIENT_CREDENTIALS)
        self.client_id.setText(profile.client_id)
        self.username.setText(profile.username)
        self.account_token.setText(profile.account_token)

    def _show_keyring_status(self) -> None:
        status = self._store.status()
        style = self.style()
        if not status.available:
            icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self._keyring_icon.setAccessibleName(self.tr("Warning"))
            self.keyring_notice.setText(self.tr(NO_KEYRING_NOTICE))
            self.keyring_notice.setToolTip(status.reason)
        elif status.locked:
            icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
            self._keyring_icon.setAccessibleName(self.tr("Note"))
            self.keyring_notice.setText(self.tr(
                "The system keyring is locked; it will ask you to unlock it to store your secret."))
        else:
            icon = style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton)
            self._keyring_icon.setAccessibleName(self.tr("Ready"))
            self.keyring_notice.setText(self.tr("Your secret will be stored in the system keyring."))
            self.keyring_notice.setToolTip(self.tr(
                "The keyring keeps it encrypted; it is never written to disk in plain text."))
        self._keyring_icon.setPixmap(icon.pixmap(16, 16))

    @Slot()
    def _update_fields(self) -> None:
        self._show_error("")  # an error about the fields shown before no longer applies
        choice = self.region.currentData()
        demo = choice == DEMO
        password = self.use_password.isChecked()
        self.form.setRowVisible(self.base_url, choice == CUSTOM)
        method_row = self.use_client.parentWidget()  # the row holding the two method buttons
        assert method_row is not None
        for widget, shown in (
            (method_row, not demo),
            (self.client_id, not demo and not password),
            (self.client_secret, not demo and not password),
            (self.username, not demo and password),
            (self.password, not demo and password),
            (self.account_token, not demo and password),
        ):
            self.form.setRowVisible(widget, shown)
        self.sign_in_button.setText(self.tr("Open the demo") if demo else self.tr("Sign in"))
        self.adjustSize()

    # --- signing in ------------------------------------------------------------------------

    def _profile_and_secret(self) -> tuple[AccountProfile, str]:
        """The entered account, or ValueError with a plain message for the first problem."""
        choice = self.region.currentData()
        if choice == CUSTOM:
            raw = self.base_url.text().strip()
            if not raw:
                raise ValueError(self.tr("Enter the API address, for example https://api.wootric.com."))
            try:
                base = accounts.normalize_base_url(raw)
            except ValueError as exc:
                raise ValueError(self.tr(address_problem(exc))) from None
        else:
            base = accounts.regions()[choice]
        if self.use_password.isChecked():
            username, secret = self.username.text().strip(), self.password.text()
            if not username:
                raise ValueError(self.tr("Enter the email address you sign in to Wootric with."))
            if not secret:
                raise ValueError(self.tr("Enter your password."))
            profile = AccountProfile(base, AuthMethod.PASSWORD, username=username,
                                     account_token=self.account_token.text().strip(), region=choice)
        else:
            client_id, secret = self.client_id.text().strip(), self.client_secret.text().strip()
            if not client_id:
                raise ValueError(self.tr("Enter the client ID from Settings → API in Wootric."))
            if not secret:
                raise ValueError(self.tr("Enter the client secret."))
            profile = AccountProfile(base, AuthMethod.CLIENT_CREDENTIALS, client_id=client_id,
                                     region=choice)
        return profile, secret

    @Slot()
    def submit(self) -> None:
        """Validate here, verify with the service in the background, then store the secret."""
        if self._handle is not None:
            return
        if self.region.currentData() == DEMO:
            self.result_value = SignInResult(SignInOutcome.DEMO)
            self.accept()
            return
        try:
            profile, secret = self._profile_and_secret()
        except ValueError as exc:
            self._show_error(str(exc))
            return
        register_secrets([secret])  # from now on no log line or error report can carry it
        self._show_error("")
        self._set_busy(True, self.tr("Checking with the service…"))
        credentials = SignedInAccount(profile, secret, "new").credentials()
        factory = self._client_factory
        self._handle = self._ops.work(
            lambda: _verify(credentials, factory),
            lambda _none: self._verified(profile, secret), failed=self._failed, name="sign-in",
        )

    def _verified(self, profile: AccountProfile, secret: str) -> None:
        # Storing may wait on the OS asking to unlock the keyring: background too, and past
        # this point Cancel no longer applies (a half-cancelled store would be a silent one).
        self._stage_storing = True
        self.cancel_button.setEnabled(False)
        self._set_busy(True, self.tr("Saving…"))
        store, root = self._store, self._data_dir
        self._handle = self._ops.work(
            lambda: accounts.sign_in(profile, secret, store, root),
            self._signed_in, failed=self._failed, name="sign-in-store",
        )

    def _signed_in(self, account: SignedInAccount) -> None:
        self._handle = None
        self._stage_storing = False
        self._set_busy(False)
        log.info("signed in to %s as %s (%s)", account.profile.base_url,
                 account.profile.identity, account.source)
        self.result_value = SignInResult(SignInOutcome.SIGNED_IN, account)
        self.client_secret.clear()
        self.password.clear()
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._handle = None
        self._stage_storing = False
        self._set_busy(False)
        title, message = describe_exception(exc)
        log.info("sign-in failed: %s: %s", title, message)  # the internals stay in the log
        self._show_error(self.tr(sign_in_problem(exc, password=self.use_password.isChecked())))

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))
        if text:
            self.error_label.setFocus(Qt.FocusReason.OtherFocusReason)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy.setVisible(busy)
        self.busy_label.setText(text)
        self.busy_label.setVisible(busy)
        for widget in (self.region, self.base_url, self.use_client, self.use_password,
                       self.client_id, self.client_secret, self.username, self.password,
                       self.account_token, self.sign_in_button):
            widget.setEnabled(not busy)
        self.cancel_button.setEnabled(not self._stage_storing)

    @property
    def busy_checking(self) -> bool:
        return self._handle is not None

    @Slot()
    def reject(self) -> None:
        """Cancel (or Esc) while checking drops the check and keeps the dialog for a retry."""
        if self._handle is not None:
            if self._stage_storing:
                return
            self._handle.cancel()
            self._handle = None
            self._set_busy(False)
            self._show_error(self.tr("Sign-in cancelled."))
            return
        super().reject()
