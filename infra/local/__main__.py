"""`python -m infra.local` (what `make run` starts): the whole backend on this machine."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from dotenv import load_dotenv

from infra.local.stack import DEMO_USER, OPERATOR_USER, LocalStack

ROOT = Path(__file__).resolve().parents[2]


def _metaapi_lines(stack: LocalStack) -> str:
    if stack.simulator_url is None:
        linked = (
            f", {stack.operator_account_id} linked to '{OPERATOR_USER}'" if stack.operator_account_id else ""
        )
        return f"  MetaApi        the real MetaApi (METAAPI_TOKEN from .env){linked}"
    return (
        f"  MetaApi        simulator at {stack.simulator_url} (admin API: {stack.simulator_url}/_sim/...)\n"
        f"  Demo account   MetaApi id {stack.demo_account_id}, linkable by dev user '{DEMO_USER}'"
    )


def _telegram_lines(stack: LocalStack) -> str:
    if stack.telegram_url is None:
        return "  Telegram       the real Telegram (TELEGRAM_BOT_TOKEN from .env)"
    return (
        f"  Telegram       simulator at {stack.telegram_url} (type as a chat: POST /_sim/telegram/updates; "
        "sent: GET /_sim/telegram/messages)"
    )


def _banner(stack: LocalStack) -> str:
    api = stack.api_url
    return f"""
  MetaTrader backend: local stack is up
  ------------------------------------------------------------------
  API            {api}/api            (health: {api}/api/health)
  API docs       {api}/api/docs       (OpenAPI: {api}/api/openapi.json)
  Live page      {api}/               (sign in as a dev user; positions and trades as they change)
  WebSocket      {stack.websocket_url}/?token=<a dev token>   (mt:* frames)
  Webhooks       {api}/api/webhooks/<id>   (alerts in; no sign-in, each webhook's secret)
{_telegram_lines(stack)}
  Mail           {api}/_local/mail     (what SES sent; ?to=<address>)
  AWS (moto)     {stack.aws_url}
{_metaapi_lines(stack)}
  Stop with Ctrl-C.

  Get a dev token and list your accounts:
    TOKEN=$(curl -s -X POST {api}/api/dev/token -H 'Content-Type: application/json' \\
      -d '{{"userId": "alice"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    curl -s {api}/api/metatrader/accounts -H "Authorization: Bearer $TOKEN"

  Have one created at MetaApi (READY in a few seconds; follow the Location header):
    curl -si -X POST {api}/api/metatrader/accounts -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' -d '{{"name": "My MT5", "platform": "mt5", \
      "server": "SimBroker-Demo", "login": "70001234", "password": "any"}}'

  Watch the pushes (Python; or: websocat "{stack.websocket_url}/?token=$TOKEN"):
    .venv/bin/python -m websockets "{stack.websocket_url}/?token=$TOKEN"
"""


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    load_dotenv(ROOT / ".env", override=False)
    # Both servers run on werkzeug; the gateway writes its own one-line access log instead.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    # BACKEND_API_URL is where the frontend looks for the API; the local stack listens there.
    api_port = urlsplit(os.environ.get("BACKEND_API_URL", "http://localhost:3000")).port or 3000
    parser.add_argument("--api-port", type=int, default=api_port)
    parser.add_argument("--simulator-port", type=int, default=3002, help="the MetaApi simulator's port")
    # FRONTEND_WS_URL is where the dashboard opens its WebSocket; the local stack listens there.
    ws_port = urlsplit(os.environ.get("FRONTEND_WS_URL", "http://localhost:3001")).port or 3001
    parser.add_argument("--websocket-port", type=int, default=ws_port, help="the WebSocket API's port")
    parser.add_argument("--telegram-port", type=int, default=3003, help="the Telegram simulator's port")
    parser.add_argument("--aws-port", type=int, default=0, help="moto's port (default: any free port)")
    args = parser.parse_args(argv)

    origins = [o.strip() for o in os.environ.get("CORS_ALLOW_ORIGINS", "*").split(",") if o.strip()]
    stack = LocalStack(
        host=args.host,
        api_port=args.api_port,
        simulator_port=args.simulator_port,
        websocket_port=args.websocket_port,
        telegram_port=args.telegram_port,
        aws_port=args.aws_port,
        telegram_bot_token=os.environ.get("TELEGRAM_BOT_TOKEN") or None,
        cors_allow_origins=origins,
        metaapi_token=os.environ.get("METAAPI_TOKEN") or None,
        mt_account_id=os.environ.get("MT_ACCOUNT_ID") or None,
    )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        stack.start()
        print(_banner(stack), flush=True)
        stack.serve_forever()  # returns on Ctrl-C or SIGTERM
    except KeyboardInterrupt:
        pass  # interrupted while starting
    except OSError as error:
        print(f"  The local stack could not start: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("\n  Stopping the local stack.", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
