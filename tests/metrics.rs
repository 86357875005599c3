//! The metrics line against CloudWatch's embedded metric format specification, written out
//! as rules: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>
//! (document structure, the JSON schema at its end, and the limits it states).

mod common;

use common::env_of;
use jwt_authorizer::Reason;
use jwt_authorizer::config::ConfigError;
use jwt_authorizer::config::MetricsConfig;
use jwt_authorizer::function::metrics::{CacheUse, Metrics, Sample};
use serde_json::Value;

/// Units the specification's schema allows.
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Every rule of the specification that a document can break, checked on `line`.
pub fn assert_valid_emf(line: &str) -> Value {
    // Limited like a CloudWatch Logs event (256 KB in the specification's first version).
    assert!(line.len() <= 256 * 1024, "larger than a log event");
    assert!(!line.contains('\n'), "one line");
    // Root node: a JSON object, nothing before or after it.
    let root: Value = serde_json::from_str(line).expect("the line is one JSON value");
    let root = root.as_object().expect("the root node is an object").clone();
    // Metadata: `_aws` with `Timestamp` (integer milliseconds) and `CloudWatchMetrics`.
    let aws = root["_aws"].as_object().expect("_aws is an object");
    assert!(aws["Timestamp"].is_u64(), "Timestamp is an integer");
    let ts = aws["Timestamp"].as_u64().unwrap();
    assert!(ts > 1_500_000_000_000, "Timestamp is in milliseconds");
    let directives = aws["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics is an array");
    assert!(!directives.is_empty());
    for d in directives {
        let d = d.as_object().expect("a MetricDirective is an object");
        // MetricDirective: exactly Namespace, Dimensions, Metrics.
        let mut keys: Vec<&str> = d.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["Dimensions", "Metrics", "Namespace"]);
        let ns = d["Namespace"].as_str().expect("Namespace is a string");
        assert!((1..=255).contains(&ns.len()));
        // DimensionSets: arrays of at most 9 strings, each a root member with a string value.
        let sets = d["Dimensions"].as_array().expect("Dimensions is an array");
        assert!(!sets.is_empty(), "schema: minItems 1");
        for set in sets {
            let set = set.as_array().expect("a DimensionSet is an array");
            assert!(set.len() <= 9);
            for key in set {
                let key = key.as_str().expect("a dimension reference is a string");
                assert!((1..=255).contains(&key.len()));
                assert!(root.get(key).is_some_and(Value::is_string), "dimension target {key} is a root string");
            }
        }
        // MetricDefinitions: at most 100; Name (1–255) referring to a root member that is a
        // number or an array of at most 100 numbers; Unit, when present, a CloudWatch unit.
        let metrics = d["Metrics"].as_array().expect("Metrics is an array");
        assert!(!metrics.is_empty() && metrics.len() <= 100);
        let mut names = std::collections::HashSet::new();
        for m in metrics {
            let m = m.as_object().expect("a MetricDefinition is an object");
            assert!(m.keys().all(|k| k == "Name" || k == "Unit" || k == "StorageResolution"));
            let name = m["Name"].as_str().expect("Name is a string");
            assert!((1..=255).contains(&name.len()));
            assert!(names.insert(name.to_owned()), "metric {name} defined twice");
            if let Some(unit) = m.get("Unit") {
                assert!(UNITS.contains(&unit.as_str().unwrap()), "unit {unit}");
            }
            match &root[name] {
                Value::Number(_) => {}
                Value::Array(values) => {
                    assert!(values.len() <= 100, "{name}: more than 100 values");
                    assert!(values.iter().all(Value::is_number), "{name}: numbers only");
                }
                other => panic!("metric target {name} is {other}"),
            }
        }
    }
    Value::Object(root)
}

fn config(interval: u64) -> MetricsConfig {
    MetricsConfig { namespace: "JwtAuthorizer".into(), interval_seconds: interval }
}

fn sample(denied: Option<Reason>, cache: CacheUse, verified: bool, micros: u64) -> Sample {
    Sample { denied, cache, verified, micros, key_fetch_failures: 0 }
}

