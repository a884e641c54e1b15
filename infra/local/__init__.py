"""The local stack: the real handlers behind a small API Gateway stand-in, AWS from moto."""
