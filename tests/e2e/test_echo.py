"""The sample backend (examples/echo/app.py) on the event shapes API Gateway sends it after
this authorizer allowed the request."""
import importlib.util, json, pathlib, unittest

APP = pathlib.Path(__file__).resolve().parents[2] / "examples" / "echo" / "app.py"
spec = importlib.util.spec_from_file_location("echo_app", APP)
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)

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


if __name__ == "__main__":
    unittest.main()
