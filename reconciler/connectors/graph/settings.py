"""A graph connector's playbook keys, checked once when the connector opens (nothing is connected).

``tenant``, ``cloud`` (AzurePublic | AzureUSGovernment | AzureChina: the Graph and login hosts),
``client_id``, ``client_secret`` or ``certificate`` (secrets, revealed only when the credential is
built), ``endpoint`` / ``authority`` (override the cloud's hosts; http only on loopback) and ``ca_file``
(the CA bundle trusted for both), ``object_types`` ({user: [attributes], group: [attributes]}).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reconciler.errors import UserError
from reconciler.playbook.model import ConnectorConfig, Secret

#: cloud → (Graph host, login host)
CLOUDS = {
    "AzurePublic": ("https://graph.microsoft.com", "https://login.microsoftonline.com"),
    "AzureUSGovernment": ("https://graph.microsoft.us", "https://login.microsoftonline.us"),
    "AzureChina": ("https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}
#: object type → the Graph collection that holds it
COLLECTIONS = {"user": "users", "group": "groups"}
#: the attribute each object type's DN is made of (what a reviewer recognises in a plan)
DN_ATTRIBUTE = {"user": "userPrincipalName", "group": "mailNickname"}
PAGE_SIZE = 999  # Graph's largest page for users and groups
TIMEOUT = 60.0
RETRIES = 4  # throttled requests are retried this many times…
MAX_WAIT = 30.0  # …waiting what Retry-After says, at most this long each time


@dataclass
class Settings:
    name: str
    tenant: str
    cloud: str
    client_id: str
    client_secret: Any  # a Secret: revealed only by ``reveal``
    certificate: Any  # a Secret holding a PEM certificate with its private key
    endpoint: str  # Graph's root, without /v1.0
    authority: str  # the login host
    ca_file: Path | None
    object_types: dict[str, list[str]]
    page_size: int = PAGE_SIZE
    timeout: float = TIMEOUT
    retries: int = RETRIES
    max_wait: float = MAX_WAIT

    @property
    def base_url(self) -> str:
        return self.endpoint.rstrip("/") + "/v1.0"

    @property
    def scopes(self) -> list[str]:
        return [CLOUDS[self.cloud][0] + "/.default"]

    @property
    def authority_is_custom(self) -> bool:
        """An authority that is not the cloud's login host: no instance discovery (it would ask Microsoft)."""
        return self.authority != CLOUDS[self.cloud][1]

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).hostname or ""

    @property
    def credential_source(self) -> str:
        """Where the credential comes from, for messages: never its value."""
        secret = self.client_secret if self.client_secret is not None else self.certificate
        kind = "client_secret" if self.client_secret is not None else "certificate"
        return f"{kind} {secret.describe()}" if isinstance(secret, Secret) else kind

    def digest(self) -> str:
        """What an import depends on: a watermark made under other settings is not used again."""
        data = json.dumps([self.endpoint, self.tenant, {k: sorted(v) for k, v in self.object_types.items()}],
                          sort_keys=True)  # fmt: skip
        return hashlib.blake2b(data.encode(), digest_size=6).hexdigest()


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_settings(config: ConnectorConfig) -> Settings:
    where = f"connector {config.name}"
    tenant = str(config.option("tenant") or "")
    client_id = str(config.option("client_id") or "")
    if not tenant:
        raise UserError(f"{where}: a graph connector needs `tenant`", hint="e.g. tenant: contoso.onmicrosoft.com")
    if not client_id:
        raise UserError(f"{where}: a graph connector needs `client_id`",
                        hint="the application (client) id of the app registration")  # fmt: skip
    cloud = str(config.option("cloud") or "AzurePublic")
    if cloud not in CLOUDS:
        raise UserError(f"{where}: unknown cloud {cloud!r}", hint=f"one of {', '.join(CLOUDS)}")
    secret, cert = config.option("client_secret"), config.option("certificate")
    if (secret is None) == (cert is None):
        raise UserError(f"{where}: a graph connector needs exactly one of `client_secret` and `certificate`",
                        hint="e.g. client_secret: {env: ENTRA_SECRET}")  # fmt: skip
    unknown = [t for t in config.object_types if t not in COLLECTIONS]
    if unknown or not config.object_types:
        raise UserError(f"{where}: object_types must name user and/or group, not {', '.join(unknown) or 'none'}",
                        hint="e.g. object_types: {user: [displayName, userPrincipalName, accountEnabled]}")
    graph_host, login_host = CLOUDS[cloud]
    endpoint = str(config.option("endpoint") or graph_host).rstrip("/")
    authority = str(config.option("authority") or login_host).rstrip("/")
    for key, url in (("endpoint", endpoint), ("authority", authority)):
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise UserError(f"{where}: {key} {url!r} must start with https://")
        if scheme == "http" and not is_loopback(url):
            raise UserError(f"{where}: {key} {url} is plain http on a host that is not loopback",
                            hint="use https:// (http is accepted only on 127.0.0.1 / localhost, for tests)")
    if urlsplit(authority).scheme != "https":
        raise UserError(f"{where}: authority {authority} must be https (azure-identity refuses anything else)")
    return Settings(
        name=config.name, tenant=tenant, cloud=cloud, client_id=client_id, client_secret=secret,
        certificate=cert, endpoint=endpoint, authority=authority, ca_file=config.path_option("ca_file"),
        object_types={t: list(a) for t, a in config.object_types.items()},
    )  # fmt: skip
