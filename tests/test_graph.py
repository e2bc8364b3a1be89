"""The graph refuses what could not be registered in order: a second resource with the
same URN, or a node added before a node it needs."""

import pytest

from federation.program.graph import SUBSCRIPTION, Concat, Graph, Node

GROUP = Node("azure-native:resources:ResourceGroup", "resource-group")


def test_a_urn_is_taken_once() -> None:
    graph = Graph()
    graph.add(GROUP)
    with pytest.raises(ValueError, match="share the URN of azure-native:resources:ResourceGroup::resource-group"):
        graph.add(Node(GROUP.type, GROUP.name, {"location": "northeurope"}))


@pytest.mark.parametrize(
    "node",
    [
        Node("azure-native:datashare:Account", "account", {"resource_group_name": GROUP.ref("name")}),
        Node("azure-native:datashare:Account", "account", {"tags": [Concat(("x", GROUP.ref("id")))]}),
        Node("azure-native:datashare:Account", "account", depends_on=(GROUP,)),
        Node("azure-native:datashare:Account", "account", parent=GROUP),
    ],
    ids=["reference", "nested reference", "dependency", "parent"],
)
def test_what_a_node_needs_comes_first(node: Node) -> None:
    with pytest.raises(ValueError, match="is added before azure-native:resources:ResourceGroup::resource-group"):
        Graph().add(node)
    graph = Graph()
    graph.add(GROUP)
    assert graph.add(node) is node


def test_the_deploying_subscription_needs_no_node() -> None:
    node = Node("azure-native:storage:StorageAccount", "models", {"subscription": SUBSCRIPTION})
    assert Graph().add(node) is node
