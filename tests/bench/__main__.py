"""`python -m tests.bench`: measure, then rewrite docs/benchmarks.md with the figures."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from infra.local.stack import free_port
from tests.bench.calls import (
    account_creation_calls,
    intake_calls,
    live_positions_calls,
    loss_guard_calls,
    market_order_calls,
    pretrade_check_microseconds,
    risk_check_microseconds,
)
from tests.bench.cold_start import KINDS, first_request_seconds
from tests.bench.cost import write_cost_model
from tests.bench.latency import intake_latencies, order_latencies, parked_trade_sent_after_seconds
from tests.bench.notify import notification_calls, trade_to_telegram_latencies
from tests.bench.realtime import PUMP_SECONDS, event_to_frame_latencies, price_calls_per_minute
from tests.bench.sync import fan_out_seconds, sync_figures

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "docs" / "benchmarks.md"
RUNS = 7
# Sync at the scale asked for: accounts x positions each, and accounts due in one tick.
SYNC_ACCOUNTS = int(os.environ.get("BENCH_SYNC_ACCOUNTS", "1000"))
SYNC_POSITIONS = 50
FAN_OUT_ACCOUNTS = int(os.environ.get("BENCH_FAN_OUT_ACCOUNTS", "10000"))
ROUNDS = 2
# Why a run over a warm cache may still call MetaApi a few times.
CACHE_NOTE = "only for cache entries due again during the run: the price after 2 s, the account after 10 s"
# The hot-path handlers, each imported with boto3 as a container's first request needs both.
HOT_PATH = (
    "functions.api.handler",
    "functions.executor.handler",
    "functions.sync_worker.handler",
    "functions.sync_scheduler.handler",
    "functions.trade_events.handler",
    "functions.webhook.handler",
    "functions.trade_timer.handler",
    "functions.broadcaster.handler",
    "functions.realtime.handler",
    "functions.realtime_authorizer.handler",
    "functions.price_pump.handler",
    "functions.telegram_notifier.handler",
    "functions.email_notifier.handler",
    "functions.telegram_bot.handler",
)
# The control plane's provisioning function: its init, and what its first message loads (the
# worker and the MetaApi SDK).
CONTROL_PLANE = ("functions.provisioning.handler", "functions.provisioning.invocation")
# Parts of those imports, and the X-Ray SDK that Powertools' Tracer would add (no handler loads it).
PARTS = (
    "pydantic",
    "aws_lambda_powertools.event_handler.openapi.models",
    "aws_lambda_powertools.utilities.batch",
    "aws_xray_sdk.core",
    "metaapi_cloud_sdk",
)
MODULES = ("boto3", *(f"{handler}, boto3" for handler in (*HOT_PATH, *CONTROL_PLANE)), *PARTS)
FIRST_REQUESTS = {
    "api": "the API's import and `GET /accounts` against moto",
    "executor": "the executor's import and one market order sent to the simulator",
}
_IMPORT_PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def cold_import_seconds(module: str) -> list[float]:
    """Import time of a module in fresh interpreters (interpreter start-up excluded)."""
    # Bytecode is written by the first, unmeasured imports: the figures leave compiling out.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    samples = []
    for _ in range(RUNS):
        probe = [sys.executable, "-c", _IMPORT_PROBE.format(module=module)]
        out = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        samples.append(float(out.stdout.strip()))
    return samples


def local_stack_start_seconds() -> float:
    """From `python -m infra.local` to the first healthy answer, with the template already cached."""
    port = free_port("127.0.0.1")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "--api-port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).ok:
                    return time.perf_counter() - started
            except requests.ConnectionError:
                time.sleep(0.05)
            if time.perf_counter() - started > 180:
                raise RuntimeError("the local stack did not start within 180 s")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    from infra.synth import synthesized_template

    synthesized_template()  # make sure the start-up figure is the cached one
    for module in MODULES:  # first imports write the .pyc files; they are not measured
        cold_import_seconds(module)
    # Interleave rounds so that drift on the machine hits every figure alike.
    samples: dict[str, list[float]] = {module: [] for module in MODULES}
    for _ in range(ROUNDS):
        for module in MODULES:
            samples[module] += cold_import_seconds(module)
    median_ms = {module: statistics.median(values) * 1000 for module, values in samples.items()}
    boto3_ms = median_ms["boto3"]
    first_requests = {kind: statistics.median(first_request_seconds(kind)) * 1000 for kind in KINDS}
    starts = sorted(local_stack_start_seconds() for _ in range(3))
    calls = live_positions_calls()
    order_calls = market_order_calls()
    pretrade = pretrade_check_microseconds(10_000)
    risk = risk_check_microseconds(10_000)
    latency = order_latencies(200)
    parked = parked_trade_sent_after_seconds()
    sync, sync_calls, sync_writes = sync_figures(SYNC_ACCOUNTS, SYNC_POSITIONS)
    fan_out = fan_out_seconds(FAN_OUT_ACCOUNTS)
    guard_calls = loss_guard_calls()
    intake_alone = intake_latencies(500, shadow=True, one_at_a_time=True)
    intake_shadow = intake_latencies(500, shadow=True)
    intake = intake_latencies(500, shadow=False)
    intake_aws = intake_calls()
    creation = account_creation_calls()
    pushed = event_to_frame_latencies(200)
    pumped = price_calls_per_minute()
    notified = trade_to_telegram_latencies(100)
    notification_aws = notification_calls()
    write_cost_model()

    rows = [("`import boto3`", f"{boto3_ms:.0f} ms", "1.00")]
    rows += [
        (f"`import {handler}, boto3`", f"{median_ms[f'{handler}, boto3']:.0f} ms",
         f"{median_ms[f'{handler}, boto3'] / boto3_ms:.2f}")
        for handler in (*HOT_PATH, *CONTROL_PLANE)
    ]  # fmt: skip
    rows += [(f"`import {part}`", f"{median_ms[part]:.0f} ms", "") for part in PARTS]
    rows += [
        (f"first request in a new container: {FIRST_REQUESTS[kind]}", f"{first_requests[kind]:.0f} ms", "")
        for kind in KINDS
    ]
    rows += [("local stack start, template cached (median of 3)", f"{starts[1]:.2f} s", "")]
    table = "\n".join(f"| {name} | {value} | {ratio} |" for name, value, ratio in rows)
    call_list = ", ".join(f"`{name}` x {count:g}" for name, count in sorted(sync_calls.items()))
    per_account = int(sync["accounts"])
    write_list = ", ".join(f"{name} {count // per_account}" for name, count in sorted(sync_writes.items()))
    at = f"{sync['latency_ms']:.0f} ms"
    sync_rows = [
        ("MetaApi calls per full sync", f"{sync['metaapi_calls_per_sync']:.0f} ({call_list})"),
        (
            "DynamoDB writes per steady-state scheduled sync, the scheduler's claim included",
            f"{sync['writes_per_sync']:.1f} ({write_list})",
        ),
        ("one sync's wall time (median), simulator answering at once", f"{sync['sync_p50_ms']:.0f} ms"),
        (
            f"one sync's wall time (median), each MetaApi call answered after {at}",
            f"{sync['sync_p50_ms_at_latency']:.0f} ms",
        ),
        (
            "accounts synced per minute, one worker, simulator answering at once",
            f"{sync['accounts_per_minute']:.0f}",
        ),
        (
            f"accounts synced per minute, one worker, {at} per MetaApi call",
            f"{sync['accounts_per_minute_at_latency']:.0f}",
        ),
        (f"scheduler: fan-out of {FAN_OUT_ACCOUNTS:,} due accounts in one tick", f"{fan_out:.1f} s"),
        (
            "local stack: a trade's EXECUTED to the end of its sync "
            f"(median, max of {latency['sync_count']:.0f})",
            f"{latency['sync_p50_ms']:.0f} ms, {latency['sync_max_ms']:.0f} ms",
        ),
    ]
    sync_table = "\n".join(f"| {name} | {value} |" for name, value in sync_rows)
    order_rows = "\n".join(
        f"- {label}: " + ", ".join(f"`{name}` x {count}" for name, count in sorted(counts.items()))
        for label, counts in order_calls.items()
    )
    pretrade_per_order = f"{pretrade['metaapi_calls'] / pretrade['count']:.4f}"
    risk_per_order = f"{risk['metaapi_calls'] / risk['count']:.4f}"
    guard_rows = "\n".join(
        f"- {label}: "
        + (", ".join(f"`{name}` x {count}" for name, count in sorted(counts.items())) or "none")
        for label, counts in guard_calls.items()
    )
    intake_table = "\n".join(
        f"| {label} | {figures['p50_ms']:.0f} ms | {figures['p99_ms']:.0f} ms |"
        for label, figures in (
            ("nothing (each alert sent once the one before has been resolved)", intake_alone),
            ("checks and sizes the alerts before it (a shadow webhook)", intake_shadow),
            ("trades the alerts before it, and the sync worker syncs each trade", intake),
        )
    )
    intake_table = (
        "| while the stack's executor, in the same process, … | p50 | p99 |\n|---|---|---|\n" + intake_table
    )
    intake_rows = "\n".join(
        f"- {label}: {sum(counts.values())} ("
        + ", ".join(f"`{name}` x {n}" for name, n in sorted(counts.items()))
        + ")"
        for label, counts in intake_aws.items()
    )
    creation_metaapi = ", ".join(f"`{name}` x {n}" for name, n in sorted(creation["metaapi"].items()))
    creation_aws = ", ".join(f"`{name}` x {n}" for name, n in sorted(creation["aws"].items()))
    notification_rows = "\n".join(
        f"- {label}: {sum(counts.values())} ("
        + ", ".join(f"`{n}` x {c}" for n, c in sorted(counts.items()))
        + ")"
        for label, counts in notification_aws.items()
    )
    call_rows = "\n".join(
        f"| {label} | {counts['metaapi']} | "
        + ", ".join(
            f"{name.removeprefix('aws ')} {n}" for name, n in counts.items() if name.startswith("aws")
        )
        + " |"
        for label, counts in calls.items()
    )
    REPORT.write_text(
        f"""# Benchmarks

