"""Hot-path handlers keep their cold start lean: importing one loads neither the MetaApi SDK nor
boto3 nor requests (each is loaded by the first call that needs it), nor the X-Ray SDK (calls are
timed by our own hooks, traces are Lambda's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOT_PATH = (
    "functions.api.handler",
    "functions.executor.handler",
    "functions.sync_worker.handler",
    "functions.sync_scheduler.handler",
    "functions.trade_events.handler",
    "functions.webhook.handler",
)
_PROBE = (
    "import json, sys; import {module}; "
    "print(json.dumps(sorted({{name.split('.')[0] for name in sys.modules}})))"
)


@pytest.mark.parametrize("module", HOT_PATH)
def test_importing_a_hot_path_handler_loads_no_sdk_boto3_requests_or_xray(module: str) -> None:
    probe = [sys.executable, "-c", _PROBE.format(module=module)]
    out = subprocess.run(probe, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))

    assert module.split(".")[0] in loaded
    assert loaded.isdisjoint({"metaapi_cloud_sdk", "boto3", "requests", "aws_xray_sdk"})
