"""The cost model behind docs/cost.md: what one operation uses, measured in-process (moto, the
MetaApi simulator, the real handlers fed as Lambda feeds them), priced on AWS list prices for a
workload, beside one always-on server that streams the same accounts.

`measure_inputs()` measures; `line_items()` and `cost_markdown()` are pure (inputs in, dollars and
markdown out), so a reader can change any input and see its line items move;
`write_cost_model()` does both and writes the report."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
import requests

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "docs" / "cost.md"

# ---------------------------------------------------------------------------------------------
# Prices: us-east-1 list prices, on-demand, no free tier and no savings plan counted.

PRICES_READ = "2026-12-04"


@dataclass(frozen=True)
class Price:
    usd: float
    per: float  # the quantity `usd` buys
    unit: str
    # True when a published page confirmed the figure on PRICES_READ; otherwise it is the
    # published list price as known on that date.
    confirmed: bool

    def of(self, quantity: float) -> float:
        return quantity * self.usd / self.per


LAMBDA_ARM_GB_SECOND = Price(0.0000133334, 1, "GB-second (arm64)", True)
LAMBDA_REQUESTS = Price(0.20, 1e6, "requests", True)
DYNAMODB_WRITE_UNITS = Price(0.625, 1e6, "write request units (on-demand)", False)
DYNAMODB_READ_UNITS = Price(0.125, 1e6, "read request units (on-demand)", False)
SQS_FIFO_REQUESTS = Price(0.50, 1e6, "FIFO requests (64 KB chunks)", False)
SQS_STANDARD_REQUESTS = Price(0.40, 1e6, "standard requests (64 KB chunks)", False)
EVENTBRIDGE_CUSTOM_EVENTS = Price(1.00, 1e6, "custom events put on a bus (64 KB chunks)", False)
# Scheduled rules on the default bus (what the stack's `events.Rule` schedules are) cost nothing.
EVENTBRIDGE_SCHEDULED_RULES = Price(0.0, 1e6, "scheduled rule invocations", False)
API_GATEWAY_REST = Price(3.50, 1e6, "REST requests (first 333 M)", False)
API_GATEWAY_WEBSOCKET_MESSAGES = Price(1.00, 1e6, "WebSocket messages (32 KB each)", False)
API_GATEWAY_WEBSOCKET_MINUTES = Price(0.25, 1e6, "WebSocket connection minutes", True)
SECRETS_MANAGER_SECRETS = Price(0.40, 1, "secret-months", False)
SECRETS_MANAGER_CALLS = Price(0.05, 1e4, "API calls", False)
CLOUDWATCH_LOGS_INGESTION = Price(0.50, 1, "GB ingested (standard class)", True)
CLOUDWATCH_CUSTOM_METRICS = Price(0.30, 1, "metric-months (first 10,000)", False)
CLOUDWATCH_ALARM_METRICS = Price(0.10, 1, "standard-resolution alarm metric-months", True)
XRAY_TRACES = Price(5.00, 1e6, "traces recorded", False)
# Graviton m7g sizes are priced in proportion to memory; m7g.large is the confirmed point.
EC2_M7G_LARGE = Price(0.0816, 1, "instance-hours (m7g.large, Linux)", True)
EC2_M7G_SIZES = {"medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64}  # GiB
EBS_GP3 = Price(0.08, 1, "GB-months (gp3)", False)
PUBLIC_IPV4 = Price(0.005, 1, "public IPv4 address-hours", False)

PRICES: dict[str, Price] = {
    name: value for name, value in list(globals().items()) if isinstance(value, Price) and name.isupper()
}

# Meters an operation's measured calls are counted in.
WRITE_UNITS, READ_UNITS = "dynamodb_write_units", "dynamodb_read_units"
SQS_FIFO, SQS_STANDARD = "sqs_fifo_requests", "sqs_standard_requests"
BUS_EVENTS, REST_REQUESTS = "eventbridge_events", "api_rest_requests"

# ---------------------------------------------------------------------------------------------
# Inputs.


@dataclass(frozen=True)
class FunctionUse:
    """One function's part in one operation, all of it per operation (not per invocation): a
    share of an invocation another operation also rides on (the scheduler's time per account)
    is time and calls without an invocation of its own."""

    invocations: float
    local_ms: float  # wall time in-process
    aws_calls: float  # each adds a round trip once deployed
    log_bytes: float  # JSON log lines and metric (EMF) lines


@dataclass(frozen=True)
class Operation:
    name: str
    functions: dict[str, FunctionUse]
    calls: dict[str, float]  # AWS calls by service and operation, per operation
    metaapi_calls: dict[str, float]
    meters: dict[str, float]  # billable quantities per operation (WRITE_UNITS, SQS_FIFO, …)


@dataclass(frozen=True)
class Workload:
    accounts: int = 1000
    sync_every_minutes: float = 1
    orders_per_day: float = 10_000
    alerts_per_day: float = 100_000
    hours_per_month: float = 730  # AWS's month


@dataclass(frozen=True)
class Assumptions:
    # A deployed invocation lasts its local time plus one round trip per AWS call (moto answers
    # in-process); MetaApi's latency is already in the local time (the simulator waits it).
    aws_round_trip_ms: float = 8
    metaapi_latency_ms: float = 100
    # Lambda's pollers long-poll each queue while it is empty (5 pollers, 20 s polls), and pay
    # a ReceiveMessage and a DeleteMessageBatch per batch they hand a function.
    idle_polls_per_queue_minute: float = 15
    # API Gateway's access log line per request (the stage's JSON format of ten fields).
    access_log_bytes: float = 330
    # X-Ray's default sampling: the first request each second, then 5 %.
    xray_reservoir_per_second: float = 1
    xray_rate: float = 0.05
    # Containers keep the platform token 60 s: a warm container reads it once a minute.
    token_reads_per_container_minute: float = 1
    user_token_secrets: int = 0  # users who stored their own MetaApi token
    # The always-on server: memory per streamed account (the SDK's terminal state: positions,
    # orders, specifications and prices), with room to spare, a disk and a public address.
    streamed_account_mb: float = 6
    server_base_gb: float = 1
    server_headroom: float = 1.3
    server_disk_gb: float = 30


@dataclass(frozen=True)
class CostInputs:
    measured_at: str
    workload: Workload
    assumptions: Assumptions
    memory_mb: dict[str, int]  # per function, from the synthesized CDK template
    sync: Operation  # one scheduled sync of one account, nothing changed
    scheduler_tick: Operation  # what a tick costs whatever the number of accounts
    sweeper_tick: Operation
    order: Operation
    alert: Operation
    queues: dict[str, str]  # every queue a function is fed from: name -> "FIFO" or "standard"
    token_readers: tuple[str, ...]  # functions that read the platform token
    secrets: int  # in the stack
    alarm_metrics: int
    custom_metrics: tuple[str, ...]
    sync_max_concurrency: int


# ---------------------------------------------------------------------------------------------
# The model: pure.


@dataclass(frozen=True)
class LineItem:
    service: str
    what: str
    quantity: float
    price: Price
    side: str = "serverless"  # or "always-on"

    @property
    def usd(self) -> float:
        return self.price.of(self.quantity)


@dataclass
class _Use:
    """Monthly use of one part of the workload."""

    invocations: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    gb_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    log_bytes: float = 0.0
    meters: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, operation: Operation, count: float, inputs: CostInputs) -> None:
        for name, use in operation.functions.items():
            invocations = use.invocations * count
            self.invocations[name] += invocations
            self.gb_seconds[name] += (
                count * deployed_ms(use, inputs.assumptions) / 1000 * inputs.memory_mb[name] / 1024
            )
            self.log_bytes += count * use.log_bytes
        for meter, quantity in operation.meters.items():
            self.meters[meter] += quantity * count
        self.log_bytes += operation.meters.get(REST_REQUESTS, 0) * count * inputs.assumptions.access_log_bytes


def deployed_ms(use: FunctionUse, assumptions: Assumptions) -> float:
    return use.local_ms + use.aws_calls * assumptions.aws_round_trip_ms


def monthly_counts(workload: Workload) -> dict[str, float]:
    """How many of each operation a month holds."""
    minutes = workload.hours_per_month * 60
    days = workload.hours_per_month / 24
    return {
        "syncs": workload.accounts * minutes / workload.sync_every_minutes,
        "scheduler ticks": minutes,
        "sweeper ticks": minutes,
        "orders": workload.orders_per_day * days,
        "alerts": workload.alerts_per_day * days,
    }


PARTS = ("syncs", "orders", "alerts", "always running")


def _uses(inputs: CostInputs) -> dict[str, _Use]:
    counts = monthly_counts(inputs.workload)
    uses = {part: _Use() for part in PARTS}
    uses["syncs"].add(inputs.sync, counts["syncs"], inputs)
    uses["syncs"].add(inputs.scheduler_tick, counts["scheduler ticks"], inputs)
    uses["orders"].add(inputs.order, counts["orders"], inputs)
    uses["alerts"].add(inputs.alert, counts["alerts"], inputs)
    uses["always running"].add(inputs.sweeper_tick, counts["sweeper ticks"], inputs)
    return uses


def concurrency(inputs: CostInputs) -> dict[str, float]:
    """Containers busy on average, per function (invocations a second x seconds each)."""
    seconds = inputs.workload.hours_per_month * 3600
    busy: defaultdict[str, float] = defaultdict(float)
    counts = monthly_counts(inputs.workload)
    for operation, count in (
        (inputs.sync, counts["syncs"]),
        (inputs.scheduler_tick, counts["scheduler ticks"]),
        (inputs.sweeper_tick, counts["sweeper ticks"]),
        (inputs.order, counts["orders"]),
        (inputs.alert, counts["alerts"]),
    ):
        for name, use in operation.functions.items():
            busy[name] += count * deployed_ms(use, inputs.assumptions) / 1000 / seconds
    return dict(busy)


def line_items(inputs: CostInputs) -> dict[str, list[LineItem]]:
    """Line items per part of the workload ("syncs", "orders", "alerts", "always running"), and
    the always-on server ("server")."""
    a, w = inputs.assumptions, inputs.workload
    minutes = w.hours_per_month * 60
    items: dict[str, list[LineItem]] = {}
    all_invocations = sum(sum(use.invocations.values()) for use in _uses(inputs).values())
    reservoir = a.xray_reservoir_per_second * w.hours_per_month * 3600
    traces = min(all_invocations, reservoir) + a.xray_rate * max(0.0, all_invocations - reservoir)
    for part, use in _uses(inputs).items():
        invocations = sum(use.invocations.values())
        share = invocations / all_invocations if all_invocations else 0.0
        m = use.meters
        part_items = [
            LineItem("Lambda", "requests", invocations, LAMBDA_REQUESTS),
            LineItem("Lambda", "duration", sum(use.gb_seconds.values()), LAMBDA_ARM_GB_SECOND),
            LineItem("DynamoDB", "writes", m[WRITE_UNITS], DYNAMODB_WRITE_UNITS),
            LineItem("DynamoDB", "reads", m[READ_UNITS], DYNAMODB_READ_UNITS),
            LineItem("SQS", "FIFO (order queue and its dead letters)", m[SQS_FIFO], SQS_FIFO_REQUESTS),
            LineItem("SQS", "standard (sync queue, trade timer)", m[SQS_STANDARD], SQS_STANDARD_REQUESTS),
            LineItem("EventBridge", "custom events on the bus", m[BUS_EVENTS], EVENTBRIDGE_CUSTOM_EVENTS),
            LineItem("API Gateway", "REST requests", m[REST_REQUESTS], API_GATEWAY_REST),
            LineItem("CloudWatch", "log ingestion", use.log_bytes / 1024**3, CLOUDWATCH_LOGS_INGESTION),
            LineItem("X-Ray", "traces (sampled)", traces * share, XRAY_TRACES),
        ]
        if part == "always running":
            idle = len(inputs.queues) * a.idle_polls_per_queue_minute * minutes
            fifo = sum(1 for kind in inputs.queues.values() if kind == "FIFO")
            busy = concurrency(inputs)
            containers = sum(max(1, math.ceil(busy.get(name, 0.0))) for name in inputs.token_readers)
            part_items += [
                LineItem(
                    "SQS", "idle long polls, FIFO queues", idle * fifo / len(inputs.queues), SQS_FIFO_REQUESTS
                ),
                LineItem(
                    "SQS",
                    "idle long polls, standard queues",
                    idle * (len(inputs.queues) - fifo) / len(inputs.queues),
                    SQS_STANDARD_REQUESTS,
                ),
                LineItem(
                    "EventBridge",
                    "schedules (sync scheduler, sweeper)",
                    2 * minutes,
                    EVENTBRIDGE_SCHEDULED_RULES,
                ),
                LineItem(
                    "API Gateway", "WebSocket messages (no WebSocket API)", 0, API_GATEWAY_WEBSOCKET_MESSAGES
                ),
                LineItem("API Gateway", "WebSocket connection minutes", 0, API_GATEWAY_WEBSOCKET_MINUTES),
                LineItem(
                    "Secrets Manager",
                    "secrets",
                    inputs.secrets + a.user_token_secrets,
                    SECRETS_MANAGER_SECRETS,
                ),
                LineItem(
                    "Secrets Manager",
                    "token reads by warm containers",
                    containers * a.token_reads_per_container_minute * minutes,
                    SECRETS_MANAGER_CALLS,
                ),
                LineItem(
                    "CloudWatch",
                    "custom metrics (EMF)",
                    len(inputs.custom_metrics),
                    CLOUDWATCH_CUSTOM_METRICS,
                ),
                LineItem("CloudWatch", "alarm metrics", inputs.alarm_metrics, CLOUDWATCH_ALARM_METRICS),
            ]
        items[part] = part_items
    size, gib = server_size(inputs)
    items["server"] = [
        LineItem(
            "EC2", f"m7g.{size} ({gib} GiB), always on", w.hours_per_month, server_price(gib), "always-on"
        ),
        LineItem("EBS", "root volume", a.server_disk_gb, EBS_GP3, "always-on"),
        LineItem("VPC", "public IPv4 address", w.hours_per_month, PUBLIC_IPV4, "always-on"),
    ]
    return items


def server_size(inputs: CostInputs) -> tuple[str, int]:
    """The smallest m7g whose memory holds every account's streamed state, with headroom."""
    a = inputs.assumptions
    needed = (a.server_base_gb + inputs.workload.accounts * a.streamed_account_mb / 1024) * a.server_headroom
    for size, gib in EC2_M7G_SIZES.items():
        if gib >= needed:
            return size, gib
    raise ValueError(f"{needed:.0f} GiB is more than one m7g.4xlarge holds")


def server_price(gib: int) -> Price:
    return replace(
        EC2_M7G_LARGE,
        usd=EC2_M7G_LARGE.usd * gib / EC2_M7G_SIZES["large"],
        unit=f"instance-hours ({gib} GiB m7g, in proportion to m7g.large)",
    )


def total(items: list[LineItem]) -> float:
    return sum(item.usd for item in items)


def _n(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _price(price: Price) -> str:
    per = "" if price.per == 1 else f" per {_n(price.per)}"
    return f"${f'{price.usd:.10f}'.rstrip('0').rstrip('.')}{per} {price.unit}"


def cost_markdown(inputs: CostInputs) -> str:
    """docs/cost.md from the inputs: pure."""
    w, a = inputs.workload, inputs.assumptions
    items = line_items(inputs)
    serverless = [item for part in PARTS for item in items[part]]
    server = items["server"]
    counts = monthly_counts(w)
    busy = concurrency(inputs)
    sync_seconds = deployed_ms(inputs.sync.functions.get(SYNC_WORKER, FunctionUse(0, 0, 0, 0)), a) / 1000
    worker_busy = busy.get(SYNC_WORKER, 0.0)

    def operation_table(operation: Operation) -> str:
        rows = [
            f"| `{name}` | {inputs.memory_mb[name]} MB | {_n(use.invocations)} | {use.local_ms:.1f} ms | "
            f"{_n(use.aws_calls)} | {deployed_ms(use, a):.1f} ms | {use.log_bytes:,.0f} B |"
            for name, use in operation.functions.items()
        ]
        calls = ", ".join(f"{name} {_n(n)}" for name, n in sorted(operation.calls.items())) or "none"
        metaapi = (
            ", ".join(f"`{name}` {_n(n)}" for name, n in sorted(operation.metaapi_calls.items())) or "none"
        )
        meters = ", ".join(f"{name} {_n(n)}" for name, n in sorted(operation.meters.items()) if n) or "none"
        return (
            f"**{operation.name}** (every figure per operation, not per invocation)\n\n"
            "| function | memory | invocations | local time | AWS calls | deployed time | log bytes |\n"
            "|---|---|---|---|---|---|---|\n"
            + "\n".join(rows)
            + f"\n\n- AWS calls: {calls}\n- MetaApi calls: {metaapi}\n- billed quantities: {meters}\n"
        )

    def item_rows(part_items: list[LineItem]) -> str:
        return "\n".join(
            f"| {item.service} | {item.what} | {_n(item.quantity)} | {_price(item.price)} | "
            f"{_usd(item.usd)} |"
            for item in part_items
        )

    part_rows = "\n".join(f"| {part} | {_usd(total(items[part]))} |" for part in PARTS)
    sections = "\n\n".join(
        f"### {part}\n\n| service | what | quantity / month | price | $ / month |\n|---|---|---|---|---|\n"
        + item_rows(items[part])
        + f"\n| | **{part}** | | | **{_usd(total(items[part]))}** |"
        for part in PARTS
    )
    by_service: defaultdict[str, float] = defaultdict(float)
    for item in serverless:
        by_service[item.service] += item.usd
    service_rows = "\n".join(
        f"| {service} | {_usd(usd)} | {usd / total(serverless):.0%} |"
        for service, usd in sorted(by_service.items(), key=lambda pair: -pair[1])
    )
    price_rows = "\n".join(
        f"| `{name}` | {_price(price)} | {'confirmed' if price.confirmed else 'list price as known'} |"
        for name, price in PRICES.items()
    )
    assumption_rows = "\n".join(f"| `{name}` | {_n(value)} |" for name, value in vars(a).items())
    workload_rows = "\n".join(f"| `{name}` | {_n(value)} |" for name, value in vars(w).items())
    count_rows = "\n".join(f"| {name} | {_n(value)} |" for name, value in counts.items())
    busy_rows = "\n".join(f"| `{name}` | {value:.2f} |" for name, value in sorted(busy.items()))
    size, gib = server_size(inputs)
    sync_part, server_total = total(items["syncs"]), total(server)
    return f"""# Cost model

Written by `make bench` (`tests/bench/cost.py`): what each operation uses is measured in-process
(moto, the MetaApi simulator, the real handlers fed as Lambda feeds them) on {inputs.measured_at},
then priced on AWS list prices for us-east-1 read on {PRICES_READ}: on-demand, arm64, no free tier,
no savings plan. Every figure below is an input of one formula; change one and the line items
follow (`line_items()` and `cost_markdown()` in that module are pure). Left out: live pushes,
notifications and account provisioning, which scale with watchers, subscribers and new accounts
rather than with this workload (benchmarks.md has their calls and costs).

## The answer

Workload: {w.accounts:,} accounts synced every {_n(w.sync_every_minutes)} minute(s),
{w.orders_per_day:,.0f} API orders a day and {w.alerts_per_day:,.0f} webhook alerts a day (each to
one account, so one trade each), a month of {_n(w.hours_per_month)} hours.

| | $ / month |
|---|---|
| **serverless, all of it** | **{_usd(total(serverless))}** |
| of which keeping {w.accounts:,} accounts in step (scheduled syncs) | {_usd(sync_part)} |
| **one always-on server streaming them** (m7g.{size}, {gib} GiB) | **{_usd(server_total)}** |

The server replaces the polling only: the orders and the alerts still need an API, the order
queue, the executor, the table and the bus, so the like-for-like comparison is the sync part
({_usd(sync_part)}) against the server ({_usd(server_total)}); with the server, the month is about
{_usd(total(serverless) - sync_part + server_total)}. One server is one point of failure: a second
one on standby doubles its line.

MetaApi's own charges are left out of both sums. What is known: MetaApi bills per deployed
account and hour, and both designs keep the same {w.accounts:,} accounts deployed, so that part is
the same either way. REST calls are not billed one by one; they draw on MetaApi's CPU-credit rate
limits (per application, per server and per account), which the polling design spends
({_n(sum(inputs.sync.metaapi_calls.values()))} calls per account a minute here) and the streaming
design hardly does. The price per account-hour was not confirmed for this model, so no figure
is given.

### By part of the workload

| part | $ / month |
|---|---|
{part_rows}

### By service (serverless)

| service | $ / month | share |
|---|---|---|
{service_rows}

## The formula

For each function *f* and operation *o*:
invocations = Σ count(o) x invocations(o, f);
GB-seconds = Σ count(o) x deployed time(o, f) x memory(f) / 1024;
deployed time(o, f) = local time(o, f) + AWS calls(o, f) x `aws_round_trip_ms`;
log GB = (Σ count(o) x log bytes(o, f) + REST requests x `access_log_bytes`) / 1024³.
Every other meter is Σ count(o) x quantity(o) (write and read units, SQS requests by queue
kind, events, REST requests). Each line item is quantity x price. Fixed items: idle long polls
= queues x `idle_polls_per_queue_minute` x minutes; token reads = Σ over the functions that read
the platform token of max(1, ⌈busy containers⌉) x `token_reads_per_container_minute` x minutes;
X-Ray traces = min(invocations, reservoir) + `xray_rate` x the rest, shared out by invocations.
The server: the smallest m7g with at least (`server_base_gb` + accounts x `streamed_account_mb` /
1024) x `server_headroom` GiB, x hours, plus its disk and its address.

## Inputs

### Workload

| input | value |
|---|---|
{workload_rows}

| operations a month | count |
|---|---|
{count_rows}

### Assumptions

| input | value |
|---|---|
{assumption_rows}

### Measured per operation

Local time is wall time in this process, one invocation at a time, with the MetaApi simulator
answering each call after {_n(a.metaapi_latency_ms)} ms (its calls that run side by side overlap
as they would deployed) and moto answering AWS calls in-process. In AWS every DynamoDB, SQS,
EventBridge and Secrets Manager call is a network round trip, which the local time lacks: the
deployed time adds `aws_round_trip_ms` per call. Memory is each function's `MemorySize` in the
synthesized CDK template (the function factory's 512 MB default unless a construct sets less).
Log bytes are the JSON lines the Powertools logger writes at the stack's INFO level plus the
metric (EMF) lines, per invocation; the stack sets Lambda's system log level to WARN, so Lambda
adds no START/END/REPORT lines. Write and read units are counted from the items' sizes as
DynamoDB bills them: a write per KB of the larger of the item before and after (two in a
transaction, and one or two more per index the change reaches: moving the `syncDue` index's sort
key is a delete and a put there), a strongly consistent read per 4 KB (half that when eventually
consistent). SQS requests are counted per 64 KB chunk, and each batch Lambda hands a queue-fed
function adds the event source's ReceiveMessage and DeleteMessageBatch. Events are counted per
entry put on the bus. Each table stream batch the publisher takes is one invocation here; under
load Lambda batches the records of concurrent syncs together (up to 100), so the publisher's
figures are an upper bound. Calls that are served by a container's caches once it is warm (the
platform token, the market cache) are measured on a warm container: the operation is run once
before it is measured. The scheduler's figures come from two ticks, of {SCHEDULER_ACCOUNTS} and
{2 * SCHEDULER_ACCOUNTS} due accounts: what the second adds per account is each sync's share (time
and calls, no invocation of its own), the rest is the tick's. It takes accounts 16 at a time, so
its local time is not told apart from the counting's own look-ups (it may show 0) and its
deployed time, a round trip per call one after another, is an upper bound.

{operation_table(inputs.sync)}
{operation_table(inputs.scheduler_tick)}
{operation_table(inputs.sweeper_tick)}
{operation_table(inputs.order)}
{operation_table(inputs.alert)}
Functions that read the platform token: {", ".join(f"`{name}`" for name in inputs.token_readers) or "none"}.
Queues functions are fed from: {", ".join(f"{q} ({kind})" for q, kind in sorted(inputs.queues.items()))}.
Secrets in the stack: {inputs.secrets}. Alarm metrics in the stack: {inputs.alarm_metrics}. Custom
metrics seen while measuring (each name a metric; outcomes not seen here, such as rejected or
unknown trades, add one each): {len(inputs.custom_metrics)}.

Containers busy on average (invocations a second x deployed seconds):

| function | busy containers |
|---|---|
{busy_rows}

The sync worker is capped at {inputs.sync_max_concurrency} containers (`syncMaxConcurrency`); one
sync takes {sync_seconds:.2f} s deployed, so {w.accounts:,} accounts every
{_n(w.sync_every_minutes)} minute(s) need {worker_busy:.1f} busy on average
({"within" if worker_busy <= inputs.sync_max_concurrency else "over"} the cap).

### Prices

us-east-1, read on {PRICES_READ}. "Confirmed" means a published page showed the figure on that
date; "list price as known" is the published list price as known on that date, not confirmed
again for this model. Free tiers are not counted.

| constant | price | status |
|---|---|---|
{price_rows}

## Line items

{sections}

### always-on server

| service | what | quantity / month | price | $ / month |
|---|---|---|---|---|
{item_rows(server)}
| | **always-on server** | | | **{_usd(server_total)}** |

## Left out

- MetaApi's charges (see above), data transfer out (small JSON answers), DynamoDB storage and
  point-in-time recovery (by table size, not by these operations), Cognito (by monthly active
  users) and the dashboard's own reads of the API, which this workload does not include.
- The server's own running costs beyond the instance, its disk and its address: its logs, its
  deployment and its monitoring.
"""


# ---------------------------------------------------------------------------------------------
# Measuring.

API = "functions.api.handler.lambda_handler"
EXECUTOR = "functions.executor.handler.lambda_handler"
SYNC_WORKER = "functions.sync_worker.handler.lambda_handler"
SYNC_SCHEDULER = "functions.sync_scheduler.handler.lambda_handler"
SWEEPER = "functions.sweeper.handler.lambda_handler"
TRADE_EVENTS = "functions.trade_events.handler.lambda_handler"
WEBHOOK = "functions.webhook.handler.lambda_handler"
SCHEDULER_ACCOUNTS = 10  # the tick is measured with this many due accounts, then twice as many
_KB, _READ_KB, _CHUNK = 1024, 4096, 64 * 1024


def _value_bytes(value: dict[str, Any]) -> int:
    """An attribute value's size as DynamoDB counts it."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return (len(str(data).lstrip("-").replace(".", "")) + 1) // 2 + 1
    if kind == "B":
        return len(data) if isinstance(data, bytes) else len(base64.b64decode(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_bytes({kind[0]: member}) for member in data)
    if kind == "M":
        return 3 + item_bytes(data)
    return 3 + sum(1 + _value_bytes(member) for member in data)  # L


def item_bytes(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + _value_bytes(value) for name, value in (item or {}).items())


@dataclass(frozen=True)
class _Index:
    keys: tuple[str, ...]
    projected: tuple[str, ...] | None  # None: every attribute


def _index_writes(index: _Index, before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
    """Writes a change costs on one global secondary index."""
    was = before is not None and all(key in before for key in index.keys)
    now = after is not None and all(key in after for key in index.keys)
    if not (was and now):
        return int(was) + int(now)
    assert before is not None
    assert after is not None
    if any(before[key] != after[key] for key in index.keys):
        return 2  # a delete and a put in the index
    names = set(before) | set(after) if index.projected is None else set(index.projected)
    return int(any(before.get(name) != after.get(name) for name in names))


class AwsMeter:
    """Counts what the functions' own boto3 clients call, and what DynamoDB, SQS and EventBridge
    bill for it."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.meters: defaultdict[str, float] = defaultdict(float)
        self._plain = boto3.client("dynamodb")
        self._indexes: dict[str, list[_Index]] = {}
        # Time spent looking at items for the counts: not the functions' time.
        self.overhead_seconds = 0.0

    def attach(self, client: Any, service: str) -> None:
        events = client.meta.events
        events.register("before-parameter-build", self._timed(self._before))
        events.register(
            "after-call",
            self._timed(lambda model, parsed, context, **_: self._after(service, model, parsed, context)),
        )

    def _timed(self, hook: Callable[..., None]) -> Callable[..., None]:
        def timed(**kwargs: Any) -> None:
            started = time.perf_counter()
            try:
                hook(**kwargs)
            finally:
                self.overhead_seconds += time.perf_counter() - started

        return timed

    def _keys(self, name: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], int]]:
        """(table, key, units per KB) of each item a write names."""
        if name in ("PutItem", "UpdateItem", "DeleteItem"):
            return [(params["TableName"], self._key_of(params["TableName"], params), 1)]
        found = []
        if name == "BatchWriteItem":
            for table, writes in params["RequestItems"].items():
                for write in writes:
                    body = write.get("PutRequest") or write.get("DeleteRequest") or {}
                    found.append((table, self._key_of(table, body), 1))
        if name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                if kind != "ConditionCheck":
                    found.append((body["TableName"], self._key_of(body["TableName"], body), 2))
        return found

    def _key_of(self, table: str, body: dict[str, Any]) -> dict[str, Any]:
        if "Key" in body:
            return dict(body["Key"])
        names = self._table(table)[0]
        return {name: body["Item"][name] for name in names}

    def _table(self, table: str) -> tuple[tuple[str, ...], list[_Index]]:
        description = self._plain.describe_table(TableName=table)["Table"]
        keys = tuple(key["AttributeName"] for key in description["KeySchema"])
        if table not in self._indexes:
            self._indexes[table] = [
                _Index(
                    tuple(key["AttributeName"] for key in index["KeySchema"]),
                    None
                    if index["Projection"]["ProjectionType"] == "ALL"
                    else (*keys, *index["Projection"].get("NonKeyAttributes", [])),
                )
                for index in description.get("GlobalSecondaryIndexes", [])
            ]
        return keys, self._indexes[table]

    def _item(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._plain.get_item(
            TableName=table, Key=key, ConsistentRead=True
        ).get("Item")
        return found

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name == "dynamodb":
            context["cost.writes"] = [
                (table, key, factor, self._item(table, key))
                for table, key, factor in self._keys(model.name, params)
            ]
        context["cost.params"] = params

    def _after(self, service: str, model: Any, parsed: dict[str, Any], context: dict[str, Any]) -> None:
        self.calls[f"{service} {model.name}"] += 1
        params = context.get("cost.params", {})
        if service == "DynamoDB":
            self._dynamodb(model.name, params, parsed, context.get("cost.writes", []))
        elif service == "SQS":
            self._sqs(model.name, params)
        elif service == "EventBridge" and model.name == "PutEvents":
            self.meters[BUS_EVENTS] += sum(
                math.ceil(max(1, len(json.dumps(entry, default=str).encode())) / _CHUNK)
                for entry in params["Entries"]
            )

    def _dynamodb(
        self, name: str, params: dict[str, Any], parsed: dict[str, Any], writes: list[tuple[Any, ...]]
    ) -> None:
        for table, key, factor, before in writes:
            after = self._item(table, key)
            self.meters[WRITE_UNITS] += factor * max(
                1, math.ceil(max(item_bytes(before), item_bytes(after)) / _KB)
            )
            self.meters[WRITE_UNITS] += sum(
                _index_writes(index, before, after) for index in self._table(table)[1]
            )
        consistent = 1.0 if params.get("ConsistentRead") else 0.5
        if name == "GetItem":
            self.meters[READ_UNITS] += consistent * max(
                1, math.ceil(item_bytes(parsed.get("Item")) / _READ_KB)
            )
        elif name in ("Query", "Scan"):
            read = sum(item_bytes(item) for item in parsed.get("Items", []))
            self.meters[READ_UNITS] += consistent * max(1, math.ceil(read / _READ_KB))
        elif name == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                self.meters[READ_UNITS] += sum(
                    consistent * max(1, math.ceil(item_bytes(item) / _READ_KB)) for item in items
                )
        elif name == "TransactGetItems":
            self.meters[READ_UNITS] += sum(
                2 * max(1, math.ceil(item_bytes(r.get("Item")) / _READ_KB))
                for r in parsed.get("Responses", [])
            )
        elif name == "TransactWriteItems":
            checks = sum(1 for entry in params["TransactItems"] if "ConditionCheck" in entry)
            self.meters[READ_UNITS] += 2 * checks

    def _sqs(self, name: str, params: dict[str, Any]) -> None:
        meter = SQS_FIFO if str(params.get("QueueUrl", "")).endswith(".fifo") else SQS_STANDARD
        if name == "SendMessage":
            payload = len(params["MessageBody"].encode())
        elif name == "SendMessageBatch":
            payload = sum(len(entry["MessageBody"].encode()) for entry in params["Entries"])
        else:
            payload = 0
        self.meters[meter] += max(1, math.ceil(payload / _CHUNK))


@dataclass
class _Function:
    invocations: int = 0
    seconds: float = 0.0
    aws_calls: int = 0
    log_bytes: int = 0


class Recorder:
    """Wraps each function's handler: counts its invocations, their wall time, AWS calls and log
    bytes; everything the functions call is counted by the meter it shares."""

    def __init__(self, meter: AwsMeter, metaapi: Any) -> None:
        self.meter = meter
        self.metaapi = metaapi
        self.functions: dict[str, _Function] = {}
        self.metrics: set[str] = set()
        self.secret_readers: set[str] = set()
        self._events = os.environ.copy()

    def start(self) -> None:
        self.meter.calls.clear()
        self.meter.meters.clear()
        self.metaapi.requests.clear()
        self.functions = {}

    def wrap(
        self, name: str, handler: Callable[..., Any], *, queue: str | None = None, stream: bool = False
    ) -> Callable[..., Any]:
        def recorded(event: dict[str, Any], context: Any) -> Any:
            if stream:
                event = {"Records": [record for record in event["Records"] if _eventful(record)]}
                if not event["Records"]:
                    return {"batchItemFailures": []}
            return self.invoke(name, lambda: handler(event, context), queue=queue)

        return recorded

    def invoke(self, name: str, call: Callable[[], Any], *, queue: str | None = None) -> Any:
        from mtcore.observability import logger

        calls_before = sum(self.meter.calls.values())
        overhead_before = self.meter.overhead_seconds
        secrets_before = self.meter.calls["SecretsManager GetSecretValue"]
        stream = io.StringIO()
        handler = logger.registered_handler
        previous = handler.setStream(stream)  # type: ignore[attr-defined]
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(stream):  # metric (EMF) lines are printed
                return call()
        finally:
            overhead = self.meter.overhead_seconds - overhead_before
            seconds = max(0.0, time.perf_counter() - started - overhead)
            handler.setStream(previous)  # type: ignore[attr-defined]
            text = stream.getvalue()
            used = self.functions.setdefault(name, _Function())
            used.invocations += 1
            used.seconds += seconds
            used.aws_calls += sum(self.meter.calls.values()) - calls_before
            used.log_bytes += len(text.encode())
            if self.meter.calls["SecretsManager GetSecretValue"] > secrets_before:
                self.secret_readers.add(name)
            self.metrics |= _metric_names(text)
            if queue is not None:  # the event source's ReceiveMessage and DeleteMessageBatch
                self.meter.meters[queue] += 2
                self.meter.calls["SQS ReceiveMessage, DeleteMessageBatch (event source)"] += 2

    def operation(self, name: str, per: int = 1) -> Operation:
        """What was recorded since `start()`, per `per` operations."""
        secrets = "SecretsManager GetSecretValue"
        return Operation(
            name=name,
            functions={
                function: FunctionUse(
                    invocations=used.invocations / per,
                    local_ms=used.seconds * 1000 / per,
                    aws_calls=used.aws_calls / per,
                    log_bytes=used.log_bytes / per,
                )
                for function, used in self.functions.items()
            },
            calls={call: n / per for call, n in self.meter.calls.items() if call != secrets},
            metaapi_calls={_metaapi_name(call): n / per for call, n in self.metaapi.requests.items()},
            meters={meter: n / per for meter, n in self.meter.meters.items()},
        )


def _eventful(record: dict[str, Any]) -> bool:
    """The table stream's event filter: records of other entities never invoke the publisher."""
    from infra.constructs.trading import EVENTFUL_ENTITIES

    entity = record.get("dynamodb", {}).get("NewImage", {}).get("entity", {}).get("S")
    return entity in EVENTFUL_ENTITIES


def _metric_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        if '"_aws"' in line:
            blob = json.loads(line)
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                dimensions = ",".join(
                    sorted(f"{d}={blob.get(d)}" for group in directive["Dimensions"] for d in group)
                )
                names |= {f"{metric['Name']} ({dimensions})" for metric in directive["Metrics"]}
    return names


def _metaapi_name(key: str) -> str:
    from tests.bench.sync import _call_name

    return _call_name(key)


# Functions this model leaves out (their queues are not drained): live pushes, notifications and
# account provisioning have figures of their own in benchmarks.md.
NOT_MODELLED = frozenset(
    {
        "functions.broadcaster.handler.lambda_handler",
        "functions.price_pump.handler.lambda_handler",
        "functions.telegram_notifier.handler.lambda_handler",
        "functions.email_notifier.handler.lambda_handler",
        "functions.provisioning.handler.lambda_handler",
    }
)


@dataclass
class _Stack:
    api: Any
    recorder: Recorder
    pollers: list[Any]
    stream: Any
    raw: Any  # a DynamoDB client the meter does not count

    def drain(self) -> None:
        """Run every queue and the table stream until nothing is left, as Lambda would."""
        while sum(poller.poll_once() for poller in [self.stream, *self.pollers]):
            pass

    def make_all_due(self) -> None:
        """Every account on the sync schedule due now, wherever the schedule keeps it."""
        from mtcore.settings import get_settings

        table = get_settings().table_name
        past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        pages = self.raw.get_paginator("scan").paginate(
            TableName=table, FilterExpression="attribute_exists(syncDueAt)", ProjectionExpression="pk, sk"
        )
        for page in pages:
            for key in page["Items"]:
                self.raw.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET syncDueAt = :due",
                    ExpressionAttributeValues={":due": {"S": past}},
                )

    def tick(self, handler: str) -> None:
        from infra.local.gateway import LambdaContext
        from infra.local.queues import load_handler, scheduled_event

        function = load_handler(handler)
        context = LambdaContext(handler, time.monotonic() + 60, str(uuid.uuid4()))
        self.recorder.invoke(handler, lambda: function(scheduled_event(), context))


