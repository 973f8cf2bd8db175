"""A Graph-compatible server for the graph connector's tests: Microsoft Graph v1.0 as far as the connector
relies on it, on 127.0.0.1, over HTTPS with a self-signed certificate (the connector trusts it through
its ``ca_file``), with the token endpoint azure-identity talks to.

Covered: the OpenID configuration and the client-credentials token endpoint of
``{authority}/{tenant}``; bearer tokens checked on every Graph request (401 otherwise);
``/v1.0/users`` and ``/v1.0/groups``: list with ``$select``, ``$top`` and ``@odata.nextLink`` paging,
``$expand=manager($select=id)``; ``/delta()`` with ``$deltatoken=latest``, ``@odata.nextLink`` /
``@odata.deltaLink``, ``@removed`` for deleted objects, ``members@delta``, and 410 for a token the
server no longer knows; POST, GET, PATCH and DELETE of one object; ``manager/$ref`` (PUT, DELETE, GET
``/manager``) and ``members/$ref`` (POST, DELETE); errors in Graph's JSON shape (404
Request_ResourceNotFound, 400 Request_BadRequest with a message, 429 with Retry-After).
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "s3cr3t-Value-never-printed"
SECRET_ENV = "RECONCILER_TEST_GRAPH_SECRET"
USER_REQUIRED = ("accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile")
GROUP_REQUIRED = ("displayName", "mailNickname", "mailEnabled", "securityEnabled")
DEFAULT_PAGE = 100


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA): (certificate, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-addext", "basicConstraints=critical,CA:TRUE",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _not_found(oid: str) -> GraphError:
    return GraphError(404, "Request_ResourceNotFound",
                      f"Resource '{oid}' does not exist or one of its queried reference-property objects "
                      "are not present.")  # fmt: skip


class Directory:
    """The tenant's objects, a change sequence for delta, and the server's tokens."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, dict[str, Any]]] = {"users": {}, "groups": {}}
        self.manager: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        self.seq = 0
        self.changed: dict[str, int] = {}  # id → sequence of its last change
        self.members_changed: dict[str, int] = {}  # group id → sequence of its last membership change
        self.removed: dict[str, tuple[str, int]] = {}  # id → (collection, sequence of its deletion)
        self.pages: dict[str, tuple[list[dict[str, Any]], str | None]] = {}  # skiptoken → rest, deltaLink
        self.delta_tokens: dict[str, tuple[int, list[str] | None, str | None]] = {}
        self.page_size = DEFAULT_PAGE  # delta pages (Graph sizes them by Prefer: odata.maxpagesize)
        self.tokens: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self.throttle_left = 0
        self.throttle_after = 0  # Graph requests answered before the throttling starts
        self.retry_after = 1

    def touch(self, oid: str) -> None:
        self.seq += 1
        self.changed[oid] = self.seq

    def touch_members(self, gid: str) -> None:
        """A membership change: as in Graph, a group's delta shows it only to a request that selected members."""
        self.seq += 1
        self.members_changed[gid] = self.seq

    def collection_of(self, oid: str) -> str | None:
        return next((c for c, objs in self.objects.items() if oid in objs), None)

    # ----------------------------------------------------------- what tests call directly
    def add(self, collection: str, **props: Any) -> str:
        with self.lock:
            oid = str(uuid.uuid4())
            self.objects[collection][oid] = {"id": oid, **props}
            if collection == "groups":
                self.members[oid] = []
            self.touch(oid)
            return oid

    def update(self, oid: str, **props: Any) -> None:
        with self.lock:
            coll = self.collection_of(oid)
            assert coll is not None
            self.objects[coll][oid].update(props)
            self.touch(oid)

    def delete(self, oid: str) -> None:
        with self.lock:
            coll = self.collection_of(oid)
            if coll is None:
                raise _not_found(oid)
            del self.objects[coll][oid]
            self.manager.pop(oid, None)
            self.members.pop(oid, None)
            for other, mid in list(self.manager.items()):
                if mid == oid:
                    del self.manager[other]
                    self.touch(other)
            for gid, ids in self.members.items():
                if oid in ids:
                    ids.remove(oid)
                    self.touch_members(gid)
            self.changed.pop(oid, None)
            self.seq += 1
            self.removed[oid] = (coll, self.seq)

    def find(self, collection: str, prop: str, value: Any) -> dict[str, Any] | None:
        with self.lock:
            return next((dict(o) for o in self.objects[collection].values() if o.get(prop) == value), None)

    def expire_delta_tokens(self) -> None:
        with self.lock:
            self.delta_tokens.clear()

    def throttle(self, times: int, retry_after: int = 1, after: int = 0) -> None:
        with self.lock:
            self.throttle_left, self.retry_after, self.throttle_after = times, retry_after, after

    # ----------------------------------------------------------- rendering
    def render(self, coll: str, obj: dict[str, Any], select: list[str] | None, expand: str | None,
               delta: bool = False) -> dict[str, Any]:  # fmt: skip
        oid = obj["id"]
        if select:
            out = {"id": oid, **{k: obj.get(k) for k in select if k not in ("id", "manager", "members")}}
        else:
            out = {k: v for k, v in obj.items() if k != "passwordProfile"}
        out.pop("passwordProfile", None)  # Graph never returns it
        if out.get("passwordProfile") is None:
            out.pop("passwordProfile", None)
        if coll == "users" and expand and expand.startswith("manager") and oid in self.manager:
            out["manager"] = {"@odata.type": "#microsoft.graph.user", "id": self.manager[oid]}
        if coll == "groups" and delta and select and "members" in select:
            out["members@delta"] = [{"@odata.type": "#microsoft.graph.user", "id": m} for m in self.members[oid]]
        return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GraphHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ----------------------------------------------------------- plumbing
    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        if "json" in (self.headers.get("Content-Type") or ""):
            return json.loads(raw)  # type: ignore[no-any-return]
        return {k: v[0] for k, v in parse_qs(raw.decode()).items()}

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        d = self.server.directory
        try:
            body = self._body()
            with d.lock:
                d.requests.append((method, self.path))
                if url.path.startswith("/v1.0/"):
                    self._authorize()
                    if d.throttle_after > 0:
                        d.throttle_after -= 1
                    elif d.throttle_left > 0:
                        d.throttle_left -= 1
                        raise GraphError(429, "TooManyRequests", "Too many requests.",
                                         {"Retry-After": str(d.retry_after)})  # fmt: skip
                    status, out = self.server.graph(method, url.path[len("/v1.0"):], query, body)
                else:
                    status, out = self.server.login(method, url.path, body)
            self._send(status, out)
        except GraphError as exc:
            error = {"code": exc.code, "message": exc.message,
                     "innerError": {"request-id": str(uuid.uuid4()), "date": "2024-01-01T00:00:00"}}  # fmt: skip
            self._send(exc.status, {"error": error}, exc.headers)

    def _authorize(self) -> None:
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.server.directory.tokens:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


