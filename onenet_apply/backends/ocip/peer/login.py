"""The peer's door: who may send it requests, per connection.

A connection logs in as BroadWorks lets it: `AuthenticationRequest` gives it a
fresh nonce, then `LoginRequest22V5` with the password in the clear (what the
client sends, over TLS or loopback) or signed, or the older `LoginRequest14sp4`
with the signed password, `md5(nonce ":" sha1(password))` in hex as BroadWorks
computes it. The one account is the login the server was started with (the same
ONENET_OCIP_USER and ONENET_OCIP_PASSWORD the client reads). `trust` lets an
in-process test skip all that; a real connection has no other way in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.peer.context import peer_fault
from onenet_apply.backends.ocip.url import Login

REQUESTS = frozenset(
    {"AuthenticationRequest", "LoginRequest22V5", "LoginRequest14sp4", "LogoutRequest"}
)
INVALID_LOGIN = peer_fault(4962, "Invalid user id or password")
NO_NONCE = peer_fault(4961, "A signed password needs the nonce of an AuthenticationRequest first")


def signed(nonce: str, password: str) -> str:
    """The signed password of the nonce login: md5(nonce:sha1(password)), hex."""
    digest = hashlib.sha1(password.encode()).hexdigest()
    return hashlib.md5(f"{nonce}:{digest}".encode()).hexdigest()


@dataclass
class Gate:
    account: Login | None = None  # None: only trusted connections get in
    enterprise: str = "sandbox"
    logged_in: set[str] = field(default_factory=set)  # connection ids
    nonces: dict[str, str] = field(default_factory=dict, repr=False)

    def trust(self, connection: str) -> None:
        self.logged_in.add(connection)

    def admits(self, connection: str) -> bool:
        return connection in self.logged_in

    def forget(self, connection: str) -> None:
        """The session ends: logged out, expired, or the connection closed."""
        self.logged_in.discard(connection)
        self.nonces.pop(connection, None)

    def answer(self, connection: str, command: Any) -> Any:
        """The answer to one of `REQUESTS`."""
        name = command.type_
        if name == "AuthenticationRequest":
            nonce = self.nonces[connection] = secrets.token_hex(16)
            return codec.response(
                "AuthenticationResponse",
                user_id=command.user_id,
                nonce=nonce,
                password_algorithm="MD5",
            )
        if name == "LogoutRequest":
            self.forget(connection)
            return codec.success()
        nonce = self.nonces.pop(connection, None)
        plain = command.password if name == "LoginRequest22V5" else command.plain_text_password
        if command.signed_password is not None and nonce is None:
            return NO_NONCE
        if not self._valid(command.user_id, plain, command.signed_password, nonce):
            self.logged_in.discard(connection)
            return INVALID_LOGIN
        self.logged_in.add(connection)
        return codec.response(
            "LoginResponse14sp4" if name == "LoginRequest14sp4" else "LoginResponse22V5",
            login_type="Service Provider",
            locale="en_US",
            encoding=codec.ENCODING,
            service_provider_id=self.enterprise,
            is_enterprise=True,
            user_domain=f"{self.enterprise}.invalid",
        )

    def _valid(
        self, user: str, plain: str | None, signature: str | None, nonce: str | None
    ) -> bool:
        account = self.account
        if account is None or not hmac.compare_digest(user.encode(), account.user.encode()):
            return False
        if signature is not None and nonce is not None:
            expected = signed(nonce, account.password)
            return hmac.compare_digest(signature.lower().encode(), expected.encode())
        return plain is not None and hmac.compare_digest(plain.encode(), account.password.encode())