@contextlib.contextmanager
def _stack() -> Iterator[_Stack]:
    from infra.local.queues import QueuePoller, StreamPoller, load_handler
    from infra.local.resources import function_environment, queue_subscriptions, stream_subscriptions
    from infra.synth import synthesized_template
    from tests.bench.calls import _environment
    from tests.containers import new_container

    template = synthesized_template()
    with _environment() as (api, metaapi, _, resources):
        for handler in (API, EXECUTOR, SYNC_WORKER, SYNC_SCHEDULER, SWEEPER, TRADE_EVENTS, WEBHOOK):
            os.environ.update(function_environment(template, handler, resources))
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
        url = os.environ["METAAPI_CLIENT_URL_TEMPLATE"]
        meter = AwsMeter()
        recorder = Recorder(meter, metaapi)
        sqs = boto3.client("sqs")
        pollers = []
        for fed in queue_subscriptions(template, resources):
            if fed.handler in NOT_MODELLED:
                continue
            kind = SQS_FIFO if fed.queue_url.endswith(".fifo") else SQS_STANDARD
            pollers.append(
                QueuePoller(sqs, fed, recorder.wrap(fed.handler, load_handler(fed.handler), queue=kind))
            )
        subscription = stream_subscriptions(template, resources)[0]
        from mtcore import aws as mtcore_aws
        from mtcore.observability import time_aws_calls
        from mtcore.sync import queue as sync_queue

        def timed_and_metered(client: Any, service: str) -> None:
            time_aws_calls(client, service)
            meter.attach(client, service)

        with (
            patch.object(mtcore_aws, "time_aws_calls", timed_and_metered),
            # Scheduled syncs are spread over 20 s in AWS; here they are due at once.
            patch.object(sync_queue, "MAX_JITTER_SECONDS", 0),
        ):
            new_container()
            stream = StreamPoller(
                boto3.client("dynamodb"),
                boto3.client("dynamodbstreams"),
                subscription,
                recorder.wrap(TRADE_EVENTS, load_handler(subscription.handler), stream=True),
            )
            requests.put(
                f"{url}/_sim/network",
                json={"latencySeconds": Assumptions().metaapi_latency_ms / 1000},
                timeout=5,
            ).raise_for_status()
            yield _Stack(api, recorder, pollers, stream, boto3.client("dynamodb"))