Written by `make bench`; figures from one run. Not tests: nothing here passes or fails.

Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores,
Python {platform.python_version()}. Import times are medians over {ROUNDS * RUNS} fresh
interpreters each ({ROUNDS} interleaved rounds of {RUNS}), interpreter start-up excluded,
bytecode already compiled.

| what | figure | ÷ `import boto3` |
|---|---|---|
{table}

## Calls per `GET /accounts/{{id}}/positions?live=true`

In-process (moto, the MetaApi simulator, the real handler), an account with 3 open positions.
The first read stores the positions; the second finds nothing changed and writes nothing.

| read | MetaApi calls | AWS calls |
|---|---|---|
{call_rows}

## One market order

MetaApi requests for one executed market order with a stop loss, on the happy path, in-process
(the API and the executor share the process, as they would share nothing in Lambda: each
function's container has its own cache):

{order_rows}

Pre-trade checks of one order with a warm cache, in-process, over {pretrade["count"]:.0f} orders
(market orders with a stop loss, pending orders with a relative stop loss): median
**{pretrade["p50_us"]:.0f} µs**, p99 **{pretrade["p99_us"]:.0f} µs**, MetaApi calls
**{pretrade["metaapi_calls"]:.0f}** in all, {pretrade_per_order} per order ({CACHE_NOTE}).

Risk and sizing of one entry with a warm cache, in-process, over {risk["count"]:.0f} orders (sized
by risk percent and by risk amount at the stop loss, pre-trade checks included, then every rule
of a profile that sets all of them but the two that query the table): median
**{risk["p50_us"]:.0f} µs**, p99 **{risk["p99_us"]:.0f} µs**, MetaApi calls
**{risk["metaapi_calls"]:.0f}** in all, {risk_per_order} per order ({CACHE_NOTE}). Accepting the
entry adds one `GetItem` (the profile), one `Query` of the stored positions when a position
limit is set, one of today's trades for `maxTradesPerDay` and one of the last closed position
for `cooldownAfterLossMinutes`.

Local stack, `POST /orders` to `EXECUTED` (read with `GET …/trades/{{id}}?wait=10`), one order
after another, simulator answering at once: p50 **{latency["p50_ms"]:.0f} ms**, p99
**{latency["p99_ms"]:.0f} ms** over {latency["count"]:.0f} orders.

A trade parked on a MetaApi 429 that advised 20 s, local stack: sent again
**{parked:.1f} s** after its `notBefore` (the trade timer hands it back; the sweeper would
take up to a minute more).

## Sync

In-process (moto, the MetaApi simulator, the real scheduler and worker), {sync["accounts"]:.0f}
accounts with {sync["positions"]:.0f} open positions each, every account synced once to store
everything, then measured over full syncs of every account as scheduled (the scheduler's tick
claims them, the worker runs each message), prices moving: once with the simulator answering at
once, once with each MetaApi call answered after {sync["latency_ms"]:.0f} ms:

| figure | value |
|---|---|
{sync_table}

What the loss guards add after a sync that read the balance (the worker's figures above leave
them out), for an account with a daily loss limit:

{guard_rows}

## Webhook intake

Local stack, an alert to one account sent to `POST /api/webhooks/{{id}}` to its 202, one after
another as a TradingView alert fires (TradingView gives up after 3 s), over
{intake["count"]:.0f} alerts each:

{intake_table}

AWS calls of the intake for an accepted alert to one account, in-process (moto, the real
handler); it makes no MetaApi call:

{intake_rows}

## One account created at MetaApi

In-process (moto, the MetaApi simulator at the pace the local stack runs it: 2 s to create, 3 s
to deploy, the real API and provisioning handlers, the SDK's account client), one account created
with its credentials, from `POST /accounts` to READY, on the happy path:

- MetaApi calls: {sum(creation["metaapi"].values())} ({creation_metaapi})
- AWS calls, the API's and the worker's: {sum(creation["aws"].values())} ({creation_aws})
- deliveries of the operation's message (each a look, after MetaApi's `Retry-After` or a growing
  wait): {creation["deliveries"]}; READY after {creation["seconds"]:.1f} s

## Live pushes

Local stack, a client connected to its WebSocket API, one market order after another: from each
trade's settlement (its `updatedAt`, which the table's stream turns into `TradeExecuted`) to its
`mt:trade` frame at the client, through the stream, the bus, the broadcaster's queue and the
management API: p50 **{pushed["p50_ms"]:.0f} ms**, p99 **{pushed["p99_ms"]:.0f} ms** over
{pushed["count"]:.0f} trades.

