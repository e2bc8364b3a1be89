"""Type token -> the resource class that registers it, from the provider's public package."""

import importlib
from typing import Any

# Provider name in a type token -> its Python package; an azure-native token's module is a
# subpackage of it.
_PACKAGES = {"azure-native": "pulumi_azure_native", "time": "pulumiverse_time"}


def resource_class(token: str) -> Any:
    """The class that registers resources of this type token, as its package exports it."""
    provider, module, name = token.split(":")
    if provider not in _PACKAGES:
        raise KeyError(f"no package for the type token {token}")
    package = _PACKAGES[provider] + ("" if module.startswith("index") else f".{module}")
    try:
        found = getattr(importlib.import_module(package), name, None)
    except ModuleNotFoundError:
        found = None
    if found is None:
        raise KeyError(f"{package} has no class for the type token {token}")
    return found


def get_client_config_output() -> Any:
    """azure-native's `authorization.get_client_config_output()`: the deploying identity."""
    from pulumi_azure_native import authorization

    return authorization.get_client_config_output()
