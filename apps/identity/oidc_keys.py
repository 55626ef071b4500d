"""The OIDC signing key (RS256), read by settings before Django is set up.

Production supplies the PEM in ``OIDC_RSA_PRIVATE_KEY`` (settings refuse to start without it
when DEBUG is off). The zero-setup demo generates one key on first start and keeps it under
``var/`` so ID tokens stay verifiable across restarts. This module must not import Django
models: settings import it.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def generate_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def demo_private_key(path: Path) -> str:
    """The demo key stored at ``path``; generated (mode 0600) when the file does not exist."""
    if path.exists():
        return path.read_text(encoding="ascii")
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = generate_private_key_pem()
    # O_EXCL: two processes starting at once must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii")
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(pem)
    return pem


def normalise_pem(value: str) -> str:
    """Accept a PEM whose newlines were written as ``\\n`` (one-line environment variables)."""
    return value.replace("\\n", "\n").strip() + "\n" if value.strip() else ""