#[test]
fn a_known_mix_gives_exact_counts_in_one_valid_line() {
    let t0 = 1_800_000_000_000;
    let mut m = Metrics::new(config(60), "authorizer-fn", t0);
    for _ in 0..700 {
        m.record(&sample(None, CacheUse::Hit, false, 2));
    }
    for _ in 0..200 {
        m.record(&sample(None, CacheUse::Miss, true, 25));
    }
    for _ in 0..60 {
        m.record(&sample(Some(Reason::Expired), CacheUse::Miss, true, 24));
    }
    for _ in 0..30 {
        m.record(&sample(Some(Reason::BadSignature), CacheUse::Miss, true, 23));
    }
    for _ in 0..10 {
        m.record(&sample(Some(Reason::MissingToken), CacheUse::None, false, 1));
    }
    assert_eq!(m.flush_if_due(t0 + 59_999), None, "not before the interval");
    let line = m.flush_if_due(t0 + 60_000).expect("due");
    let v = assert_valid_emf(&line);
    assert_eq!(v["_aws"]["Timestamp"], t0 + 60_000);
    assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "JwtAuthorizer");
    assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([["FunctionName"]]));
    assert_eq!(v["FunctionName"], "authorizer-fn");
    for (name, want) in [
        ("Decisions", 1000),
        ("Allowed", 900),
        ("Denied", 100),
        ("Denied.expired", 60),
        ("Denied.bad_signature", 30),
        ("Denied.missing_token", 10),
        ("CacheHits", 700),
        ("CacheMisses", 290),
        ("Verifications", 290),
    ] {
        assert_eq!(v[name], want, "{name}");
    }
    assert!(v.get("Denied.rule_failed").is_none(), "reasons that did not occur are left out");
    let times = v["DecisionTime"].as_array().unwrap();
    assert_eq!(times.len(), 100);
    assert_eq!(times.iter().filter(|t| t.as_f64().unwrap() <= 3.0).count(), 71, "≈ 70% cache hits at 2 µs");
    // Counting starts again; nothing counted, nothing written.
    assert_eq!(m.flush(t0 + 120_000), None);
    m.record(&sample(Some(Reason::RuleFailed), CacheUse::Miss, true, 30));
    let v = assert_valid_emf(&m.flush(t0 + 121_000).unwrap());
    assert_eq!((v["Decisions"].as_u64(), v["Denied.rule_failed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(v["DecisionTime"], serde_json::json!([30.5]));
}

#[test]
fn no_token_can_name_a_metric_or_a_dimension() {
    // Every reason at once: names come from the fixed reason list only.
    let mut m = Metrics::new(config(1), "f", 1_800_000_000_000);
    for r in Reason::ALL {
        m.record(&sample(Some(r), CacheUse::Miss, true, 10));
    }
    let v = assert_valid_emf(&m.flush(1_800_000_001_000).unwrap());
    let defs = v["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap();
    assert_eq!(defs.len(), 3 + Reason::ALL.len() + 4);
    let root_keys = v.as_object().unwrap().len();
    assert_eq!(root_keys, 1 + 1 + defs.len(), "_aws, FunctionName and one member per metric");
}

#[test]
fn configuration() {
    let load = |pairs: &[(&str, &str)]| MetricsConfig::from_env(&env_of(pairs));
    assert_eq!(load(&[]), Ok(None), "off unless a namespace is set");
    assert_eq!(load(&[("JWT_METRICS_NAMESPACE", "")]), Ok(None), "empty disables");
    assert_eq!(
        load(&[("JWT_METRICS_NAMESPACE", "Auth/Edge")]),
        Ok(Some(MetricsConfig { namespace: "Auth/Edge".into(), interval_seconds: 60 }))
    );
    let c = load(&[("JWT_METRICS_NAMESPACE", "N"), ("JWT_METRICS_INTERVAL_SECONDS", "3600")]).unwrap().unwrap();
    assert_eq!(c.interval_seconds, 3600);
    let var = |e: Result<Option<MetricsConfig>, ConfigError>| e.unwrap_err().var.into_owned();
    for bad in ["0", "3601", "-1", "1.5", "x"] {
        assert_eq!(
            var(load(&[("JWT_METRICS_NAMESPACE", "N"), ("JWT_METRICS_INTERVAL_SECONDS", bad)])),
            "JWT_METRICS_INTERVAL_SECONDS"
        );
    }
    for bad in ["AWS/Lambda", "a\"b", "ü", &"x".repeat(256)] {
        assert_eq!(var(load(&[("JWT_METRICS_NAMESPACE", bad)])), "JWT_METRICS_NAMESPACE", "{bad}");
    }
}
