"""The Graph client: msgraph-sdk's GraphServiceClient with an azure-identity credential, run on a
private event loop so that the connector's methods stay synchronous.

Everything of the SDK is imported here, inside functions that run when a graph connector first talks
to Graph (its first import costs about a second). Requests are built by the SDK's request builders
and sent through its request adapter (authentication, middleware, OData error mapping); responses
are read as raw JSON, so attributes keep Graph's own names (the playbook's). Throttling (429, 503)
is retried here, honouring Retry-After up to ``max_wait``; the SDK's own retry handler is off, so
there is one policy and it is ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
import warnings
from collections.abc import Callable
from typing import Any

from reconciler.connectors.graph.settings import Settings
from reconciler.connectors.graph.translate import GraphFailure, throttled, translate
from reconciler.errors import ConnectionFailed


class GraphSession:
    """One authenticated client; ``call(build)`` sends the request ``build(client)`` describes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._http: Any = None
        self._credential: Any = None
        self.waited = 0.0  # seconds spent waiting on Retry-After (for tests and the run summary)

    # ----------------------------------------------------------- building the client
    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._build()
        return self._client

    def _build(self) -> Any:
        import httpx
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )
        from kiota_http.middleware.options import RetryHandlerOption
        from msgraph import GraphRequestAdapter, GraphServiceClient
        from msgraph.graph_request_adapter import options as sdk_options
        from msgraph_core import GraphClientFactory

        s = self.settings
        self._credential = self._make_credential()
        verify: Any = ssl.create_default_context(cafile=str(s.ca_file)) if s.ca_file is not None else True
        http = httpx.AsyncClient(verify=verify, timeout=httpx.Timeout(s.timeout), follow_redirects=False)
        options = {**sdk_options, RetryHandlerOption.get_key(): RetryHandlerOption(should_retry=False)}
        http = GraphClientFactory.create_with_default_middleware(client=http, options=options)
        self._http = http
        auth = AzureIdentityAuthenticationProvider(self._credential, scopes=s.scopes, allowed_hosts=[s.host])
        adapter = GraphRequestAdapter(auth, client=http)
        adapter.base_url = s.base_url
        return GraphServiceClient(request_adapter=adapter)

    def _make_credential(self) -> Any:
        from azure.identity import CertificateCredential, ClientSecretCredential

        s = self.settings
        kwargs: dict[str, Any] = {"authority": s.authority, "disable_instance_discovery": s.authority_is_custom}
        if s.ca_file is not None:
            kwargs["connection_verify"] = str(s.ca_file)
        if s.client_secret is not None:
            secret = s.client_secret.reveal() if hasattr(s.client_secret, "reveal") else str(s.client_secret)
            return ClientSecretCredential(s.tenant, s.client_id, secret, **kwargs)
        pem = s.certificate.reveal() if hasattr(s.certificate, "reveal") else str(s.certificate)
        return CertificateCredential(s.tenant, s.client_id, certificate_data=pem.encode(), **kwargs)

    # ----------------------------------------------------------- sending
    def run(self, coro: Any) -> Any:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coro)

    def call(self, build: Callable[[Any], Any], what: str) -> Any:
        """Send the request ``build(client)`` returns (a kiota RequestInformation); the parsed JSON body
        (None when there is none). Throttling is waited out and retried; what still fails is raised as
        a ``GraphFailure`` (its ``error`` is the reconciler error it means)."""
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        s = self.settings
        attempt = 0
        while True:
            try:
                client = self.client
                with warnings.catch_warnings():  # the SDK's generated modules warn of their own deprecations
                    warnings.simplefilter("ignore", DeprecationWarning)
                    info = build(client)
                raw = self.run(client.request_adapter.send_primitive_async(info, "bytes", {"XXX": ODataError}))
                return json.loads(raw) if raw else None
            except ConnectionFailed:
                raise
            except Exception as exc:  # every SDK failure is translated at this boundary
                wait = throttled(exc)
                if wait is not None and attempt < s.retries:
                    attempt += 1
                    pause = min(max(wait, 0.0), s.max_wait)
                    self.waited += pause
                    time.sleep(pause)
                    continue
                raise translate(exc, s, what) from exc

    def call_or_fail(self, build: Callable[[Any], Any], what: str) -> Any:
        """``call`` whose per-request failures are raised as the reconciler error they mean."""
        try:
            return self.call(build, what)
        except GraphFailure as failure:
            raise failure.error from failure.__cause__

    def close(self) -> None:
        if self._loop is not None:
            if self._http is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    self._loop.run_until_complete(self._http.aclose())
            self._loop.close()
            self._loop = None
        if self._credential is not None:
            with contextlib.suppress(Exception):
                self._credential.close()
        self._client = self._http = self._credential = None


def with_json(info: Any, body: dict[str, Any]) -> Any:
    """A request's body as raw JSON (Graph's own property names), instead of a typed model."""
    info.set_stream_content(json.dumps(body).encode(), "application/json")
    return info
