"""Resource classes loaded from their own modules: the SDK's own classes, with packages that
stay whole for any other code."""

import importlib
import subprocess
import sys
import textwrap

import pytest

from federation import classes


@pytest.mark.parametrize("token", sorted(classes.MODULES))
def test_each_type_gets_the_class_its_package_exports(token: str) -> None:
    module = classes.MODULES[token]
    package = module.rsplit(".", 1)[0]
    name = token.rsplit(":", 1)[1]
    assert classes.resource_class(token) is getattr(importlib.import_module(package), name)


def test_an_unknown_type_is_named() -> None:
    with pytest.raises(KeyError, match="azure-native:storage:Table"):
        classes.resource_class("azure-native:storage:Table")


def _fresh(code: str) -> str:
    """Run `code` in a new interpreter (this one has imported packages whole already)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_class_loads_without_the_rest_of_its_package() -> None:
    out = _fresh("""
        import sys
        from federation import classes
        classes.resource_class("azure-native:storage:StorageAccount")
        classes.get_client_config_output  # not called: needs a Pulumi context
        loaded = {m for m in sys.modules if m.startswith("pulumi_azure_native.storage.")}
        print(sorted(m.rsplit(".", 1)[1] for m in loaded))
    """)
    assert out.strip() == "['_enums', '_inputs', 'outputs', 'storage_account']"


def test_the_package_is_whole_to_anyone_asking_for_more() -> None:
    out = _fresh("""
        import pulumi_azure_native
        from federation import classes
        account = classes.resource_class("azure-native:storage:StorageAccount")
        from pulumi_azure_native import storage
        from pulumi_azure_native.storage import StorageAccount, Table
        assert storage is pulumi_azure_native.storage
        assert StorageAccount is account and Table is storage.table.Table
        assert storage.get_storage_account_output.__module__ == "pulumi_azure_native.storage.get_storage_account"
        print(sorted(dir(storage)))
    """)
    whole = _fresh("import pulumi_azure_native.storage as s; s.Table; print(sorted(dir(s)))")
    assert out == whole


def test_a_package_imported_whole_before_is_left_as_it_is() -> None:
    out = _fresh("""
        import sys
        import pulumi_azure_native.datashare as datashare
        datashare.Share  # loads it whole
        before = sys.modules["pulumi_azure_native.datashare"]
        from federation import classes
        assert classes.resource_class("azure-native:datashare:Share") is datashare.Share
        print(sys.modules["pulumi_azure_native.datashare"] is before)
    """)
    assert out.strip() == "True"
