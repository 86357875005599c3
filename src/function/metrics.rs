//! Decision metrics in CloudWatch's embedded metric format (EMF), counted in the process and
//! written as **one log line per flush**, never one per invocation.
//!
//! Specification: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>.
//! A line carries one value per dimension key, so the only dimension is the function's name
//! (`FunctionName`, from `AWS_LAMBDA_FUNCTION_NAME`): outcomes and deny reasons are metric
//! names (`Allowed`, `Denied`, `Denied.expired`, …), a fixed set of at most 29 + 8, so no
//! input can create a metric. Nothing here is derived from a token.
//!
//! Decision time is kept as a histogram (192 log-linear buckets, ≤ 6.25% relative error) and
//! written as an EMF value array, which the specification caps at 100 values: every sample
//! when there were at most 100, else the 100 quantiles at 0.5%, 1.5%, … 99.5%, so that
//! CloudWatch's percentiles of the line are the period's.

use crate::config::MetricsConfig;
use crate::reason::Reason;
use std::fmt::Write as _;

/// Most values in one EMF metric array (the specification's limit).
pub const MAX_VALUES: usize = 100;

/// How the decision cache took part in one decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// Answered from the cache.
    Hit,
    /// Looked up, not there (the token was then verified or refused).
    Miss,
    /// Not consulted (cache off, or the request never reached a token).
    None,
}

/// What one invocation contributes.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// `None` for an allow.
    pub denied: Option<Reason>,
    pub cache: CacheUse,
    /// An RSA signature verification ran.
    pub verified: bool,
    /// Event in → response out, microseconds.
    pub micros: u64,
    /// Fetches of keys from the issuer that failed around this invocation (`JWT_JWKS_URL`).
    pub key_fetch_failures: u64,
}

const SUB_BUCKETS: usize = 8;
const BUCKETS: usize = 24 * SUB_BUCKETS; // up to 2^24 µs ≈ 16.8 s; longer counts in the last

/// The bucket of `micros`: exact below 8, then 8 buckets per power of two.
fn bucket(micros: u64) -> usize {
    if micros < SUB_BUCKETS as u64 {
        return micros as usize;
    }
    let power = 63 - micros.leading_zeros() as usize; // ≥ 3
    let sub = ((micros >> (power - 3)) & 7) as usize;
    ((power - 2) * SUB_BUCKETS + sub).min(BUCKETS - 1)
}

/// The middle of bucket `i` (its lower bound below 8 µs).
fn representative(i: usize) -> f64 {
    if i < SUB_BUCKETS {
        return i as f64;
    }
    let power = i / SUB_BUCKETS + 2;
    let width = 1u64 << (power - 3);
    let low = (SUB_BUCKETS + i % SUB_BUCKETS) as u64 * width;
    low as f64 + (width as f64 - 1.0) / 2.0
}

/// Counts since the last flush.
#[derive(Clone)]
struct Counts {
    allowed: u64,
    denied: [u64; Reason::ALL.len()],
    cache_hits: u64,
    cache_misses: u64,
    verifications: u64,
    key_fetch_failures: u64,
    time: [u32; BUCKETS],
    samples: u64,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            allowed: 0,
            denied: [0; Reason::ALL.len()],
            cache_hits: 0,
            cache_misses: 0,
            verifications: 0,
            key_fetch_failures: 0,
            time: [0; BUCKETS],
            samples: 0,
        }
    }
}

/// The in-process aggregate and its flush schedule.
pub struct Metrics {
    config: MetricsConfig,
    function: String,
    last_flush_ms: u64,
    counts: Box<Counts>,
}

impl Metrics {
    /// Starts counting at `now_ms` (Unix milliseconds) for `function` (its name).
    pub fn new(config: MetricsConfig, function: &str, now_ms: u64) -> Metrics {
        Metrics { config, function: function.to_owned(), last_flush_ms: now_ms, counts: Box::default() }
    }

    /// Counts `n` failed fetches of keys outside any invocation (inside init).
    pub fn count_key_fetch_failures(&mut self, n: u64) {
        self.counts.key_fetch_failures += n;
    }

    /// Adds one invocation (no allocation).
    pub fn record(&mut self, s: &Sample) {
        let c = &mut *self.counts;
        match s.denied {
            None => c.allowed += 1,
            Some(r) => c.denied[r as usize] += 1,
        }
        match s.cache {
            CacheUse::Hit => c.cache_hits += 1,
            CacheUse::Miss => c.cache_misses += 1,
            CacheUse::None => {}
        }
        c.verifications += u64::from(s.verified);
        c.key_fetch_failures += s.key_fetch_failures;
        let b = &mut c.time[bucket(s.micros)];
        *b = b.saturating_add(1);
        c.samples += 1;
    }

