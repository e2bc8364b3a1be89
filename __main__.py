"""Pulumi program: validate the stack config, warn of expiries, build its resource graph, register it."""

from federation import config, deploy, expiry, stack

settings = config.load()
expiry.warn(settings)
deploy.deploy(stack.build(settings))
