"""The WebSocket sample backend (template-websocket.yaml): accepts a connection that passed the
authorizer, and answers every message with what the authorizer forwarded.

- $connect: 200 accepts the upgrade. A client that offered subprotocols (the token after
  `jwt`, README.md "WebSocket APIs") must get one of them back, or the browser closes the
  connection (RFC 6455 §4.1): the integration answers `Sec-WebSocket-Protocol: jwt`, never the
  token ("Set up a $connect route that requires a WebSocket subprotocol",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-connect-route-subprotocol.html).
- any message ($default, a two-way route): the reply is sent on the connection.

No dependencies: the Lambda python3.12 runtime runs this file as is.
"""
import json

from app import authorizer_context

MARKER = "jwt"  # src/apigw/event.rs SUBPROTOCOL_MARKER


def offered_subprotocols(event):
    """The subprotocols the client offered in Sec-WebSocket-Protocol (any header case)."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    return [p.strip() for p in (headers.get("sec-websocket-protocol") or "").split(",") if p.strip()]


def handler(event, _context):
    request_context = event.get("requestContext") or {}
    if request_context.get("eventType") == "CONNECT":
        response = {"statusCode": 200}
        if MARKER in offered_subprotocols(event):
            response["headers"] = {"Sec-WebSocket-Protocol": MARKER}
        return response
    if request_context.get("eventType") != "MESSAGE":
        return {"statusCode": 200}
    body = {
        "route": request_context.get("routeKey"),
        "connectionId": request_context.get("connectionId"),
        "authorizer": authorizer_context(event),
        "message": event.get("body"),
    }
    return {"statusCode": 200, "body": json.dumps(body, sort_keys=True)}
