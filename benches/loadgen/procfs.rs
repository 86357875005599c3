//! A process's CPU time and memory, from `/proc` (proc(5)).

use std::io;
use std::sync::OnceLock;

/// CPU time used so far by every thread of a process.
#[derive(Clone, Copy)]
pub struct Cpu {
    /// utime + stime from `/proc/PID/stat` (fields 14 and 15), in clock ticks: includes
    /// threads that have exited.
    pub ticks: u64,
    /// The sum of `/proc/PID/task/*/schedstat`'s first field (time on CPU, ns): nanosecond
    /// resolution, live threads only.
    pub sched_ns: u64,
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it cannot be asked).
pub fn clk_tck() -> u64 {
    static TCK: OnceLock<u64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

pub fn cpu(pid: u32) -> io::Result<Cpu> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(14) + field(15);
    let mut sched_ns = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        if let Ok(s) = std::fs::read_to_string(path) {
            sched_ns += s.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    Ok(Cpu { ticks, sched_ns })
}

/// A number from `/proc/PID/status` (`VmHWM: 2480 kB` → 2480; `Threads: 1` → 1).
pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.split(':').next() == Some(key))?;
    line.split(':').nth(1)?.split_whitespace().next()?.parse().ok()
}
