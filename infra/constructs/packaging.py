"""Lambda code and layers, bundled on this machine (no Docker).

- function code: the `functions/` package, copied so handlers import as `functions.<name>.handler`;
- core layer: `layers/core` shipped as-is (`python/mtcore`);
- dependencies layer: the runtime dependencies pinned in `uv.lock`, installed as arm64 /
  CPython 3.13 wheels with `uv pip install --python-platform`, so no container is needed;
- MetaApi SDK layer: the `provisioning` dependency group (metaapi-cloud-sdk and what it needs),
  built the same way, for the provisioning function only.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_PYTHON_VERSION = "3.13"
LAMBDA_PLATFORM = "aarch64-manylinux2014"
# Lambda's Python 3.13 runs on Amazon Linux 2023 (glibc 2.34): some of the SDK's compiled
# dependencies (rapidfuzz) publish arm64 wheels for manylinux_2_28 only.
SDK_LAMBDA_PLATFORM = "aarch64-manylinux_2_28"
SDK_GROUP = "provisioning"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")
# Never used: bundling always happens locally, but CDK requires an image to be named.
_NO_IMAGE = DockerImage.from_registry("local-bundling-only")


def _uv() -> str:
    beside_python = Path(sys.executable).with_name("uv")
    found = str(beside_python) if beside_python.exists() else shutil.which("uv")
    if not found:
        raise RuntimeError("uv is needed to build the dependencies layer: run `make deps` first")
    return found


@jsii.implements(ILocalBundling)
class _CopyFunctions:
    def try_bundle(self, output_dir: str, options: Any) -> bool:
        shutil.copytree(
            ROOT / "functions", Path(output_dir) / "functions", ignore=_IGNORED, dirs_exist_ok=True
        )
        return True


@jsii.implements(ILocalBundling)
class _InstallLockedDependencies:
    """The locked runtime dependencies, or with `group` that dependency group's, as wheels for
    `platform`."""

    def __init__(self, *, platform: str, group: str | None = None) -> None:
        self._platform = platform
        self._group = group

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        requirements = Path(output_dir) / "requirements.txt"
        requirements.write_text(locked_requirements(self._group))
        subprocess.run(  # noqa: S603 - fixed arguments, no outside input
            [
                _uv(), "pip", "install", "--quiet", "--no-deps", "--only-binary", ":all:",
                "--python-platform", self._platform, "--python-version", LAMBDA_PYTHON_VERSION,
                "--target", str(Path(output_dir) / "python"), "-r", str(requirements),
            ],
            cwd=ROOT,
            check=True,
        )  # fmt: skip
        requirements.unlink()
        return True


def locked_requirements(group: str | None = None) -> str:
    """The pinned requirements of the runtime dependencies alone, or of one dependency group
    alone, from uv.lock (offline)."""
    # Without a group, no group at all: `--no-dev` would keep the other default groups.
    selection = ["--only-group", group] if group else ["--no-default-groups"]
    exported = subprocess.run(  # noqa: S603 - fixed arguments, no outside input
        [_uv(), "export", "--frozen", *selection, "--no-emit-project", "--no-hashes"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return exported.stdout


class Packaging(Construct):
    """The code asset every function shares and the two layers they all use."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.function_code = lambda_.Code.from_asset(
            str(ROOT / "functions"),
            bundling=BundlingOptions(image=_NO_IMAGE, local=cast(ILocalBundling, _CopyFunctions())),
            exclude=["**/__pycache__"],
        )
        self.core_layer = lambda_.LayerVersion(
            self,
            "CoreLayer",
            description="First-party shared code (mtcore)",
            code=lambda_.Code.from_asset(str(ROOT / "layers" / "core"), exclude=["**/__pycache__", "*.pyc"]),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            compatible_architectures=[lambda_.Architecture.ARM_64],
        )
        self.dependencies_layer = self._locked_layer(
            "DependenciesLayer",
            "Third-party runtime dependencies from uv.lock (arm64, CPython 3.13)",
            _InstallLockedDependencies(platform=LAMBDA_PLATFORM),
            LAMBDA_PLATFORM,
        )
        self.sdk_layer = self._locked_layer(
            "MetaApiSdkLayer",
            "The MetaApi SDK and what it needs, from uv.lock (arm64, CPython 3.13): provisioning only",
            _InstallLockedDependencies(platform=SDK_LAMBDA_PLATFORM, group=SDK_GROUP),
            f"{SDK_GROUP}-{SDK_LAMBDA_PLATFORM}",
        )

    def _locked_layer(
        self, construct_id: str, description: str, bundling: _InstallLockedDependencies, variant: str
    ) -> lambda_.LayerVersion:
        """Built from the lock file alone (no source), so the lock's digest is the asset's hash."""
        lock_digest = hashlib.sha256((ROOT / "uv.lock").read_bytes()).hexdigest()
        return lambda_.LayerVersion(
            self,
            construct_id,
            description=description,
            code=lambda_.Code.from_asset(
                str(ROOT / "layers" / "deps"),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=f"{lock_digest}-{variant}-{LAMBDA_PYTHON_VERSION}",
                bundling=BundlingOptions(image=_NO_IMAGE, local=cast(ILocalBundling, bundling)),
            ),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            compatible_architectures=[lambda_.Architecture.ARM_64],
        )

    def layers(self, *, sdk: bool = False) -> list[lambda_.ILayerVersion]:
        """The dependencies, the MetaApi SDK when asked for, then our own code."""
        return [self.dependencies_layer, *([self.sdk_layer] if sdk else []), self.core_layer]
