"""The HTTPS API behind API Gateway: routes under /api."""