    /// The EMF line when the interval has passed since the last flush (checked at the end
    /// of an invocation: a default Lambda environment is frozen between invocations).
    pub fn flush_if_due(&mut self, now_ms: u64) -> Option<String> {
        let due = now_ms.saturating_sub(self.last_flush_ms) >= self.config.interval_seconds.saturating_mul(1000);
        if due { self.flush(now_ms) } else { None }
    }

    /// The EMF line for everything counted since the last flush (`None`: nothing counted),
    /// and a fresh count.
    pub fn flush(&mut self, now_ms: u64) -> Option<String> {
        self.last_flush_ms = now_ms;
        if self.counts.samples == 0 {
            return None;
        }
        let c = std::mem::take(&mut *self.counts);
        let denied: u64 = c.denied.iter().sum();
        let mut metrics: Vec<(String, &str, String)> = vec![
            ("Decisions".into(), "Count", (c.allowed + denied).to_string()),
            ("Allowed".into(), "Count", c.allowed.to_string()),
            ("Denied".into(), "Count", denied.to_string()),
        ];
        for (reason, n) in Reason::ALL.iter().zip(c.denied).filter(|(_, n)| *n > 0) {
            metrics.push((format!("Denied.{}", reason.code()), "Count", n.to_string()));
        }
        metrics.push(("CacheHits".into(), "Count", c.cache_hits.to_string()));
        metrics.push(("CacheMisses".into(), "Count", c.cache_misses.to_string()));
        metrics.push(("Verifications".into(), "Count", c.verifications.to_string()));
        // Only when keys are fetched and a fetch failed (`JWT_JWKS_URL`; see the README).
        if c.key_fetch_failures > 0 {
            metrics.push(("KeyFetchFailures".into(), "Count", c.key_fetch_failures.to_string()));
        }
        let values: Vec<String> = time_values(&c.time).iter().map(|v| format!("{v}")).collect();
        metrics.push(("DecisionTime".into(), "Microseconds", format!("[{}]", values.join(","))));

        let mut definitions = String::new();
        let mut members = String::new();
        for (i, (name, unit, value)) in metrics.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(definitions, r#"{sep}{{"Name":{},"Unit":"{unit}"}}"#, json_string(name));
            let _ = write!(members, r#","{name}":{value}"#);
        }
        Some(format!(
            r#"{{"_aws":{{"Timestamp":{now_ms},"CloudWatchMetrics":[{{"Namespace":{},"Dimensions":[["FunctionName"]],"Metrics":[{definitions}]}}]}},"FunctionName":{}{members}}}"#,
            json_string(&self.config.namespace),
            json_string(&self.function),
        ))
    }
}

/// [`Metrics`] shared by every worker of the process (one line per flush for the process).
pub struct SharedMetrics(std::sync::Mutex<Metrics>);

impl SharedMetrics {
    pub fn new(metrics: Metrics) -> SharedMetrics {
        SharedMetrics(std::sync::Mutex::new(metrics))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Metrics> {
        // A panic while counting leaves whole counters behind: keep counting.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records one invocation, and returns the line to write when the interval has passed.
    /// Counts `n` failed fetches of keys outside any invocation (inside init).
    pub fn count_key_fetch_failures(&self, n: u64) {
        self.lock().count_key_fetch_failures(n);
    }

    pub fn record(&self, sample: &Sample, now_ms: u64) -> Option<String> {
        let mut m = self.lock();
        m.record(sample);
        m.flush_if_due(now_ms)
    }

    /// The last line: everything not written yet is handed to `end` (which writes it and
    /// ends the process) while the counts stay locked, so that nothing can be counted after
    /// it. A decision is counted before its answer is posted; one that comes to count after
    /// this waits for the lock until the process ends, and is never answered.
    pub fn finish(&self, now_ms: u64, end: impl FnOnce(Option<String>) -> std::convert::Infallible) -> ! {
        let mut counts = self.lock();
        let line = counts.flush(now_ms);
        match end(line) {}
    }
}

/// Writes an EMF line to standard output, where Lambda's log capture reads it: the line and
/// its newline in one `write` ([`output`](crate::function::output) says why).
pub fn write_line(line: &str) {
    if let Some(mut out) = crate::function::output::stdout() {
        let _ = write_line_to(&mut out, line);
    }
}

/// [`write_line`] to any writer: `line` and `\n` as one buffer, one `write` call.
pub fn write_line_to(out: &mut impl std::io::Write, line: &str) -> std::io::Result<()> {
    let mut whole = Vec::with_capacity(line.len() + 1);
    whole.extend_from_slice(line.as_bytes());
    whole.push(b'\n');
    crate::function::output::whole_line(out, &whole)
}

/// Decision times for the line: every sample (≤ 100), else 100 evenly spaced quantiles.
fn time_values(buckets: &[u32; BUCKETS]) -> Vec<f64> {
    let total: u64 = buckets.iter().map(|&n| u64::from(n)).sum();
    let mut out = Vec::with_capacity(MAX_VALUES);
    if total <= MAX_VALUES as u64 {
        for (i, &n) in buckets.iter().enumerate() {
            out.extend(std::iter::repeat_n(representative(i), n as usize));
        }
        return out;
    }
    // The k-th value is the sample of rank ⌈(k + ½) / 100 × total⌉ (1-based).
    let (mut i, mut seen) = (0, u64::from(buckets[0]));
    for k in 0..MAX_VALUES as u64 {
        let rank = ((2 * k + 1) * total).div_ceil(2 * MAX_VALUES as u64).max(1);
        while seen < rank {
            i += 1;
            seen += u64::from(buckets[i]);
        }
        out.push(representative(i));
    }
    out
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_line_and_its_newline_are_one_write_call() {
        let line = format!("{{\"_aws\":{{}},\"DecisionTime\":[{}]}}", vec!["1.5"; 100].join(","));
        let mut calls = crate::function::output::Calls::default();
        write_line_to(&mut calls, &line).unwrap();
        let calls: Vec<String> = calls.0.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        assert_eq!(calls, [format!("{line}\n")], "one call, the whole line");
    }

    /// Issue 17: failed fetches of keys (inside init, or around an invocation) are a metric,
    /// `KeyFetchFailures`, in the line that follows them, and only when there were any.
    #[test]
    fn failed_key_fetches_are_counted_when_there_are_any() {
        let config = MetricsConfig { namespace: "N".into(), interval_seconds: 60 };
        let mut m = Metrics::new(config, "f", 1_800_000_000_000);
        let sample =
            |n| Sample { denied: None, cache: CacheUse::None, verified: false, micros: 10, key_fetch_failures: n };
        m.record(&sample(0));
        let line = m.flush(1_800_000_000_001).unwrap();
        assert!(!line.contains("KeyFetchFailures"), "{line}");
        m.count_key_fetch_failures(1); // the cold start's
        m.record(&sample(2));
        let line: serde_json::Value = serde_json::from_str(&m.flush(1_800_000_000_002).unwrap()).unwrap();
        assert_eq!(line["KeyFetchFailures"], 3);
        let names = &line["_aws"]["CloudWatchMetrics"][0]["Metrics"];
        assert!(names.as_array().unwrap().iter().any(|d| d["Name"] == "KeyFetchFailures" && d["Unit"] == "Count"));
    }

    /// Issue 16: nothing is counted after the last line. `finish` keeps the counts locked
    /// while its `end` runs (it ends the process); a decision that comes to be counted then
    /// waits, and its answer (posted after counting) is never sent.
    #[test]
    fn nothing_is_counted_after_the_last_line() {
        use std::sync::{Arc, mpsc};
        let config = MetricsConfig { namespace: "N".into(), interval_seconds: 3600 };
        let metrics = Arc::new(SharedMetrics::new(Metrics::new(config, "f", 1_800_000_000_000)));
        let sample = Sample { denied: None, cache: CacheUse::None, verified: false, micros: 10, key_fetch_failures: 0 };
        assert_eq!(metrics.record(&sample, 1_800_000_000_001), None);
        let (last_tx, last) = mpsc::channel();
        let m = metrics.clone();
        std::thread::spawn(move || {
            m.finish(1_800_000_000_002, |line| {
                last_tx.send(line).unwrap();
                loop {
                    std::thread::park(); // as if the process were ending
                }
            })
        });
        let line = last.recv_timeout(std::time::Duration::from_secs(30)).unwrap().expect("the last line");
        assert!(line.contains(r#""Decisions":1"#), "{line}");
        let (counted_tx, counted) = mpsc::channel();
        std::thread::spawn(move || counted_tx.send(metrics.record(&sample, 1_800_000_000_003)).unwrap());
        let late = counted.recv_timeout(std::time::Duration::from_millis(300));
        assert!(late.is_err(), "a decision was counted after the last line: {late:?}");
    }

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in 0..200_000u64 {
            let b = bucket(v);
            assert!(b >= last, "{v}");
            last = b;
            let r = representative(b);
            assert!((r - v as f64).abs() <= (v as f64) * 0.0625 + 0.5, "{v} → {r}");
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_follow_the_distribution() {
        let mut buckets = [0u32; BUCKETS];
        buckets[bucket(20)] = 900; // 90% at ~20 µs
        buckets[bucket(1000)] = 100; // 10% at ~1 ms
        let v = time_values(&buckets);
        assert_eq!(v.len(), 100);
        assert_eq!(v.iter().filter(|x| **x < 100.0).count(), 90);
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
        let mut few = [0u32; BUCKETS];
        few[bucket(5)] = 3;
        assert_eq!(time_values(&few), vec![5.0; 3]);
    }
}
