"""`federation check`: the consortium's policy pack (policy/consortium.py, the one `pulumi
preview --policy-pack policy/` runs) over the resources the program registers under mocks,
with its config read and checked as the Pulumi CLI reads and checks it, and each rule
called as the pack's analyzer calls it for the engine."""

import asyncio
import functools
import importlib.util
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from federation.config import stackfile
from federation.review import comment, offline, plan

RULES = stackfile.PROJECT_DIR / "policy" / "consortium.py"
# The consortium's policy config: what `--policy-pack-config policy.json` gives the engine.
DEFAULT_CONFIG = stackfile.PROJECT_DIR / "policy.json"
LEVELS = tuple(level.value for level in EnforcementLevel)
# What a rule that reads a secret's stand-in needs to judge it.
REAL_CONFIG = (
    "give check the real config: `pulumi config --json --show-secrets --stack STACK | "
    "federation check -s STACK --config-json -`"
)


def default_config(start: Path | None = None) -> Path:
    """policy.json beside the Pulumi.yaml that stack files are read from (where `pulumi
    preview --policy-pack-config policy.json` would be run), else the program's own."""
    here = stackfile.project_dir(start) / "policy.json"
    return here if here.is_file() else DEFAULT_CONFIG


class PolicyConfigError(Exception):
    """A policy config the Pulumi CLI would refuse: every problem, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    """Each policy's enforcement level and config, after defaults; and what the config
    names that no policy has (passed over, as the CLI does, but worth a warning)."""

    levels: Mapping[str, str]
    configs: Mapping[str, Mapping[str, Any]]
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    severity: str
    message: str
    urn: str | None
    remediation: str | None
    framework: str | None

    @property
    def resource(self) -> str:
        if self.urn is None:
            return "(stack)"
        type_, name = self.urn.rsplit("::", 2)[-2:]
        return f"{type_.rsplit('$', 1)[-1]} {name}"


@functools.cache
def rules() -> ModuleType:
    """The pack's rules module, loaded from its file: the pack directory is what `pulumi
    policy publish` uploads, so the rules live there and not in this package."""
    spec = importlib.util.spec_from_file_location("federation_policy_consortium", RULES)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the policy rules from {RULES}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def configure(document: Any) -> Settings:
    """A policy config (`--policy-pack-config` JSON) as the CLI takes it: per policy an
    enforcement level, or an object of `enforcementLevel` and the policy's properties;
    `all` sets every policy's level. Each policy's config is checked against its schema
    as `pulumi policy validate-config` checks it (properties and required; others pass),
    then its schema's defaults fill in what is left out, as `pulumi preview` does."""
    if not isinstance(document, Mapping):
        raise PolicyConfigError(["the policy config must be a JSON object of policy names"])
    policies = rules().by_name()
    problems: list[str] = []
    entries: dict[str, dict[str, Any]] = {}
    for name, value in document.items():
        if isinstance(value, str):
            value = {"enforcementLevel": value}
        if not isinstance(value, Mapping):
            problems.append(f"{name}: must be an enforcement level or an object; got {json.dumps(value)}")
            continue
        level = value.get("enforcementLevel")
        if level is not None and level not in LEVELS:
            problems.append(f"{name}.enforcementLevel: {json.dumps(level)} is not one of {', '.join(LEVELS)}")
        entries[name] = dict(value)
    default = entries.pop("all", {}).get("enforcementLevel") or rules().ENFORCEMENT.value
    levels, configs = {}, {}
    for name, policy in policies.items():
        entry = entries.get(name, {})
        properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        schema = policy.config_schema
        if schema is not None:
            wrapper = {"type": "object", "properties": schema.properties, "required": schema.required or []}
            for error in sorted(jsonschema.Draft7Validator(wrapper).iter_errors(properties), key=str):
                where = ".".join([name, *map(str, error.absolute_path)])
                problems.append(f"{where}: {error.message}")
            defaults = {k: s["default"] for k, s in schema.properties.items() if "default" in s}
            properties = defaults | properties
        levels[name] = entry.get("enforcementLevel") or (policy.enforcement_level or default)
        levels[name] = getattr(levels[name], "value", levels[name])
        configs[name] = properties
    if problems:
        raise PolicyConfigError(problems)
    return Settings(levels, configs, tuple(sorted(set(entries) - set(policies))))


def read_config(path: Path) -> Settings:
    """The policy config at `path`, checked and with its defaults filled in."""
    data = stackfile.read_bytes(path)
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        raise PolicyConfigError([f"{stackfile.show_name(str(path))} is not JSON"]) from None
    return configure(document)


def evaluate(run: offline.Run, settings: Settings, stand_ins: frozenset[str] = frozenset()) -> list[Violation]:
    """Every violation of the pack's policies by what the run registers: resource policies
    over each resource's inputs, stack policies over all outputs and dependencies.

    Each rule is called as the pack's analyzer calls it for the engine: values come as they
    cross the wire (numbers as floats) inside pulumi-policy's proxies, a `remediate` level
    is enforced as mandatory, and a value the run cannot know, the stand-in for a secret
    (`stand_ins`), is the engine's unknown. A rule that reads one stops, reported as the
    engine reports a rule that reads an unknown: advisory, not judged."""
    found: list[Violation] = []
    registered = [r for r in run.resources if not r.read]
    inputs = {r.urn: _wire(offline.plain(dict(r.inputs)), stand_ins) for r in registered}
    outputs = {r.urn: _wire(offline.plain(dict(r.outputs)), stand_ins) for r in registered}
    for name, policy in rules().by_name().items():
        level = settings.levels[name]
        if level == EnforcementLevel.DISABLED.value:
            continue
        if level == EnforcementLevel.REMEDIATE.value:
            # The pack's rules change nothing, so the engine enforces a remediate level as mandatory.
            level = EnforcementLevel.MANDATORY.value
        config = _wire(settings.configs[name], frozenset())

        def report(message: str, urn: str | None, *, policy: Any = policy, level: str = level) -> None:
            framework = policy.framework
            shown = f"{framework.name} {framework.version} {framework.reference}" if framework else None
            found.append(
                Violation(
                    policy.name,
                    level,
                    policy.severity.value if policy.severity else "",
                    message,
                    urn,
                    policy.remediation_steps,
                    shown,
                )
            )

        def unknown(error: UnknownValueError, urn: str | None, *, policy: Any = policy) -> None:
            where = ".".join(error.props)
            message = (
                f"cannot judge a secret offline: {policy.name} reads {where}, which the stack file holds encrypted"
            )
            found.append(Violation(policy.name, EnforcementLevel.ADVISORY.value, "", message, urn, REAL_CONFIG, None))

        if isinstance(policy, ResourceValidationPolicy):
            for registration in registered:
                args = ResourceValidationArgs(
                    registration.type,
                    unknown_checking_proxy(deserialize_properties(inputs[registration.urn])),
                    registration.urn,
                    registration.name,
                    _options(registration),
                    None,
                    config,
                )
                try:
                    _validate(policy, args, _at(report, registration.urn))
                except UnknownValueError as error:
                    unknown(error, registration.urn)
        else:
            resources = list(_policy_resources(registered, outputs).values())
            try:
                _validate(policy, StackValidationArgs(resources, config), report)
            except UnknownValueError as error:
                unknown(error, None)
    # The engine registers side by side; a report reads the same whatever the order.
    order = {name: i for i, name in enumerate(rules().by_name())}
    return sorted(found, key=lambda v: (order[v.policy], v.urn or "", v.message))


def _validate(policy: Any, args: Any, report: Callable[..., None]) -> None:
    """A rule's validate, run to its end as the analyzer runs it: awaited if it is async."""
    result = policy.validate(args, report)
    if inspect.isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(result)
        finally:
            loop.close()


def _wire(values: Mapping[str, Any], stand_ins: frozenset[str]) -> dict[str, Any]:
    """Values as the engine sends them to the pack, where a protobuf Struct carries them and
    every number becomes a float; each text holding a secret's stand-in as the engine's unknown."""
    found: dict[str, Any] = json.loads(json.dumps(_unknown(dict(values), stand_ins)), parse_int=float)
    return found


def _unknown(value: Any, stand_ins: frozenset[str]) -> Any:
    if not stand_ins:
        return value
    if isinstance(value, str) and any(stand_in in value for stand_in in stand_ins):
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {k: _unknown(v, stand_ins) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknown(v, stand_ins) for v in value]
    return value


def _at(report: Callable[..., None], urn: str) -> Callable[[str, str | None], None]:
    """For a resource policy: its violations are the resource's, whatever URN it names."""

    def reported(message: str, named: str | None = None) -> None:
        report(message, urn)

    return reported


def _options(registration: offline.Registration) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=registration.protect,
        ignore_changes=list(registration.ignore_changes),
        delete_before_replace=registration.delete_before_replace,
        aliases=list(registration.aliases),
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=registration.parent,
    )


def _policy_resources(
    registered: list[offline.Registration], outputs: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, PolicyResource]:
    """Each resource as a stack policy sees it, built as the analyzer builds them: outputs
    (as `_wire` gives them) in pulumi-policy's proxies, then parent and dependencies linked
    among the stack's resources, in registration order."""
    found: dict[str, PolicyResource] = {}
    for r in registered:
        props = outputs[r.urn] if outputs is not None else _wire(offline.plain(dict(r.outputs)), frozenset())
        found[r.urn] = PolicyResource(
            r.type,
            unknown_checking_proxy(deserialize_properties(props)),
            r.urn,
            r.name,
            _options(r),
            None,
            None,
            [],
            {},
        )
    for r in registered:
        resource = found[r.urn]
        resource.parent = found.get(r.parent or "")
        resource.dependencies = [found[d] for d in r.depends_on if d in found]
        resource.property_dependencies = {
            key: [found[u] for u in urns if u in found] for key, urns in r.property_dependencies.items()
        }
    return found


def mandatory(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.level == EnforcementLevel.MANDATORY.value]


def render_text(violations: list[Violation], stack: str, settings: Settings) -> str:
    out = [
        f"Policy check of stack {stack} (offline, under mocks; pack {rules().PACK}, {len(settings.levels)} policies)"
    ]
    for v in violations:
        out += ["", f" {v.level:<9} {v.policy}  {v.resource}", f"     {v.message}"]
        if v.remediation:
            out.append(f"     remediation: {v.remediation}")
    out += ["", _summary(violations)]
    return "\n".join(out) + "\n"


def render_markdown(
    violations: list[Violation], stack: str, settings: Settings, whole: str = "", warnings: Sequence[str] = ()
) -> str:
    """A pull-request comment: the summary, the run's warnings (such as values it could not
    read) and the mandatory violations first, the others folded; cut to GitHub's limit at
    a whole row, saying what was left out and, in `whole`, where the whole check is."""
    head = "| Level | Policy | Resource | Violation | Remediation |\n| --- | --- | --- | --- | --- |\n"
    must = mandatory(violations)
    rest = [v for v in violations if v not in must]
    parts: list[comment.Part] = [
        comment.Block(f"**Policy check of `{stack}`** ({rules().PACK}): {_summary(violations)}\n\n")
    ]
    if warnings:
        parts.append(comment.items("Warnings", warnings, "warnings"))
    if must:
        parts.append(comment.Entries(head, [_row(v) for v in must], "\n", "mandatory violations", _labels(must)))
    if rest:
        summary = f"<details><summary>{len(rest)} advisory or disabled</summary>\n\n"
        parts.append(
            comment.Entries(summary + head, [_row(v) for v in rest], "\n</details>\n", "others", _labels(rest))
        )
    return comment.fit(parts, whole)


def _row(v: Violation) -> str:
    return (
        f"| {v.level} | `{v.policy}` | `{plan.cell(v.resource)}` | {plan.cell(v.message)} | "
        f"{plan.cell(v.remediation or '')} |\n"
    )


def _labels(violations: list[Violation]) -> list[str]:
    return [f"{v.policy} on {v.resource}" for v in violations]


def render_json(violations: list[Violation], stack: str, settings: Settings) -> str:
    document = {
        "stack": stack,
        "pack": rules().PACK,
        "levels": dict(settings.levels),
        "violations": [
            {
                "policy": v.policy,
                "level": v.level,
                "severity": v.severity,
                "urn": v.urn,
                "message": v.message,
                "remediation": v.remediation,
                "framework": v.framework,
            }
            for v in violations
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _summary(violations: list[Violation]) -> str:
    if not violations:
        return "no violations."
    noun = "violation" if len(violations) == 1 else "violations"
    return f"{len(violations)} {noun}, {len(mandatory(violations))} mandatory."
