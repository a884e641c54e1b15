"""`python -m infra.openapi`: write the API description to docs/openapi.json (checked in)."""

from __future__ import annotations

from pathlib import Path

from functions.api.resolver import openapi_json

OPENAPI_FILE = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def rendered() -> str:
    return openapi_json() + "\n"


if __name__ == "__main__":
    OPENAPI_FILE.parent.mkdir(exist_ok=True)
    OPENAPI_FILE.write_text(rendered())
    print("wrote docs/openapi.json")