One connection watching one symbol (BTCUSD) on one account for {PUMP_SECONDS} s, counted by the
simulator: **{pumped["price_calls"]:.0f}** `current-price` and **{pumped["position_calls"]:.0f}**
`positions` calls a minute (the second is per watched account, shared by its symbols), and
{pumped["frames"]:.0f} `mt:price` frames a minute; after the last unsubscribe,
{pumped["calls_after_stop"]:.0f} price calls.

## Notifications

Local stack, a linked chat in the Telegram simulator, one market order after another: from each
trade's settlement (its `updatedAt`) to its "Bought …" message at the chat, through the stream,
the bus, the Telegram notifier's queue and the Bot API: p50 **{notified["p50_ms"]:.0f} ms**, p99
**{notified["p99_ms"]:.0f} ms** over {notified["count"]:.0f} trades.

AWS calls of the Telegram notifier for one event, in-process (moto, the real handler):

{notification_rows}

## How to read them

- **Cold import.** Lambda imports the handler module once per container (the init phase). Each
  hot-path handler imports only the Powertools logger and metrics at init and loads the rest of
  its function with its first invocation, so its "handler, boto3" row is close to boto3 alone.
  What was cut from the first request, not only moved: the X-Ray SDK behind Powertools' Tracer
  (the `aws_xray_sdk.core` row; Lambda's active tracing still draws each invocation, and every
  DynamoDB and MetaApi call is timed as a latency metric and a debug log line), pydantic-settings
  (settings are one validated pydantic model read from the environment), the route modules a
  request does not use (the API registers a route's module with the first request that needs
  it), and models built at first use rather than at import (`defer_build`). Kept: validated
  input with a 422 naming the field (the `openapi.models` row is paid by the first API request
  that validates), and `docs/openapi.json`, generated from the same routes. For the queue
  consumers (executor, sync, trade events, trade timer) deferring moves time from init to the
  first message; the "first request in a new container" rows show the total a container pays.
  SnapStart was considered: for Python it needs a published version, alias routing and
  snapshot restore hooks for cached clients and connections, is billed per snapshot cached and
  restored, and saves the init phase only, which is now small; not chosen.
