"""Source credentials: encrypted in the database under a key kept outside it, or in secrets.toml.

The key (a Fernet key) is `TRUEUP_SECRET_KEY` in the environment, else `secret_key` under
`[trueup]` in `.streamlit/secrets.toml`. Without a key nothing secret is stored: a source's
secrets may then be given in `.streamlit/secrets.toml` under `[sources.NAME]`. Secret values
never appear in a message, a repr, a log or the audit log.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from errors import TrueUpError

KEY_ENV = "TRUEUP_SECRET_KEY"
SECRETS_FILE = Path(".streamlit") / "secrets.toml"
"""Relative to the working directory, as Streamlit reads it."""


class CredentialsError(TrueUpError):
    title = "The source's credentials cannot be used"


def secrets_file() -> dict[str, Any]:
    """Give back `.streamlit/secrets.toml` as a dict (empty when there is none)."""
    try:
        with SECRETS_FILE.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CredentialsError(f"{SECRETS_FILE} cannot be read: {error}") from None


def secret_key() -> str | None:
    """Give back the key that encrypts credentials, or None when none is configured."""
    key = os.environ.get(KEY_ENV)
    if not key:
        trueup = secrets_file().get("trueup")
        key = trueup.get("secret_key") if isinstance(trueup, Mapping) else None
    return str(key) if key else None


SESSION_KEY_FILE = Path("data") / "session.key"
"""Where the key signing remembered sign-ins lives when no secret key is configured."""


def signing_key() -> bytes:
    """Give back the key that signs remembered sign-ins: derived from the secret key when one is
    configured (every server of a team then shares it), else a random one kept in
    data/session.key (made on first use, readable by its owner only)."""
    key = secret_key()
    if key:
        return hashlib.sha256(b"trueup sign-in\n" + key.encode()).digest()
    try:
        return bytes.fromhex(SESSION_KEY_FILE.read_text().strip())
    except (OSError, ValueError):
        made = secrets.token_bytes(32)
        SESSION_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        SESSION_KEY_FILE.write_text(made.hex())
        SESSION_KEY_FILE.chmod(0o600)
        return made


def file_secrets(source: str) -> dict[str, str]:
    """Give back the settings of `[sources.NAME]` in `.streamlit/secrets.toml`."""
    sources = secrets_file().get("sources")
    section = sources.get(source) if isinstance(sources, Mapping) else None
    if not isinstance(section, Mapping):
        return {}
    return {str(k): str(v) for k, v in section.items()}


def no_key_message(source: str, names: Iterable[str]) -> str:
    """Give back what to do when secrets were given but there is no key to encrypt them."""
    listed = ", ".join(names)
    lines = "\n".join(f'{name} = "..."' for name in names)
    return (
        f"TrueUp has no secret key, so it will not store {listed} in the database. Either set "
        f"{KEY_ENV} (make one with `trueup source key`) or `secret_key` under [trueup] in "
        f"{SECRETS_FILE}, and add the source again; or leave them out of --set and put them in "
        f"{SECRETS_FILE} yourself:\n[sources.{source}]\n{lines}"
    )


def new_key() -> str:
    """Give back a fresh key for `TRUEUP_SECRET_KEY`."""
    return Fernet.generate_key().decode("ascii")


def encrypt(values: Mapping[str, str], key: str) -> str:
    """Give back `values` encrypted under `key`, as text to store."""
    return _fernet(key).encrypt(json.dumps(dict(values), sort_keys=True).encode()).decode("ascii")


def decrypt(token: str, key: str, source: str) -> dict[str, str]:
    """Give back the values `encrypt` gave `token` for; a CredentialsError on a wrong key."""
    try:
        plain = _fernet(key).decrypt(token.encode("ascii"))
    except InvalidToken:
        raise CredentialsError(
            f'the secret key cannot read the stored credentials of source "{source}": '
            f"was {KEY_ENV} changed? Set the key they were stored with, or give the "
            f"credentials again with `trueup source add {source} --set ...`."
        ) from None
    values = json.loads(plain)
    return {str(k): str(v) for k, v in values.items()}


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise CredentialsError(
            f"{KEY_ENV} is not a valid key (32 bytes, URL-safe base64): make one with "
            "`trueup source key`."
        ) from None


def redact(message: str, secrets: Iterable[str]) -> str:
    """Give back `message` with every secret value in it masked."""
    for value in secrets:
        if value and len(value) >= 4:
            message = message.replace(value, "***")
    return message
