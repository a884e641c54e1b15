"""A MetaApi REST simulator: provisioning, client and trade APIs with faults on demand, no MetaApi account."""

from __future__ import annotations

from infra.local.metaapi_sim.app import MetaApiSimulator

__all__ = ["MetaApiSimulator"]
