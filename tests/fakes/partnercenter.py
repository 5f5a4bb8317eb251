"""A fake Microsoft Entra ID and Partner Center: sign-in for msal, customers, subscriptions.

msal signs in only over HTTPS, so the fake is served with TLS (`tls_context`): a certificate
made for 127.0.0.1 by `certificate`, which the client trusts through SSL_CERT_FILE. Under
`/{tenant}` it plays Entra ID: the OpenID configuration msal reads first, then the token
endpoint (client credentials: the right app id and secret give a bearer token, else
`invalid_client`). Under `/v1` it plays Partner Center with that token (else 401):
`GET /v1/customers?size=` pages at most `PAGE_LIMIT` customers with a continuation token (the
next page is `links.next.uri` asked for with `links.next.headers`), and
`GET /v1/customers/{id}/subscriptions` lists a customer's subscriptions, NCE ones with their
`commitmentEndDate`.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fakes.server import Request

TENANT = "partner-tenant"
TOKEN = "fake-partner-center-token"
PAGE_LIMIT = 2
"""The most customers a page holds here, whatever `size` asks."""
BP = "CFQ7TTC0LCHC:0002"
E3 = "CFQ7TTC0LFLX:0001"
DEFENDER = "CFQ7TTC0HCHC:0001"
COMMITTED_UNTIL = dt.date.today() + dt.timedelta(days=150)
"""When the NCE commitment of Acme's Business Premium seats ends (months from today, so the
fake never goes stale)."""


class FakePartnerCenter:
    """Five customers over three pages: Acme with 25 Business Premium seats on an annual NCE
    term and monthly Defender, Birch with Business Premium and a suspended E3, Cedar on a
    trial, Delta with an Azure plan only, Echo with one seat."""

    def __init__(self, app_id: str = "pc-app", secret: str = "pc-s3cret") -> None:
        self.app_id, self.secret = app_id, secret
        self.requests: list[str] = []
        self.customers: list[dict[str, Any]] = [
            _customer("11111111-0000-4000-8000-00000000acme", "Acme Dental", "acme"),
            _customer("22222222-0000-4000-8000-0000000birch", "Birch Law", "birch"),
            _customer("33333333-0000-4000-8000-0000000cedar", "Cedar Clinic", "cedar"),
            _customer("44444444-0000-4000-8000-0000000delta", "Delta Labs", "delta"),
            _customer("55555555-0000-4000-8000-00000000echo", "Echo Arts", "echo"),
        ]
        acme, birch, cedar, delta, echo = (c["id"] for c in self.customers)
        annual = {
            "billingCycle": "monthly",
            "termDuration": "P1Y",
            "commitmentEndDate": f"{COMMITTED_UNTIL.isoformat()}T00:00:00Z",
        }
        self.subscriptions: dict[str, list[dict[str, Any]]] = {
            acme: [
                _subscription("sub-acme-bp", BP, "Microsoft 365 Business Premium", 25) | annual,
                _subscription("sub-acme-def", DEFENDER, "Microsoft Defender for Business", 25),
            ],
            birch: [
                _subscription("sub-birch-bp", BP, "Microsoft 365 Business Premium", 10),
                _subscription("sub-birch-e3", E3, "Microsoft 365 E3", 5) | {"status": "suspended"},
            ],
            cedar: [
                _subscription("sub-cedar-bp", BP, "Microsoft 365 Business Premium", 25)
                | {"isTrial": True}
            ],
            delta: [
                _subscription("sub-delta-az", "DZH318Z0BPS6:0001", "Azure plan", 1)
                | {"unitType": "Usage-based"}
            ],
            echo: [_subscription("sub-echo-bp", BP, "Microsoft 365 Business Premium", 1)],
        }

    def subscription(self, ident: str) -> dict[str, Any]:
        return next(s for subs in self.subscriptions.values() for s in subs if s["id"] == ident)

    def remove_customer(self, name: str) -> None:
        """Make a customer vanish, as one whose relationship ended does."""
        gone = next(c for c in self.customers if c["companyProfile"]["companyName"] == name)
        self.customers.remove(gone)
        self.subscriptions.pop(gone["id"])

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(f"{request.method} {request.path}")
        if request.path.startswith(f"/{TENANT}/"):
            return self.sign_in(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"code": 401, "description": "Unauthorized"}
        parts = request.path.removeprefix("/v1/").split("/")
        if parts == ["customers"]:
            return 200, self.customers_page(request)
        if len(parts) == 3 and parts[0] == "customers" and parts[2] == "subscriptions":
            if parts[1] not in self.subscriptions:
                return 404, {"code": 2013, "description": "Customer was not found."}
            items = self.subscriptions[parts[1]]
            return 200, {"totalCount": len(items), "items": items, "links": {}}
        return 404, {"code": 404, "description": "no such resource"}

    def customers_page(self, request: Request) -> dict[str, Any]:
        start = _offset(request.headers.get("ms-continuationtoken"))
        size = min(int(request.query.get("size", 500)), PAGE_LIMIT)
        shown = self.customers[start : start + size]
        links: dict[str, Any] = {}
        if start + size < len(self.customers):
            token = {"key": "MS-ContinuationToken", "value": _token(start + size)}
            links["next"] = {"uri": f"/v1/customers?size={size}", "method": "GET"}
            links["next"]["headers"] = [token]
        return {"totalCount": len(shown), "items": shown, "links": links}

    def sign_in(self, request: Request) -> tuple[int, Any]:
        root = f"https://{request.headers['host']}/{TENANT}"
        if request.path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
            return 200, {
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "issuer": f"{root}/v2.0",
            }
        if request.method == "POST" and request.path == f"/{TENANT}/oauth2/v2.0/token":
            form = dict(parse_qsl(request.body.decode()))
            if (form.get("client_id"), form.get("client_secret")) != (self.app_id, self.secret):
                return 401, {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                }
            return 200, {"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"}
        return 404, {"error": "not_found"}


def _customer(ident: str, name: str, domain: str) -> dict[str, Any]:
    profile = {"tenantId": ident, "domain": f"{domain}.onmicrosoft.com", "companyName": name}
    return {"id": ident, "companyProfile": profile, "relationshipToPartner": "reseller"}


def _subscription(ident: str, product: str, name: str, quantity: int) -> dict[str, Any]:
    return {
        "id": ident,
        "offerId": f"{product}:CFQ7TTC0N8SS",
        "offerName": name,
        "friendlyName": name,
        "quantity": quantity,
        "unitType": "Licenses",
        "status": "active",
        "isTrial": False,
        "billingCycle": "monthly",
        "termDuration": "P1M",
        "autoRenewEnabled": True,
        "effectiveStartDate": "2026-01-01T00:00:00Z",
        "creationDate": "2026-01-01T10:00:00Z",
    }


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"customers:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    return int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("customers:"))


# ---- TLS for 127.0.0.1 -----------------------------------------------------------------------


def certificate(folder: Path) -> tuple[Path, Path]:
    """Give back a self-signed certificate for 127.0.0.1 and its key, written into `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fake-ms.pem", folder / "fake-ms.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def tls_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """Give back a server context that presents the certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context
