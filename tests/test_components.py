"""The components from another program: the example in docs/components.md runs under the
offline mocks and registers a share with its dataset and invitation as the component's
children, with no stack config at all."""

import re
from pathlib import Path

from federation.review import offline
from tests.support import PROJECT


def test_the_documented_program_uses_the_share_component_without_config(tmp_path: Path) -> None:
    [code] = re.findall(r"```python\n(.*?)```", (PROJECT / "docs" / "components.md").read_text(), re.S)
    program = tmp_path / "__main__.py"
    program.write_text(code)
    assert len(code.splitlines()) <= 40
    run = offline.run({}, "demo", program=program)
    assert run.error is None, str(run.error)
    parents = {r.urn.rsplit("::", 1)[1]: r.parent for r in run.resources}
    component = "urn:pulumi:demo::federation::federation:sharing:Share::global_model"
    assert {name: parent for name, parent in parents.items() if parent == component} == {
        "global_model": component,
        "global_model.checkpoints": component,
        "global_model.hospital-a": component,
    }
    invitation = run.by_urn()[
        "urn:pulumi:demo::federation::federation:sharing:Share$azure-native:datashare:Invitation::global_model.hospital-a"
    ]
    assert invitation.inputs["targetEmail"] == "mlops@hospital-a.example"
    assert set(run.outputs["share"]) == {"id", "datasets", "invitations"}
    assert set(run.outputs["share"]["invitations"]) == {"hospital-a"}
