"""The deployment templates, transformed offline with the AWS SAM translator (the code that
CloudFormation's AWS::Serverless transform runs), and checked against the function's own
configuration list (src/config.rs VARIABLES) and the issue's requirements.

  python3 -m unittest discover -s tests/e2e -p 'test_*.py'     (needs aws-sam-translator)
"""
import copy, json, os, pathlib, re, subprocess, tempfile, unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

# Read by the function but not template parameters, on purpose (README.md, "Deploying" says why):
# a JWKS file must be inside the zip; a cookie token needs a different identity source;
# the in-function decision cache's defaults (256 entries, ≤ 300 s, never past exp) suit all.
NOT_PARAMETERS = {
    "JWT_JWKS_FILE",
    "JWT_TOKEN_COOKIE",
    "JWT_DECISION_CACHE",
    "JWT_DECISION_CACHE_MAX_SECONDS",
    "JWT_RUNTIME_PIPELINING",
    # REST REQUEST and WebSocket events only; template-websocket.yaml sets it.
    "JWT_TOKEN_QUERY",
    # Keys from the issuer (issue 17): the templates deploy the networkless function (a key
    # parameter is required); fetching needs egress too, so these are set by hand (README).
    "JWT_JWKS_URL",
    "JWT_OIDC_DISCOVERY",
    "JWT_JWKS_REFRESH_SECONDS",
    "JWT_JWKS_MIN_REFRESH_SECONDS",
    "JWT_JWKS_TIMEOUT_MS",
}


def config_variables():
    text = (ROOT / "src" / "config.rs").read_text()
    block = re.search(r"pub const VARIABLES: \[&str; (\d+)\] = \[(.*?)\];", text, re.S)
    names = re.findall(r'"([A-Z_]+)"', block.group(2))
    assert len(names) == int(block.group(1))
    return set(names)


class _Loader:
    def load(self):
        return {}


def load(name):
    return yaml_parse((ROOT / name).read_text())


def translate(name, params=None):
    """CloudFormation as the transform would produce it (local CodeUri → an S3 location)."""
    t = copy.deepcopy(load(name))
    for r in t["Resources"].values():
        if "CodeUri" in r.get("Properties", {}):
            r["Properties"]["CodeUri"] = "s3://bucket/key.zip"
    return transform(t, params or {}, _Loader())


def of_type(cfn, type_):
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == type_}


