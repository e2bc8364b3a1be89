"""The Pulumi program: the stack's resource graph as plain data (`graph`, built by `stack`
from `storage`, `sharing`, `receiving`, `datasets` and `monitoring`), registered by
`deploy` with the classes `classes` finds; `exports` names the stack outputs."""
