"""Pulumi program: validate the stack config, warn of expiries, build its resource graph, register it."""

from federation import config
from federation.config import expiry
from federation.program import deploy, stack

settings = config.load()
expiry.warn(settings)
deploy.deploy(stack.build(settings))
