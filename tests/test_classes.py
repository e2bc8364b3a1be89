"""Type tokens resolve to the classes their providers' packages export, the public way."""

import pulumi_azure_native
import pulumiverse_time
import pytest

from federation import config
from federation.config import stackfile
from federation.program import classes, stack
from federation.program.graph import STACK_REFERENCE
from tests.support import PROJECT


def _tokens() -> set[str]:
    found: set[str] = set()
    for path in sorted(PROJECT.glob("Pulumi.*.yaml")):
        stack_file = stackfile.read_stack_file(path)
        graph = stack.build(config.parse(stack_file.config, stack_file.stack))
        found |= {node.type for node in graph if not node.component and node.type != STACK_REFERENCE}
    return found


@pytest.mark.parametrize("token", sorted(_tokens()))
def test_each_type_gets_the_class_its_package_exports(token: str) -> None:
    _, module, name = token.split(":")
    package = pulumiverse_time if token.startswith("time:") else getattr(pulumi_azure_native, module)
    assert classes.resource_class(token) is getattr(package, name)


@pytest.mark.parametrize(
    "token", ["azure-native:storage:NoSuchThing", "aws:s3:Bucket", "azure-native:nosuchmodule:Thing"]
)
def test_an_unknown_type_is_named(token: str) -> None:
    with pytest.raises(KeyError, match=token):
        classes.resource_class(token)
