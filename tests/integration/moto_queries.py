"""Runs a set of DynamoDB queries against a fresh moto server and prints the answers as JSON:
`python -m tests.integration.moto_queries fast` with the local stack's moto changes applied,
`... moto` without. A process of its own, as those changes hold for the whole process."""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from infra.local.stack import free_port

HOST = "127.0.0.1"
VALUES = {
    ":a": {"S": "A"},
    ":p": {"S": "POS#"},
    ":lo": {"S": "POS#02"},
    ":hi": {"S": "TRADE#03"},
    ":n": {"N": "3"},
}


def _key(text: str, *names: str) -> dict[str, Any]:
    return {
        "KeyConditionExpression": text,
        "ExpressionAttributeValues": {name: VALUES[name] for name in names},
    }


def _pages(db: Any, **query: Any) -> list[list[Any]]:
    found, token = [], None
    while True:
        answer = db.query(TableName="t", **query, **({"ExclusiveStartKey": token} if token else {}))
        token = answer.get("LastEvaluatedKey")
        found.append([answer["Count"], answer["ScannedCount"], answer.get("Items"), token])
        if not token:
            return found


def main(mode: str) -> None:
    if mode == "fast":
        from infra.local.fast_moto import speed_up_moto

        speed_up_moto()
    port = free_port(HOST)
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    db = boto3.client(
        "dynamodb",
        endpoint_url=f"http://{HOST}:{port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    db.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    for account in ("A", "B"):
        for kind in ("POS", "TRADE", "DEAL"):
            for number in range(7):
                item: dict[str, Any] = {
                    "pk": {"S": account},
                    "sk": {"S": f"{kind}#{number:02}"},
                    "n": {"N": str(number)},
                    "tags": {"SS": ["a", kind]},
                    "m": {"M": {"k": {"L": [{"S": kind}]}}},
                }
                db.put_item(TableName="t", Item=item)
    positions = _key("pk = :a AND begins_with(sk, :p)", ":a", ":p")
    answers = [
        _pages(db, **_key("pk = :a", ":a")),
        _pages(db, **positions),
        _pages(db, **_key("pk = :a AND sk BETWEEN :lo AND :hi", ":a", ":lo", ":hi"), Limit=4),
        _pages(db, **_key("pk = :a AND sk > :lo", ":a", ":lo"), ScanIndexForward=False, Limit=5),
        _pages(
            db,
            **_key("pk = :a AND begins_with(sk, :p)", ":a", ":p", ":n"),
            FilterExpression="n >= :n",
            Limit=3,
        ),
        _pages(db, **positions, ProjectionExpression="sk, m.k"),
        _pages(db, **positions, Select="COUNT"),
        _pages(db, KeyConditionExpression="pk = :z", ExpressionAttributeValues={":z": {"S": "none"}}),
    ]
    print(json.dumps(answers, sort_keys=True))
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1])
