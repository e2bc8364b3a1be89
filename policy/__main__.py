"""The consortium's policy pack: `pulumi preview --policy-pack policy/`. Building the pack
serves the engine and does not return: the rules live in consortium.py."""

from consortium import ENFORCEMENT, PACK, POLICIES
from pulumi_policy import PolicyPack

PolicyPack(PACK, POLICIES, enforcement_level=ENFORCEMENT)