def _sync_operations(stack: _Stack) -> tuple[Operation, Operation]:
    """A quiet scheduled sync per account, and the scheduler's tick apart from its accounts:
    ticks of n and 2n due accounts, each followed by their syncs."""
    from tests.bench.sync import _linked_accounts

    simulator = stack.recorder.metaapi.app
    n = SCHEDULER_ACCOUNTS
    accounts = _linked_accounts(stack.api, simulator, n, 3)
    stack.make_all_due()
    stack.tick(SYNC_SCHEDULER)  # the first syncs store everything: not the steady state
    stack.drain()
    figures = {}
    for label in ("n", "2n"):
        if label == "2n":
            accounts += _linked_accounts(stack.api, simulator, n, 3)
            stack.make_all_due()  # the new accounts' first syncs; the others' are quiet
            stack.tick(SYNC_SCHEDULER)
            stack.drain()
        stack.make_all_due()
        stack.recorder.start()
        stack.tick(SYNC_SCHEDULER)
        scheduler = stack.recorder.operation("tick", per=1)
        stack.recorder.start()
        stack.drain()
        figures[label] = (scheduler, stack.recorder.operation("syncs", per=len(accounts)))
    tick_n, tick_2n = figures["n"][0], figures["2n"][0]
    # The tick grows with its accounts: what 2n accounts add over n, per account, is each sync's
    # share of the scheduler (time and calls, but no invocation: one tick takes them all).
    per_account = _scaled(_combined("", tick_2n, tick_n, -1), 1 / n)
    fixed = _combined("The scheduler's tick apart from its accounts, once a minute", tick_n, per_account, -n)
    sync = _combined("One scheduled sync of one account, nothing changed", figures["2n"][1], per_account)
    return sync, fixed


