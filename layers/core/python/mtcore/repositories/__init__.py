"""The only code that talks to DynamoDB. Each repository takes an injected boto3 client."""
