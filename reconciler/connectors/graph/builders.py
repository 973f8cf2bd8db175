"""Graph requests, built by msgraph-sdk's request builders (URL templates, path parameters), with raw
JSON bodies. Each function takes the GraphServiceClient and returns a kiota RequestInformation."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from reconciler.connectors.graph.client import with_json


def collection(client: Any, object_type: str) -> Any:
    return client.users if object_type == "user" else client.groups


def item(client: Any, object_type: str, oid: str) -> Any:
    return client.users.by_user_id(oid) if object_type == "user" else client.groups.by_group_id(oid)


def get(builder: Any, **query: Any) -> Any:
    """A GET of ``builder`` with OData query options (select=[…], expand=[…], top=N)."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration

    params = next(v for k, v in vars(type(builder)).items() if k.endswith("GetQueryParameters"))
    with warnings.catch_warnings():  # the generated classes warn that newer generators name them otherwise
        warnings.simplefilter("ignore", DeprecationWarning)
        config = RequestConfiguration(query_parameters=params(**query)) if query else None
        return builder.to_get_request_information(config)


def url(client: Any, link: str) -> Any:
    """A GET of a link Graph gave (@odata.nextLink, @odata.deltaLink), as it is."""
    return client.users.with_url(link).to_get_request_information()


def follow(link: str) -> Callable[[Any], Any]:
    """What ``GraphSession.call`` takes to GET ``link``."""
    return lambda client: url(client, link)


def send(builder: Any, method: str, body: dict[str, Any] | None = None) -> Any:
    """A POST, PATCH, PUT or DELETE on ``builder``'s URL, with ``body`` as JSON."""
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation

    info = RequestInformation(Method[method], builder.url_template, builder.path_parameters)
    info.headers.try_add("Accept", "application/json")
    if body is not None:
        with_json(info, body)
    return info


def latest_delta(client: Any, object_type: str, select: list[str], expand: list[str]) -> Any:
    """The delta request that returns no object, only a deltaLink for the tenant as it is now."""
    info = get(collection(client, object_type).delta, select=select, expand=expand or None)
    info.path_parameters["baseurl"] = client.request_adapter.base_url  # the adapter sets it only when sending
    link = info.url
    return url(client, link + ("&" if "?" in link else "?") + "$deltatoken=latest")


def reference(base_url: str, oid: str) -> dict[str, str]:
    return {"@odata.id": f"{base_url}/directoryObjects/{oid}"}