def _scaled(operation: Operation, factor: float) -> Operation:
    def times(values: dict[str, float]) -> dict[str, float]:
        return {k: v * factor for k, v in values.items()}

    functions = {
        name: FunctionUse(*(value * factor for value in vars(use).values()))
        for name, use in operation.functions.items()
    }
    return Operation(
        operation.name,
        functions,
        times(operation.calls),
        times(operation.metaapi_calls),
        times(operation.meters),
    )


def _combined(name: str, a: Operation, b: Operation, sign: float = 1) -> Operation:
    """a + sign x b, quantity by quantity."""

    def add(x: dict[str, float], y: dict[str, float]) -> dict[str, float]:
        return {
            k: x.get(k, 0) + sign * y.get(k, 0) for k in set(x) | set(y) if x.get(k, 0) + sign * y.get(k, 0)
        }

    none = FunctionUse(0, 0, 0, 0)
    functions = {
        function: FunctionUse(
            *(
                max(0.0, mine + sign * theirs)
                for mine, theirs in zip(
                    vars(a.functions.get(function, none)).values(),
                    vars(b.functions.get(function, none)).values(),
                    strict=True,
                )
            )
        )
        for function in {*a.functions, *b.functions}
    }
    return Operation(
        name,
        functions,
        add(a.calls, b.calls),
        add(a.metaapi_calls, b.metaapi_calls),
        add(a.meters, b.meters),
    )


