"""The local stack (`make run`): the deployed functions, run as Lambda would run them, with no AWS
account and no MetaApi token.

- `stack.py` starts it all: moto's server for AWS, resources from the synthesized template;
- `resources.py` creates the template's tables, queues, secrets and bus in the emulator and
  gives each function the environment the template gives it;
- `gateway.py` stands in for API Gateway and its Cognito authorizer (and issues dev tokens);
- `queues.py` plays the event sources: queue pollers with batches and partial failures, the
  table stream reader, the schedules;
- `metaapi_sim/` is the MetaApi simulator, a broker of its own: it keeps its own broker rules on
  purpose, so the core's pre-trade checks are checked against an independent implementation;
- `tokens.py` signs the dev tokens the gateway verifies.
"""
