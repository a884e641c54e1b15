"""The synthesized template, cached in cdk.out/ so a restart or a second test run skips synth.

The local stack and the tests create their tables, queues and secrets from this template, so
they cannot drift from what `cdk deploy` creates.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCAL_STAGE = "local"
# The local stage: no asset bundling (the template's resources are what matter locally, not the
# code zips), and a sender and a bot for notifications (moto's SES, the Telegram simulator).
LOCAL_CONTEXT = {
    "stage": LOCAL_STAGE,
    "aws:cdk:bundling-stacks": [],
    "notificationSender": "alerts@mt-backend.local",
    "telegramBotUsername": "mt_backend_local_bot",
}
_OUTDIR = ROOT / "cdk.out" / "local"
_INPUTS = ("infra/**/*.py", "cdk.json")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for pattern in _INPUTS:
        for path in sorted(ROOT.glob(pattern)):
            if "local" in path.relative_to(ROOT).parts[:2]:
                continue  # the local stack's own code does not shape the template
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def stack_name(stage: str = LOCAL_STAGE) -> str:
    return f"MtBackend-{stage}"


def synthesized_template() -> dict[str, Any]:
    """The stack's CloudFormation template for the local stage, synthesized only when infra changed."""
    template_path = _OUTDIR / f"{stack_name()}.template.json"
    stamp = _OUTDIR / ".fingerprint"
    fingerprint = _fingerprint()
    if not (template_path.exists() and stamp.exists() and stamp.read_text() == fingerprint):
        from infra.app import build_app  # imported here: it starts the jsii kernel

        app, _ = build_app({**LOCAL_CONTEXT, "aws:cdk:disable-asset-staging": True}, outdir=str(_OUTDIR))
        app.synth()
        stamp.write_text(fingerprint)
    template: dict[str, Any] = json.loads(template_path.read_text())
    return template