def _order_operation(stack: _Stack, account_id: str) -> Operation:
    """A market order with a stop loss, end to end: the API's POST, the executor, the events
    of its writes and the sync it sets off, and that sync's events."""
    orders = f"/api/metatrader/accounts/{account_id}/orders"
    order = {"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01, "stopLoss": 60000}
    operation = None
    for _ in range(2):  # the first warms the containers' caches
        stack.recorder.start()
        stack.recorder.meter.meters[REST_REQUESTS] += 1
        answer = stack.recorder.invoke(API, lambda: stack.api.call("POST", orders, user="alice", body=order))
        stack.drain()
        operation = stack.recorder.operation("One market order, accepted and executed, and its sync")
        trade = stack.api.call(
            "GET", f"{orders.removesuffix('/orders')}/trades/{answer.body['id']}", user="alice"
        )
        if trade.body["status"] != "EXECUTED":
            raise RuntimeError(f"the order ended {trade.body}")
    assert operation is not None
    return operation


def _alert_operation(stack: _Stack, account_id: str) -> Operation:
    """A webhook alert to one account, end to end: the intake, the executor resolving the
    signal and placing its order, the events and the sync that follow."""
    from tests.integration.conftest import post_alert

    hook = stack.api.call(
        "POST", "/api/metatrader/webhooks", user="alice", body={"name": "cost", "accountIds": [account_id]}
    ).body
    operation = None
    for number in range(2):  # the first warms the containers' caches
        alert = json.dumps(
            {
                "action": "buy",
                "symbol": "BTCUSD",
                "volume": 0.01,
                "signalId": f"cost-{number}",
                "secret": hook["secret"],
            }
        )
        stack.recorder.start()
        stack.recorder.meter.meters[REST_REQUESTS] += 1
        answer = stack.recorder.invoke(WEBHOOK, partial(post_alert, hook["id"], alert))
        if answer.status != 202:
            raise RuntimeError(f"the alert was answered {answer.status}: {answer.body}")
        stack.drain()
        operation = stack.recorder.operation("One webhook alert to one account, its trade and its sync")
    assert operation is not None
    return operation


def _sweeper_operation(stack: _Stack) -> Operation:
    for _ in range(2):  # the first warms the container
        stack.recorder.start()
        stack.tick(SWEEPER)
    return stack.recorder.operation("The sweeper's tick with nothing to sweep, once a minute")


def _template_inputs(template: dict[str, Any]) -> dict[str, Any]:
    """What the synthesized stack says: memory per function, who reads the platform token,
    secrets and alarm metrics."""
    from infra.local.resources import resources_of
    from mtcore.settings import Env

    functions = resources_of(template, "AWS::Lambda::Function").values()
    alarms = resources_of(template, "AWS::CloudWatch::Alarm").values()
    return {
        "memory_mb": {f["Handler"]: int(f.get("MemorySize", 128)) for f in functions},
        "token_readers": tuple(
            sorted(
                f["Handler"]
                for f in functions
                if Env.PLATFORM_TOKEN_SECRET_ID in f.get("Environment", {}).get("Variables", {})
            )
        ),
        "secrets": len(resources_of(template, "AWS::SecretsManager::Secret")),
        "alarm_metrics": sum(
            sum(1 for metric in alarm["Metrics"] if "MetricStat" in metric) if "Metrics" in alarm else 1
            for alarm in alarms
        ),
    }


def measure_inputs() -> CostInputs:
    from infra.config import StageConfig
    from infra.synth import synthesized_template

    template = synthesized_template()
    with _stack() as stack:
        sync, tick = _sync_operations(stack)
        sweeper = _sweeper_operation(stack)
        metaapi_id = stack.recorder.metaapi.app.create_account(
            "platform.token.under-test", metadata={"userId": "alice"}
        )
        account_id = stack.api.call(
            "POST", "/api/metatrader/accounts", user="alice", body={"metaapiAccountId": metaapi_id}
        ).body["id"]
        order = _order_operation(stack, account_id)
        alert = _alert_operation(stack, account_id)
        queues = {
            poller.queue_url.rsplit("/", 1)[-1]: "FIFO" if poller.queue_url.endswith(".fifo") else "standard"
            for poller in stack.pollers
        }
        metrics = tuple(sorted(stack.recorder.metrics))
    return CostInputs(
        measured_at=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        workload=Workload(),
        assumptions=Assumptions(),
        sync=sync,
        scheduler_tick=tick,
        sweeper_tick=sweeper,
        order=order,
        alert=alert,
        queues=queues,
        custom_metrics=metrics,
        sync_max_concurrency=StageConfig().sync_max_concurrency,
        **_template_inputs(template),
    )


def write_cost_model() -> str:
    """Measure, price, and write docs/cost.md; answers its text."""
    text = cost_markdown(measure_inputs())
    REPORT.write_text(text)
    return text


if __name__ == "__main__":
    print(write_cost_model())
