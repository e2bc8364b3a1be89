"""Which keys of a stack file the program reads, which it passes on to the engine and the
provider, and which it warns of: under `plan` and under `pulumi up` (the program's own
`config.load`, run under mocks)."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import cli, exits
from federation.config import stackfile
from federation.review import offline
from tests.support import base, run_ok, state

PROVIDER_SETTINGS = {
    "azure-native:subscriptionId": "6f1c2a4e-8d3b-4c9a-9e71-0a5b3c2d1e4f",
    "azure-native:tenantId": "3b7d9c1e-5a2f-4e8b-b6d4-2c9f0e1a7b53",
    "azure-native:clientId": "8e4a6f20-1c3d-4b5e-9f7a-6d2c0b8e1f94",
    "azure-native:useOidc": True,
    "azure-native:environment": "usgovernment",
    "pulumi:tags": {"team": "fl"},
    "pulumi:disable-default-providers": ["aws"],
}


def plan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: dict[str, Any], *argv: str
) -> tuple[int, str, str]:
    stack = tmp_path / "Pulumi.x.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    code = cli.main(["plan", "--config", str(stack), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_provider_and_engine_settings_are_passed_on_unread(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = base() | PROVIDER_SETTINGS
    code, _, err = plan(capsys, tmp_path, config)
    assert (code, err) == (0, "")
    # Under `pulumi up`: the program reads every key the engine hands it.
    assert state(run_ok(config)) == state(run_ok(base()))


def test_a_namespace_differing_only_in_case_is_still_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = plan(capsys, tmp_path, base() | {"Azure-Native:subscriptionId": "x", "FEDERATION:protect": True})
    assert code == exits.INVALID_CONFIG
    assert "Azure-Native:subscriptionId: is not a known key (namespaces are case-sensitive: did you mean " in err
    assert "'azure-native:subscriptionId'?)" in err
    assert "FEDERATION:protect: is not a known key" in err


def test_a_misspelt_namespace_is_warned_of_where_reviewers_look(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = base()
    config["federaton:shares"] = config.pop("federation:shares")
    warning = (
        "federaton:shares: is ignored: its namespace 'federaton' is not 'federation'; did you mean 'federation:shares'?"
    )
    code, out, err = plan(capsys, tmp_path, config)
    assert code == 0
    assert f"warning: {warning}" in err.splitlines()
    code, out, _ = plan(capsys, tmp_path, config, "--format", "markdown")
    assert out.split("\n\n", 1)[1].startswith(f"**Warnings**:\n\n- {warning}\n")  # right after the summary
    # Under `pulumi up`, as `pulumi preview` shows warnings.
    assert warning in offline.run(stackfile.config_values(config), "x").warnings


def test_far_namespaces_are_not_taken_for_misspellings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = plan(capsys, tmp_path, base() | {"fed:x": 1, "azure:location": "westeurope", "time:x": 2})
    assert (code, err) == (0, "")


@pytest.mark.parametrize("stack", ["s" * 101, "org/federation/stäck", "org/federation/a b", "a/b/c/d"])
def test_a_sender_stack_pulumi_refuses_is_a_config_problem_not_a_missing_sender(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, stack: str
) -> None:
    config = base()
    config["federation:subscriptions"] = {
        "global_model": {
            "from": {"stack": stack, "share": "global_model", "participant": "hospital-a"},
            "sourceLocation": "northeurope",
            "datasets": {"checkpoints": {"storage": "models", "container": "eval"}},
        }
    }
    code, _, err = plan(capsys, tmp_path, config)
    assert code == exits.INVALID_CONFIG, err
    assert "  federation:subscriptions.global_model.from.stack: must be a stack name such as" in err


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("azure-nativ:location", "azure-native"),
        ("azure-natve:subscriptionId", "azure-native"),
        ("pulumni:tags", "pulumi"),
        ("Pulumi:tags", "pulumi"),
    ],
)
def test_a_misspelling_of_the_providers_or_the_engines_namespace_is_warned_of(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, key: str, meant: str
) -> None:
    namespace, _, name = key.partition(":")
    code, _, err = plan(capsys, tmp_path, base() | {key: "x"})
    assert code == 0
    assert err.splitlines() == [
        f"warning: {key}: is ignored: its namespace {namespace!r} is not {meant!r}; did you mean '{meant}:{name}'?"
    ]


def misspelt_location() -> dict[str, Any]:
    config = base()
    config["azure-nativ:location"] = config.pop("azure-native:location")
    return config


def test_a_misspelt_namespace_is_warned_of_before_the_problems_it_causes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = misspelt_location()
    config["federaton:storage"] = config.pop("federation:storage")
    code, out, err = plan(capsys, tmp_path, config)
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert err.splitlines() == [
        "warning: azure-nativ:location: is ignored: its namespace 'azure-nativ' is not 'azure-native'; "
        "did you mean 'azure-native:location'?",
        "warning: federaton:storage: is ignored: its namespace 'federaton' is not 'federation'; "
        "did you mean 'federation:storage'?",
        f"{tmp_path / 'Pulumi.x.yaml'}: 4 problems in stack config:",
        "  azure-native:location: is required but not set "
        "(azure-nativ:location is ignored: did you mean azure-native:location?)",
        *(
            f"  federation:shares.global_model.datasets.{dataset}.storage: is not a key of federation:storage "
            "(known: none; federaton:storage is ignored: did you mean federation:storage?); got 'models'"
            for dataset in ("checkpoints", "holdout", "labels")
        ),
    ]


def test_the_problems_a_misspelt_namespace_causes_point_to_it_under_pulumi_up() -> None:
    config = base()
    config["federation:shares"]["global_model"]["participants"] = ["hospital-a"]
    config["federaton:participants"] = config.pop("federation:participants")
    run = offline.run(stackfile.config_values(config), "x")
    assert run.warnings[0].startswith("federaton:participants: is ignored")
    assert run.error is not None
    assert run.error.problems == [
        "federation:shares.global_model.participants: names hospital-a, not keys of federation:participants "
        "(known: none; federaton:participants is ignored: did you mean federation:participants?); "
        'got ["hospital-a"]'
    ]


def test_check_warns_of_a_misspelt_namespace_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = base()
    config["federaton:tags"] = {"owner": "fl"}
    stack = tmp_path / "Pulumi.x.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    warning = (
        "warning: federaton:tags: is ignored: its namespace 'federaton' is not 'federation'; "
        "did you mean 'federation:tags'?"
    )
    cli.main(["check", "--config", str(stack)])
    _, err = capsys.readouterr()
    assert warning in err.splitlines()
    # And first, where the config is invalid.
    stack.write_text(yaml.safe_dump({"config": misspelt_location()}))
    code = cli.main(["check", "--config", str(stack)])
    _, err = capsys.readouterr()
    assert code == exits.INVALID_CONFIG
    assert err.splitlines()[0].startswith("warning: azure-nativ:location: is ignored")
    assert "(azure-nativ:location is ignored: did you mean azure-native:location?)" in err
