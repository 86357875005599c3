"""The sample backend (examples/echo/app.py) on the event shapes API Gateway sends it after
this authorizer allowed the request."""
import importlib.util, json, pathlib, sys, unittest

ECHO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "echo"
spec = importlib.util.spec_from_file_location("echo_app", ECHO / "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
# websocket.py imports app as Lambda does (its directory is on the path).
sys.path.insert(0, str(ECHO))
spec = importlib.util.spec_from_file_location("echo_websocket", ECHO / "websocket.py")
websocket = importlib.util.module_from_spec(spec)
spec.loader.exec_module(websocket)

CONTEXT = {"sub": "user_2abcDEMO", "email": "ada@example.com", "role": "admin"}


def body(response):
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    return json.loads(response["body"])


class Echo(unittest.TestCase):
    def test_http_api_payload_2_echoes_the_lambda_context(self):
        event = {"version": "2.0", "routeKey": "GET /orders",
                 "requestContext": {"authorizer": {"lambda": CONTEXT}, "http": {"method": "GET"}}}
        self.assertEqual(body(app.handler(event, None)), {"route": "GET /orders", "authorizer": CONTEXT})

    def test_rest_api_echoes_principal_and_context(self):
        authorizer = dict(CONTEXT, principalId="user_2abcDEMO", integrationLatency=12)
        event = {"resource": "/orders", "httpMethod": "GET", "requestContext": {"authorizer": authorizer}}
        got = body(app.handler(event, None))
        self.assertEqual(got["route"], "GET /orders")
        self.assertEqual(got["authorizer"], dict(CONTEXT, principalId="user_2abcDEMO"))

    def test_no_authorizer_no_context(self):
        self.assertEqual(body(app.handler({"routeKey": "GET /health"}, None))["authorizer"], {})
        self.assertEqual(body(app.handler({"requestContext": {"authorizer": None}}, None))["authorizer"], {})


class WebSocketEcho(unittest.TestCase):
    """examples/echo/websocket.py: $connect accepts and answers the `jwt` subprotocol (never the
    token); a message is answered with the authorizer's context."""
    TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"

    def connect(self, headers):
        return websocket.handler({"headers": headers, "requestContext": {"eventType": "CONNECT", "routeKey": "$connect",
                                                                         "connectionId": "c1"}}, None)

    def test_connect_answers_the_marker_subprotocol_never_the_token(self):
        r = self.connect({"Sec-WebSocket-Protocol": f"jwt, {self.TOKEN}"})
        self.assertEqual(r, {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "jwt"}})
        self.assertNotIn(self.TOKEN, json.dumps(r))
        self.assertEqual(self.connect({"sec-websocket-protocol": "chat,jwt,x"})["headers"]["Sec-WebSocket-Protocol"], "jwt")
        self.assertEqual(self.connect({}), {"statusCode": 200})
        self.assertEqual(self.connect({"Sec-WebSocket-Protocol": "chat"}), {"statusCode": 200})

    def test_a_message_is_answered_with_the_authorizer_context(self):
        authorizer = dict(CONTEXT, principalId="user_2abcDEMO")
        event = {"body": '{"action":"hello"}', "requestContext": {
            "eventType": "MESSAGE", "routeKey": "$default", "connectionId": "c1", "authorizer": authorizer}}
        r = websocket.handler(event, None)
        self.assertEqual(r["statusCode"], 200)
        self.assertEqual(json.loads(r["body"]), {"route": "$default", "connectionId": "c1", "message": '{"action":"hello"}',
                                                 "authorizer": dict(CONTEXT, principalId="user_2abcDEMO")})


if __name__ == "__main__":
    unittest.main()
