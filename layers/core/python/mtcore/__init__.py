"""First-party code shared by every Lambda function, shipped to Lambda as the core layer."""

SERVICE_NAME = "mt-backend"
__version__ = "0.1.0"