class CommonChecks:
    template = ""
    not_parameters = NOT_PARAMETERS
    memory = 128

    def setUp(self):
        self.t = load(self.template)
        self.fn = self.t["Resources"]["AuthorizerFunction"]

    def test_function_is_graviton_custom_runtime_built_by_cargo_lambda(self):
        p = self.fn["Properties"]
        self.assertEqual(p["Architectures"], ["arm64"])
        self.assertEqual(p["Runtime"], "provided.al2023")
        self.assertEqual(p["Handler"], "bootstrap")
        self.assertEqual(p["MemorySize"], self.memory)
        self.assertEqual(self.fn["Metadata"]["BuildMethod"], "rust-cargolambda")
        self.assertEqual(self.fn["Metadata"]["BuildProperties"]["Binary"], "jwt-authorizer")
        self.assertTrue((ROOT / p["CodeUri"] / "Cargo.toml").exists())

    def test_every_variable_the_function_reads_is_a_parameter(self):
        env = self.fn["Properties"]["Environment"]["Variables"]
        known = config_variables()
        self.assertEqual(set(env) - known, set(), "the template sets variables the function does not read")
        self.assertEqual(known - set(env) - self.not_parameters - {"JWT_RESPONSE_FORMAT"}, set(),
                         "variables the template cannot set")
        params = self.t["Parameters"]
        for var, value in env.items():
            if isinstance(value, dict):
                self.assertIn(value["Ref"], params, var)

    def test_cache_ttl_is_one_parameter_with_a_safe_default(self):
        env = self.fn["Properties"]["Environment"]["Variables"]
        self.assertEqual(env["JWT_CACHE_TTL_SECONDS"], {"Ref": "CacheTtlSeconds"})
        self.assertEqual(env["JWT_TOKEN_LIFETIME_SECONDS"], {"Ref": "TokenLifetimeSeconds"})
        ttl, life = self.t["Parameters"]["CacheTtlSeconds"], self.t["Parameters"]["TokenLifetimeSeconds"]
        self.assertLessEqual(int(ttl["Default"]), int(life["Default"]), "default TTL above the default token lifetime")
        self.assertEqual(int(life["Default"]), 60)  # Clerk session tokens
        self.assertEqual((ttl["MinValue"], ttl["MaxValue"]), (0, 3600))  # API Gateway's range, as config.rs

    def test_the_defaults_pass_the_configuration_check(self):
        """`jwt-authorizer-cli config` (the function's own cold-start code) on the template's
        environment with every parameter at its default, plus the demo key (a key has no
        default: the template's rule requires one)."""
        params = self.t["Parameters"]
        env = {}
        for var, value in self.fn["Properties"]["Environment"]["Variables"].items():
            value = params[value["Ref"]].get("Default", "") if isinstance(value, dict) else value
            env[var] = str(value)
        self.assertEqual(env.get("JWT_PUBLIC_KEY", ""), "", "no key by default")
        env["JWT_PUBLIC_KEY"] = (ROOT / "demo" / "demo.pub.pem").read_text().replace("\n", "\\n")
        cli = ROOT / "target" / "release" / "jwt-authorizer-cli"
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "jwt-authorizer-cli"], cwd=ROOT, check=True)
        with tempfile.NamedTemporaryFile("w", suffix=".env") as f:
            f.write("".join(f"{k}={v}\n" for k, v in env.items()))
            f.flush()
            out = subprocess.run([str(cli), "config", "--env-file", f.name], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("ok: the function's cold start would succeed (0 warning(s))", out.stdout)
        print(f"\n{self.template} defaults:\n{out.stdout}")

    def test_alarms_and_dashboard_watch_what_the_function_emits(self):
        """Errors, throttles and deny-rate alarms and the dashboard exist by default, and name
        only metrics the function writes (src/function/metrics.rs) and every reason code (src/reason.rs)."""
        res = self.t["Resources"]
        for name in ("ErrorsAlarm", "ThrottlesAlarm", "DenyRateAlarm", "Dashboard"):
            self.assertIn(res[name]["Condition"], ("MonitoringOn", "MetricsMonitoringOn"), name)
        self.assertEqual(self.t["Parameters"]["Monitoring"]["Default"], "true")
        self.assertEqual(self.fn["Properties"]["Environment"]["Variables"]["JWT_METRICS_NAMESPACE"],
                         {"Ref": "MetricsNamespace"})
        self.assertEqual((res["ErrorsAlarm"]["Properties"]["MetricName"], res["ThrottlesAlarm"]["Properties"]["MetricName"]),
                         ("Errors", "Throttles"))
        emitted = set(re.findall(r'\("([A-Za-z]+)"\.into\(\)', (ROOT / "src" / "function" / "metrics.rs").read_text()))
        self.assertGreaterEqual(emitted, {"Decisions", "Allowed", "Denied", "CacheHits", "CacheMisses", "DecisionTime"})
        alarm = {m["Id"]: m for m in res["DenyRateAlarm"]["Properties"]["Metrics"]}
        self.assertEqual({alarm["denied"]["MetricStat"]["Metric"]["MetricName"],
                          alarm["decisions"]["MetricStat"]["Metric"]["MetricName"]}, {"Denied", "Decisions"})
        # The dashboard body is JSON once CloudFormation substitutes ${...}.
        body = res["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
        dash = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
        names = {row[1] for w in dash["widgets"] for row in w["properties"]["metrics"]
                 if isinstance(row[0], str) and len(row) > 1 and isinstance(row[1], str) and row[1] != "."}
        codes = set(re.findall(r'=> "([a-z0-9_]+)",', (ROOT / "src" / "reason.rs").read_text()))
        self.assertEqual(len(codes), 29)  # keys_unavailable (issue 17) is the 29th
        self.assertEqual({n for n in names if n.startswith("Denied.")}, {f"Denied.{c}" for c in codes})
        ours = {n for n in names if not n.startswith("Denied.")} - {"Invocations", "Duration", "Errors", "Throttles"}
        self.assertLessEqual(ours, emitted, "the dashboard names a metric the function never writes")

    def test_a_key_is_required(self):
        self.assertIn("KeyIsConfigured", self.t["Rules"])

    def test_echo_backend_exists(self):
        echo = self.t["Resources"]["EchoFunction"]["Properties"]
        module, func = echo["Handler"].split(".")
        self.assertIn(f"def {func}(", (ROOT / echo["CodeUri"] / f"{module}.py").read_text())


class HttpApiTemplate(CommonChecks, unittest.TestCase):
    template = "template.yaml"
    # Payload 2.0 events carry identitySource; JWT_TOKEN_HEADER is only read from REST REQUEST events.
    not_parameters = NOT_PARAMETERS | {"JWT_TOKEN_HEADER"}

    def test_simple_response_request_authorizer_cached_on_the_authorization_header(self):
        cfn = translate(self.template, {"CacheTtlSeconds": "45"})
        (api,) = of_type(cfn, "AWS::ApiGatewayV2::Api").values()
        body = api["Properties"]["Body"]
        (scheme,) = body["components"]["securitySchemes"].values()
        a = scheme["x-amazon-apigateway-authorizer"]
        self.assertEqual(a["type"], "request")
        self.assertEqual(a["authorizerPayloadFormatVersion"], "2.0")
        self.assertIs(a["enableSimpleResponses"], True)
        self.assertEqual(a["identitySource"], ["$request.header.Authorization"])
        self.assertIn(a["authorizerResultTtlInSeconds"], ({"Ref": "CacheTtlSeconds"}, "45", 45))
        self.assertIn("AuthorizerFunction", json.dumps(a["authorizerUri"]))
        # API Gateway may invoke the authorizer.
        perms = [p["Properties"] for p in of_type(cfn, "AWS::Lambda::Permission").values()]
        self.assertTrue(any(p["FunctionName"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
                            and "/authorizers/" in json.dumps(p["SourceArn"]) for p in perms), perms)

    def test_the_readme_cookie_setup_keys_the_cache_on_the_cookie_header(self):
        # README.md, "Cookies (Clerk's __session)": identity source $request.header.Cookie and
        # JWT_TOKEN_COOKIE=__session on the function; the function parses the cookie out of it.
        t = copy.deepcopy(load(self.template))
        identity = t["Resources"]["HttpApi"]["Properties"]["Auth"]["Authorizers"]["JwtAuthorizer"]["Identity"]
        identity["Headers"] = ["Cookie"]
        env = t["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
        env["JWT_TOKEN_COOKIE"] = "__session"
        self.assertIn("JWT_TOKEN_COOKIE", config_variables())
        readme = (ROOT / "README.md").read_text()
        for snippet in ("Headers: [Cookie]", "JWT_TOKEN_COOKIE: __session"):
            self.assertTrue(snippet in readme, f"README.md no longer shows {snippet!r}")
        for r in t["Resources"].values():
            if "CodeUri" in r.get("Properties", {}):
                r["Properties"]["CodeUri"] = "s3://bucket/key.zip"
        cfn = transform(t, {}, _Loader())
        (api,) = of_type(cfn, "AWS::ApiGatewayV2::Api").values()
        (scheme,) = api["Properties"]["Body"]["components"]["securitySchemes"].values()
        self.assertEqual(scheme["x-amazon-apigateway-authorizer"]["identitySource"], ["$request.header.Cookie"])

    def test_sample_route_is_protected_and_preflights_skip_the_authorizer(self):
        cfn = translate(self.template, {"CorsAllowOrigin": "https://app.example.com"})
        (api,) = of_type(cfn, "AWS::ApiGatewayV2::Api").values()
        body = api["Properties"]["Body"]
        (name,) = body["components"]["securitySchemes"]
        self.assertEqual(body["paths"]["/orders"]["get"]["security"], [{name: []}])
        # No OPTIONS route: API Gateway answers preflights from the CORS configuration itself.
        for path, ops in body["paths"].items():
            self.assertNotIn("options", ops, path)
            self.assertNotIn("x-amazon-apigateway-any-method", ops, path)
        cors = body["x-amazon-apigateway-cors"]
        self.assertEqual(cors["allowOrigins"], ["https://app.example.com"])
        self.assertIn("authorization", [h.lower() for h in cors["allowHeaders"]])


class RestApiTemplate(CommonChecks, unittest.TestCase):
    template = "template-rest.yaml"

    def test_token_authorizer_cached_on_the_authorization_header(self):
        cfn = translate(self.template, {"CacheTtlSeconds": "45"})
        (api,) = of_type(cfn, "AWS::ApiGateway::RestApi").values()
        body = api["Properties"]["Body"]
        (scheme,) = body["securityDefinitions"].values()
        self.assertEqual((scheme["in"], scheme["name"]), ("header", "Authorization"))
        a = scheme["x-amazon-apigateway-authorizer"]
        self.assertEqual(a["type"], "token")
        self.assertIn(a["authorizerResultTtlInSeconds"], ({"Ref": "CacheTtlSeconds"}, "45", 45))
        perms = [p["Properties"] for p in of_type(cfn, "AWS::Lambda::Permission").values()]
        self.assertTrue(any(p["FunctionName"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]} for p in perms))

    def test_token_header_is_one_parameter_for_the_cache_key_and_jwt_token_header(self):
        env = self.fn["Properties"]["Environment"]["Variables"]
        self.assertEqual(env["JWT_TOKEN_HEADER"], {"Ref": "TokenHeader"})
        self.assertEqual(self.t["Parameters"]["TokenHeader"]["Default"], "Authorization")  # the function's default
        cfn = translate(self.template, {"TokenHeader": "X-Api-Token"})
        (api,) = of_type(cfn, "AWS::ApiGateway::RestApi").values()
        body = api["Properties"]["Body"]
        (scheme,) = body["securityDefinitions"].values()
        self.assertEqual((scheme["in"], scheme["name"]), ("header", "X-Api-Token"))
        self.assertIn("${TokenHeader}", json.dumps(body["paths"]["/orders"]["options"]))  # CORS allows it
        # As a REQUEST authorizer (README.md, "The REST API variant"), the identity source is the
        # header the function reads.
        t = copy.deepcopy(self.t)
        a = t["Resources"]["RestApi"]["Properties"]["Auth"]["Authorizers"]["JwtTokenAuthorizer"]
        a["FunctionPayloadType"] = "REQUEST"
        a["Identity"] = {"Headers": [env["JWT_TOKEN_HEADER"]], "ReauthorizeEvery": {"Ref": "CacheTtlSeconds"}}
        for r in t["Resources"].values():
            if "CodeUri" in r.get("Properties", {}):
                r["Properties"]["CodeUri"] = "s3://bucket/key.zip"
        cfn = transform(t, {"TokenHeader": "X-Api-Token"}, _Loader())
        (api,) = of_type(cfn, "AWS::ApiGateway::RestApi").values()
        (scheme,) = api["Properties"]["Body"]["securityDefinitions"].values()
        a = scheme["x-amazon-apigateway-authorizer"]
        self.assertEqual((a["type"], a["identitySource"]), ("request", "method.request.header.X-Api-Token"))

    def test_sample_route_is_protected_and_preflights_skip_the_authorizer(self):
        cfn = translate(self.template)
        (api,) = of_type(cfn, "AWS::ApiGateway::RestApi").values()
        orders = api["Properties"]["Body"]["paths"]["/orders"]
        (name,) = api["Properties"]["Body"]["securityDefinitions"]
        self.assertEqual(orders["get"]["security"], [{name: []}])
        self.assertEqual(orders["options"]["x-amazon-apigateway-integration"]["type"], "mock")
        self.assertNotIn("security", orders["options"])
        self.assertIn("DEFAULT_4XX", api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"])


# Parameters the capacity provider template adds to template.yaml's.
MANAGED_INSTANCES_PARAMETERS = {"SubnetIds", "SecurityGroupIds", "MaxConcurrencyPerEnvironment", "MemoryGiBPerVCpu",
                                "MaxVCpuCount"}
NETWORK = {"SubnetIds": "subnet-0123456789abcdef0,subnet-0fedcba9876543210", "SecurityGroupIds": "sg-0123456789abcdef0"}


def http_authorizer(cfn):
    (api,) = of_type(cfn, "AWS::ApiGatewayV2::Api").values()
    (scheme,) = api["Properties"]["Body"]["components"]["securitySchemes"].values()
    return scheme["x-amazon-apigateway-authorizer"]


class ManagedInstancesTemplate(CommonChecks, unittest.TestCase):
    """template-managed-instances.yaml: template.yaml's API, authorizer and cache, with the
    function on a Lambda Managed Instances capacity provider (issue 9)."""
    template = "template-managed-instances.yaml"
    not_parameters = NOT_PARAMETERS | {"JWT_TOKEN_HEADER"}
    memory = 2048  # the least a Managed Instances function can have (1 vCPU at 2 GiB per vCPU)

    def test_parameters_are_template_yaml_s_and_the_capacity_provider_s(self):
        base = load("template.yaml")["Parameters"]
        params = self.t["Parameters"]
        self.assertEqual(set(params), set(base) | MANAGED_INSTANCES_PARAMETERS)
        for name in base:
            self.assertEqual(params[name], base[name], name)

    def test_graviton_capacity_provider_and_the_function_s_concurrency(self):
        cfn = translate(self.template, dict(NETWORK, MaxConcurrencyPerEnvironment="16"))
        (cp,) = of_type(cfn, "AWS::Lambda::CapacityProvider").values()
        self.assertEqual(cp["Properties"]["InstanceRequirements"]["Architectures"], ["arm64"])
        self.assertEqual(cp["Properties"]["VpcConfig"]["SubnetIds"], {"Ref": "SubnetIds"})
        fn = cfn["Resources"]["AuthorizerFunction"]["Properties"]
        self.assertEqual(fn["Architectures"], ["arm64"])
        conf = fn["CapacityProviderConfig"]["LambdaManagedInstancesCapacityProviderConfig"]
        self.assertEqual(conf["CapacityProviderArn"], {"Fn::GetAtt": ["CapacityProvider", "Arn"]})
        self.assertEqual(conf["PerExecutionEnvironmentMaxConcurrency"], {"Ref": "MaxConcurrencyPerEnvironment"})
        self.assertEqual(conf["ExecutionEnvironmentMemoryGiBPerVCpu"], {"Ref": "MemoryGiBPerVCpu"})
        # The parameter's range is what the function accepts in AWS_LAMBDA_MAX_CONCURRENCY.
        top = int(re.search(r"pub const MAX_WORKERS: usize = (\d+);", (ROOT / "src/function/workers.rs").read_text()).group(1))
        p = self.t["Parameters"]["MaxConcurrencyPerEnvironment"]
        self.assertEqual((p["MinValue"], p["MaxValue"], p["Default"]), (1, top, 8))

    def test_the_same_authorizer_and_cache_as_template_yaml_on_the_published_alias(self):
        mine = http_authorizer(translate(self.template, dict(NETWORK, CacheTtlSeconds="45")))
        base = http_authorizer(translate("template.yaml", {"CacheTtlSeconds": "45"}))
        for key in ("type", "authorizerPayloadFormatVersion", "enableSimpleResponses", "identitySource",
                    "authorizerResultTtlInSeconds"):
            self.assertEqual(mine[key], base[key], key)
        # Capacity providers run published versions: API Gateway invokes the alias, and may.
        self.assertIn("AuthorizerFunctionAliaslive", json.dumps(mine["authorizerUri"]))
        cfn = translate(self.template, NETWORK)
        self.assertEqual(len(of_type(cfn, "AWS::Lambda::Alias")), 1)
        perms = [p["Properties"] for p in of_type(cfn, "AWS::Lambda::Permission").values()]
        self.assertTrue(any("AuthorizerFunctionAliaslive" in json.dumps(p["FunctionName"])
                            and "/authorizers/" in json.dumps(p["SourceArn"]) for p in perms), perms)


class WebSocketTemplate(CommonChecks, unittest.TestCase):
    """template-websocket.yaml (issue 19): a WebSocket API whose $connect route has a REQUEST
    Lambda authorizer on the token's query-string parameter, and an echo backend."""
    template = "template-websocket.yaml"
    # The token comes from the query string (JWT_TOKEN_QUERY), not a header.
    not_parameters = (NOT_PARAMETERS - {"JWT_TOKEN_QUERY"}) | {"JWT_TOKEN_HEADER"}

    def resources(self, cfn, type_):
        return list(of_type(cfn, type_).values())

    def test_cache_ttl_is_one_parameter_with_a_safe_default(self):
        # WebSocket authorizer results are not cached ("Supported only for HTTP API Lambda
        # authorizers"): no TTL parameter, JWT_CACHE_TTL_SECONDS says 0.
        self.assertNotIn("CacheTtlSeconds", self.t["Parameters"])
        env = self.fn["Properties"]["Environment"]["Variables"]
        self.assertEqual(env["JWT_CACHE_TTL_SECONDS"], "0")
        self.assertEqual(env["JWT_TOKEN_LIFETIME_SECONDS"], {"Ref": "TokenLifetimeSeconds"})

    def test_websocket_api_with_a_request_authorizer_on_connect(self):
        cfn = translate(self.template, {"TokenQueryParameter": "access_token"})
        (api,) = self.resources(cfn, "AWS::ApiGatewayV2::Api")
        self.assertEqual(api["Properties"]["ProtocolType"], "WEBSOCKET")
        (a,) = self.resources(cfn, "AWS::ApiGatewayV2::Authorizer")
        a = a["Properties"]
        self.assertEqual(a["AuthorizerType"], "REQUEST")
        self.assertIn("AuthorizerFunction.Arn", json.dumps(a["AuthorizerUri"]))
        self.assertEqual(a["IdentitySource"], [{"Fn::Sub": "route.request.querystring.${TokenQueryParameter}"}])
        self.assertNotIn("AuthorizerResultTtlInSeconds", a)
        self.assertNotIn("AuthorizerPayloadFormatVersion", a)  # HTTP APIs only
        env = cfn["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(env["JWT_TOKEN_QUERY"], {"Ref": "TokenQueryParameter"})  # the same parameter
        routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in self.resources(cfn, "AWS::ApiGatewayV2::Route")}
        self.assertEqual((routes["$connect"]["AuthorizationType"], routes["$connect"]["AuthorizerId"]),
                         ("CUSTOM", {"Ref": "ConnectAuthorizer"}))
        self.assertEqual(routes["$connect"]["Target"], {"Fn::Sub": "integrations/${EchoIntegration}"})
        self.assertEqual(routes["$default"]["RouteResponseSelectionExpression"], "$default")
        perms = [p["Properties"] for p in self.resources(cfn, "AWS::Lambda::Permission")]
        self.assertTrue(any(p["FunctionName"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
                            and "/authorizers/" in json.dumps(p["SourceArn"]) for p in perms), perms)
        (stage,) = self.resources(cfn, "AWS::ApiGatewayV2::Stage")
        self.assertIs(stage["Properties"]["DefaultRouteSettings"]["DataTraceEnabled"], False)
        self.assertEqual(self.t["Parameters"]["TokenQueryParameter"]["Default"], "token")

    def test_the_readme_subprotocol_setup_reads_sec_websocket_protocol(self):
        # README.md, "WebSocket APIs": the identity source route.request.header.Sec-WebSocket-Protocol
        # and JWT_TOKEN_HEADER=Sec-WebSocket-Protocol instead of JWT_TOKEN_QUERY.
        readme = (ROOT / "README.md").read_text()
        for snippet in ("route.request.header.Sec-WebSocket-Protocol", "JWT_TOKEN_HEADER: Sec-WebSocket-Protocol"):
            self.assertIn(snippet, readme)
        t = copy.deepcopy(self.t)
        t["Resources"]["ConnectAuthorizer"]["Properties"]["IdentitySource"] = ["route.request.header.Sec-WebSocket-Protocol"]
        env = t["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
        del env["JWT_TOKEN_QUERY"]
        env["JWT_TOKEN_HEADER"] = "Sec-WebSocket-Protocol"
        self.assertLessEqual(set(env), config_variables())
        for r in t["Resources"].values():
            if "CodeUri" in r.get("Properties", {}):
                r["Properties"]["CodeUri"] = "s3://bucket/key.zip"
        cfn = transform(t, {}, _Loader())
        (a,) = self.resources(cfn, "AWS::ApiGatewayV2::Authorizer")
        self.assertEqual(a["Properties"]["IdentitySource"], ["route.request.header.Sec-WebSocket-Protocol"])

    def test_parameters_are_the_rest_template_s_without_the_cache_and_cors(self):
        base = load("template-rest.yaml")["Parameters"]
        mine = self.t["Parameters"]
        self.assertEqual(set(mine), set(base) - {"CacheTtlSeconds", "TokenHeader", "CorsAllowOrigin"} | {"TokenQueryParameter"})
        for name in set(mine) & set(base):
            self.assertEqual(mine[name], base[name], name)


if __name__ == "__main__":
    unittest.main()