_OBJ = re.compile(r"^/(users|groups)/([^/]+)(?:/(manager|members)(?:/([^/$]+))?(/\$ref)?)?$")


class GraphHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, directory: Directory, cert: Path, key: Path) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.directory = directory
        self.base = f"https://127.0.0.1:{self.server_address[1]}"

    # ----------------------------------------------------------- login
    def login(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        tenant = parts[0]
        if tenant != TENANT:
            raise GraphError(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")
        if path.endswith("/.well-known/openid-configuration"):
            root = f"{self.base}/{tenant}"
            return 200, {"issuer": f"{root}/v2.0", "token_endpoint": f"{root}/oauth2/v2.0/token",
                         "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                         "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                         "tenant_region_scope": "EU"}  # fmt: skip
        if method == "POST" and path.endswith("/oauth2/v2.0/token"):
            if body.get("client_id") != CLIENT_ID or body.get("client_secret") != SECRET:
                return 401, {"error": "invalid_client", "error_codes": [7000215],
                             "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the "
                                                  "secret being sent in the request is the client secret value."}
            token = uuid.uuid4().hex
            self.directory.tokens.add(token)
            return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
        raise GraphError(404, "not_found", path)

    # ----------------------------------------------------------- Graph
    def graph(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        d = self.directory
        select = [s for s in query.get("$select", "").split(",") if s] or None
        expand = query.get("$expand")
        if path in ("/users", "/groups") and method == "GET":
            if "$skiptoken" in query:
                return 200, self._page(query["$skiptoken"], path)
            coll = path[1:]
            items = [d.render(coll, o, select, expand) for o in d.objects[coll].values()]
            return 200, self._paged(path, items, int(query.get("$top", DEFAULT_PAGE)), None)
        if path in ("/users", "/groups") and method == "POST":
            return 201, self._create(path[1:], body)
        if path in ("/users/delta()", "/groups/delta()") and method == "GET":
            return 200, self._delta(path[1:-8], query, select, expand)
        m = _OBJ.match(path)
        if m is None:
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{path.strip('/')}'.")
        coll, oid, nav, ref_id, ref = m.groups()
        obj = d.objects[coll].get(oid)
        if obj is None:
            raise _not_found(oid)
        if nav is None:
            if method == "GET":
                return 200, d.render(coll, obj, select, expand)
            if method == "PATCH":
                self._check(coll, body, obj)
                obj.update({k: v for k, v in body.items() if not k.startswith("@")})
                d.touch(oid)
                return 204, None
            if method == "DELETE":
                d.delete(oid)
                return 204, None
        if coll == "users" and nav == "manager" and ref_id is None:
            if method == "GET" and not ref:
                if oid not in d.manager:
                    raise _not_found("manager")
                mid = d.manager[oid]
                return 200, {"@odata.type": "#microsoft.graph.user", **d.render("users", d.objects["users"][mid], select, None)}
            if method == "PUT" and ref:
                d.manager[oid] = self._ref_target(body)
                d.touch(oid)
                return 204, None
            if method == "DELETE" and ref:
                if d.manager.pop(oid, None) is None:
                    raise _not_found("manager")
                d.touch(oid)
                return 204, None
        if coll == "groups" and nav == "members":
            members = d.members[oid]
            if method == "GET" and not ref and ref_id is None:
                return 200, {"value": [{"@odata.type": "#microsoft.graph.user", "id": x} for x in members]}
            if method == "POST" and ref and ref_id is None:
                target = self._ref_target(body)
                if target in members:
                    raise GraphError(400, "Request_BadRequest", "One or more added object references already "
                                     "exist for the following modified properties: 'members'.")  # fmt: skip
                members.append(target)
                d.touch_members(oid)
                return 204, None
            if method == "DELETE" and ref and ref_id is not None:
                if ref_id not in members:
                    raise _not_found(ref_id)
                members.remove(ref_id)
                d.touch_members(oid)
                return 204, None
        raise GraphError(405, "Request_BadRequest", f"{method} is not supported on {path}")

    def _ref_target(self, body: dict[str, Any]) -> str:
        target = str(body.get("@odata.id") or "").rstrip("/").rsplit("/", 1)[-1]
        if self.directory.collection_of(target) is None:
            raise _not_found(target)
        return target

    def _check(self, coll: str, body: dict[str, Any], current: dict[str, Any] | None) -> None:
        for k, v in body.items():
            if k in ("manager", "members"):
                raise GraphError(400, "Request_BadRequest", f"Property '{k}' is a navigation property; "
                                 "use the $ref endpoint.")  # fmt: skip
            if k in ("accountEnabled", "mailEnabled", "securityEnabled") and not isinstance(v, bool):
                raise GraphError(400, "Request_BadRequest", f"Invalid value specified for property '{k}' "
                                 f"of resource '{coll[:-1].capitalize()}'.")  # fmt: skip
            if k == "passwordProfile" and not (isinstance(v, dict) and v.get("password")):
                raise GraphError(400, "Request_BadRequest", "Invalid value specified for property "
                                 "'passwordProfile' of resource 'User'.")  # fmt: skip
        upn = body.get("userPrincipalName")
        if coll == "users" and upn is not None:
            if "@" not in str(upn):
                raise GraphError(400, "Request_BadRequest", "Property userPrincipalName is invalid.")
            other = self.directory.find("users", "userPrincipalName", upn)
            if other is not None and (current is None or other["id"] != current["id"]):
                raise GraphError(400, "Request_BadRequest", "Another object with the same value for property "
                                 "userPrincipalName already exists.")  # fmt: skip

    def _create(self, coll: str, body: dict[str, Any]) -> dict[str, Any]:
        required = USER_REQUIRED if coll == "users" else GROUP_REQUIRED
        missing = [k for k in required if body.get(k) is None]
        if missing:
            raise GraphError(400, "Request_BadRequest", f"Invalid value specified for property '{missing[0]}' "
                             f"of resource '{coll[:-1].capitalize()}'.")  # fmt: skip
        self._check(coll, body, None)
        oid = self.directory.add(coll, **{k: v for k, v in body.items() if not k.startswith("@")})
        return self.directory.render(coll, self.directory.objects[coll][oid], None, None)

    # ----------------------------------------------------------- paging and delta
    def _paged(self, path: str, items: list[dict[str, Any]], top: int, delta_link: str | None) -> dict[str, Any]:
        first, rest = items[:top], items[top:]
        out: dict[str, Any] = {"@odata.context": f"{self.base}/v1.0/$metadata#{path.strip('/')}", "value": first}
        if rest:
            skip = uuid.uuid4().hex
            chunks = [rest[i:i + top] for i in range(0, len(rest), top)]
            self.directory.pages[skip] = (chunks[0], None)
            links = []
            for chunk in chunks[1:]:
                nxt = uuid.uuid4().hex
                links.append(nxt)
                self.directory.pages[nxt] = (chunk, None)
            tokens = [skip, *links]
            for i, tok in enumerate(tokens):
                chunk, _ = self.directory.pages[tok]
                following = tokens[i + 1] if i + 1 < len(tokens) else None
                self.directory.pages[tok] = (chunk, f"{path}?$skiptoken={following}" if following else delta_link)
            out["@odata.nextLink"] = f"{self.base}/v1.0{path}?$skiptoken={skip}"
        elif delta_link:
            out["@odata.deltaLink"] = delta_link
        return out

    def _page(self, skip: str, path: str) -> dict[str, Any]:
        page = self.directory.pages.pop(skip, None)
        if page is None:
            raise GraphError(400, "Request_BadRequest", "The skip token is invalid or has expired.")
        items, after = page
        out: dict[str, Any] = {"value": items}
        if after and "$skiptoken=" in after:
            out["@odata.nextLink"] = f"{self.base}/v1.0{after}"
        elif after:
            out["@odata.deltaLink"] = after
        return out

    def _delta(self, coll: str, query: dict[str, str], select: list[str] | None, expand: str | None) -> dict[str, Any]:
        d = self.directory
        path = f"/{coll}/delta()"
        if "$skiptoken" in query:
            return self._page(query["$skiptoken"], path)
        token = query.get("$deltatoken")
        since = 0
        if token == "latest":
            since = d.seq
        elif token is not None:
            if token not in d.delta_tokens:
                raise GraphError(410, "resyncRequired", "Resync required. The delta token has expired; "
                                 "replace it with the initial delta request.")  # fmt: skip
            since, select, expand = d.delta_tokens[token]
        items: list[dict[str, Any]] = []
        by_members = coll == "groups" and select is not None and "members" in select
        for oid, obj in d.objects[coll].items():
            if d.changed.get(oid, 0) > since or (by_members and d.members_changed.get(oid, 0) > since):
                items.append(d.render(coll, obj, select, expand, delta=True))
        if token is not None:
            for oid, (c, when) in d.removed.items():
                if c == coll and when > since:
                    items.append({"id": oid, "@removed": {"reason": "deleted"}})
        new = uuid.uuid4().hex
        d.delta_tokens[new] = (d.seq, select, expand)
        link = f"{self.base}/v1.0{path}?$deltatoken={new}"
        return self._paged(path, items, d.page_size, link)


@contextmanager
def running(folder: Path) -> Iterator[tuple[GraphHTTPServer, Path]]:
    """A server in a thread: (server, the CA file that trusts it)."""
    cert, key = make_certificate(folder)
    server = GraphHTTPServer(Directory(), cert, key)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, cert
    finally:
        server.shutdown()
        server.server_close()
