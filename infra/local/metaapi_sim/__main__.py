"""`python -m infra.local.metaapi_sim`: the MetaApi REST simulator on its own port."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from werkzeug.serving import make_server

from infra.local.keep_alive import KeepAliveRequestHandler
from infra.local.metaapi_sim import MetaApiSimulator


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.metaapi_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3002)
    parser.add_argument("--seed", type=int, default=7, help="seed of the price walk and account ids")
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="TOKEN",
        help="create a deployed demo account owned by TOKEN (repeatable)",
    )
    args = parser.parse_args(argv)

    simulator = MetaApiSimulator(seed=args.seed)
    try:
        server = make_server(
            args.host, args.port, simulator, threaded=True, request_handler=KeepAliveRequestHandler
        )
    except OSError as error:
        print(f"  The MetaApi simulator could not start: {error}", file=sys.stderr, flush=True)
        return 1
    print(f"  MetaApi simulator on http://{args.host}:{server.server_port}  (Ctrl-C stops it)", flush=True)
    for token in args.account:
        print(f"  account {simulator.create_account(token)} for token {token[:4]}...", flush=True)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print("\n  MetaApi simulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
