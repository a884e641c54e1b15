"""CDK entry point (`cdk synth` runs `python -m infra.app`)."""

from __future__ import annotations

import os
from typing import Any

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import StageConfig
from infra.stack import BackendStack


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> tuple[App, BackendStack]:
    """The app with cdk-nag registered as a validation plugin: any unacknowledged finding fails synth."""
    app = App(context=context, outdir=outdir)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    config = StageConfig.from_context(app.node)
    stack = BackendStack(
        app,
        f"MtBackend-{config.stage}",
        config=config,
        env=Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        ),
    )
    Tags.of(app).add("service", "mt-backend")
    Tags.of(app).add("stage", config.stage)
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
