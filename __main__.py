"""Pulumi program: validate the stack config, warn of expiries, build the stack from its
components, export its outputs."""

import pulumi

from federation import config
from federation.config import expiry
from federation.program import stack

settings = config.load()
expiry.warn(settings)
for name, value in stack.build(settings).items():
    pulumi.export(name, value)