- **Calls per live read.** One MetaApi call (the positions; the account's region is stored, so
  no provisioning lookup). DynamoDB: the ownership check (the caller's account item), the stored
  positions, and a batch write only when something changed. Secrets Manager: none here, because
  linking already read the platform token; a container reads it once and keeps it 60 s.
- **One market order.** Exactly one `POST /trade`; the positions read after it gives the fill
  price (and the slippage in pips) and refreshes the stored positions, so the dashboard shows the
  new position at once. A new container first reads the symbol's specification, its price, the
  account information and the margin per lot for its pre-trade checks; a warm one reads nothing
  more until the price (2 s), the account (10 s), the margin per lot (60 s) or the specification
  (5 min) is due again. Locally the order's time is CPU in one Python process shared by the
  gateway, moto, the simulator, the executor and the sync worker (in Lambda, containers of
  their own): the servers keep connections open, as AWS and MetaApi do; the gateway runs up to
  four requests side by side; the queue pollers wake when a message is sent and `?wait` when the
  trade's item is written; moto reads a query's partition only. The syncs that a burst of
  trades asks for gather for up to 1 s into one batch, where one sync answers them all, which is
  why a trade's sync ends a second or so after its `EXECUTED`.
- **Sync.** A full sync reads account information, positions, pending orders, the account's
  connection state, and deals and history orders since the cursor: 6 calls in two rounds side
  by side, whatever the number of positions. A steady-state scheduled sync that finds nothing
  changed writes 2 items in all and no position or order (a moved quote or equity is not a
  change): the scheduler's claim, which is also the sync's lease, and one update of the account
  item that frees the lease and carries the cursors, `lastSyncAt` (on the item the dashboard
  reads) and the run of unchanged syncs, which the sync log shows as one entry. The per-worker
  rate and the fan-out are bound by moto in this process (every DynamoDB call is Python here):
  moto sorts the whole table for every query and copies it before every transaction, which the
  bench narrows to the queried partition and skips for the worker's figures (as DynamoDB does;
  see `infra/local/fast_moto.py`), and it recounts the sync queue on every send, which the bench
  empties after each batch. The scheduler's index queries are left as moto makes them, so its
  fan-out figure is an upper bound. Against DynamoDB and MetaApi both are bound
  by network round trips instead, which the worker's concurrency cap and the scheduler's 16
  parallel takers and 8 parallel senders spread out. `BENCH_SYNC_ACCOUNTS` (default 1,000) and
  `BENCH_FAN_OUT_ACCOUNTS` (default 10,000) scale the runs down; the per-account figures do not
  depend on them.
