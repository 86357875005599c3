"""The sample protected route's backend: echoes what the authorizer forwarded.

HTTP API (payload 2.0) puts a simple response's context at requestContext.authorizer.lambda;
REST APIs put the context keys and principalId directly under requestContext.authorizer.
No dependencies: the Lambda python3.12 runtime runs this file as is.
"""
import json


def authorizer_context(event):
    """The authorizer's context from an API Gateway proxy event (either flavour), or {}."""
    request_context = event.get("requestContext") or {}
    authorizer = request_context.get("authorizer") or {}
    if not isinstance(authorizer, dict):
        return {}
    lambda_context = authorizer.get("lambda")
    if isinstance(lambda_context, dict):
        return lambda_context
    return {k: v for k, v in authorizer.items() if k not in ("claims", "scopes", "integrationLatency")}


def handler(event, _context):
    body = {
        "route": event.get("routeKey") or f"{event.get('httpMethod', '')} {event.get('resource', '')}".strip(),
        "authorizer": authorizer_context(event),
    }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(body, sort_keys=True),
    }
