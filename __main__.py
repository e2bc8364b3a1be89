"""Pulumi program: validate the stack config, build its resource graph, register it."""

from federation import config, deploy, stack

deploy.deploy(stack.build(config.load()))
