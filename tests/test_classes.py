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
        held = pulumi_azure_native.storage  # taken before, not yet loaded
        from federation import classes
        account = classes.resource_class("azure-native:storage:StorageAccount")
        names = sorted(dir(held))  # loads the rest
        from pulumi_azure_native import storage
        from pulumi_azure_native.storage import StorageAccount, Table
        assert storage is held is pulumi_azure_native.storage
        assert StorageAccount is account and Table is storage.table.Table
        assert storage.get_storage_account_output.__module__ == "pulumi_azure_native.storage.get_storage_account"
        print(names)
    """)
    whole = _fresh("import pulumi_azure_native.storage as s; s.Table; print(sorted(dir(s)))")
    assert out == whole


def test_a_name_its_module_exports_is_what_the_package_exports() -> None:
    # The module get_client_config exports get_client_config, a function, as the package does.
    out = _fresh("""
        import asyncio
        import pulumi
        from federation import classes

        class Mocks(pulumi.runtime.Mocks):
            def new_resource(self, args): return [args.name, args.inputs]
            def call(self, args): return {"subscriptionId": "s"}

        asyncio.set_event_loop(asyncio.new_event_loop())
        pulumi.runtime.set_mocks(Mocks())
        classes.get_client_config_output()
        classes.get_client_config_output()
        from pulumi_azure_native import authorization
        print(type(authorization.get_client_config).__name__)
    """)
    assert out.strip() == "function"


def test_threads_asking_for_more_all_see_the_whole_package() -> None:
    out = _fresh("""
        import threading
        from federation import classes
        classes.resource_class("azure-native:datashare:Share")
        import pulumi_azure_native.datashare as datashare
        wanted = ["ShareSubscription", "KustoClusterDataSet", "SqlDBTableDataSet", "get_share", "Trigger"]
        start, found = threading.Barrier(len(wanted)), {}

        def ask(name):
            start.wait()
            found[name] = hasattr(datashare, name)

        threads = [threading.Thread(target=ask, args=(name,)) for name in wanted]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(sorted(name for name, there in found.items() if not there))
    """)
    assert out.strip() == "['Trigger']"  # the one name datashare does not have


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