- **Webhook intake.** The local stack is one Python process: the intake shares it (and its
  interpreter lock) with the executor and the sync worker, which in Lambda run in containers of
  their own. The first row is what the intake costs by itself (three calls to moto's server over
  HTTP); the others add the wait for the executor's and the sync worker's threads. Its calls: one
  consistent `GetItem` of the webhook (a rotated secret stops working at once), one
  `TransactWriteItems` (the minute's rate count, the duplicate guard, the signal and its trade
  requests: all or nothing) and one `SendMessageBatch` (up to ten trade requests a call).
  Everything that needs the broker waits for the executor. Its cold import carries no Tracer (so
  no X-Ray SDK) and neither the API's validation models nor the MetaApi client; the "webhook
  intake, boto3" row is what a container pays before its first alert.
- **The provisioning function** is the control plane's: it is the one function with the MetaApi
  SDK (its own layer), and no hot-path handler loads it (a test checks). Its init loads what a
  hot-path handler's does; its first message loads the worker and the SDK (the
  `functions.provisioning.invocation` row; the SDK alone is the `metaapi_cloud_sdk` row, which
  also loads its websocket, CopyFactory and MetaStats clients it never uses here). An account
  creation is a few calls: the create call repeated with the same transaction-id until MetaApi
  has made the account, a read for its region, looks at its deployment until it is connected, and
  one account-information snapshot; MetaApi deploys a new account by itself, so no deploy call.
- **Live pushes.** The broadcaster's and the routes' functions import what a hot-path handler
  does at init (their rows above); a frame costs one `PostToConnection` per connection of its
  owner (side by side) and one `PutItem` (the 24-hour event log). The price pump ticks once a
  second while anyone watches: one `current-price` call per watched symbol and one `positions`
  call per watched account, however many connections watch them, one lease renewal and one query
  of the watching connections; it stops at the first tick with nobody watching (10 s later when
  a subscription has just asked for it, while the index it reads catches up). Its Lambda runs
  the whole time something is watched (256 MB, in invocations of 50 s that hand on through its
  queue): about 15 GB-s a minute, some $0.0002 a minute on arm64, plus a DynamoDB write and a
  read a second, whatever the number of watchers.
- **Notifications.** One event costs the notifier of each channel its preferences (`GetItem`), the
  owner's chat (`GetItem`, Telegram only), the account's name (`GetItem`), the delivery's marker
  claimed and then marked sent (`PutItem`, `UpdateItem`), and one Bot API call or one SES
  `SendEmail`; a new container also reads the bot's token once (`GetSecretValue`, kept 5
  minutes). An event nobody wants on a channel stops after the first `GetItem`.
- **Local stack start.** `make run` after the first time: the template comes from the
  `cdk.out/local` cache (it is synthesized again only when `infra/` or `cdk.json` changes), moto
  starts in-process, and tables and secrets are created from the template.
"""
    )
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
