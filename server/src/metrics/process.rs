//! What this process costs the machine: resident memory, CPU time, threads and open file
//! descriptors, read from Linux's `/proc/self` when asked (nothing runs in the
//! background). Elsewhere the figures are zero. Open HTTP connections are counted by the
//! listener ([`crate::http::open_connections`]).

use serde::Serialize;

/// One reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ProcessStats {
    /// Resident set size in bytes.
    pub rss_bytes: u64,
    /// User + system CPU time since the process started, in seconds.
    pub cpu_seconds: f64,
    /// Threads.
    pub threads: u64,
    /// Open file descriptors (sockets included).
    pub open_fds: u64,
}

/// Reads the current figures.
pub fn process_stats() -> ProcessStats {
    let page = 4096u64; // Linux on x86-64 and aarch64 with 4 KiB pages
    let rss_pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let (cpu_seconds, threads) = parse_stat(&stat);
    let open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
    ProcessStats {
        rss_bytes: rss_pages * page,
        cpu_seconds,
        threads,
        open_fds,
    }
}

/// The soft limit on open file descriptors (`Max open files` in `/proc/self/limits`);
/// `None` where it cannot be read or is unlimited.
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files_limit(&limits)
}

fn parse_open_files_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU seconds (utime + stime at 100 ticks a second) and threads from `/proc/<pid>/stat`.
fn parse_stat(stat: &str) -> (f64, u64) {
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return (0.0, 0);
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime 15, num_threads 20.
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    ((field(14) + field(15)) as f64 / 100.0, field(20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_of_open_files_is_read() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
Max processes             63504                63504                processes \n\
Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files_limit(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files     \n";
        assert_eq!(parse_open_files_limit(unlimited), None);
        if cfg!(target_os = "linux") {
            assert!(open_files_limit().is_some_and(|n| n >= 64));
        }
    }

    #[test]
    fn reads_cpu_and_threads_after_an_awkward_name() {
        let stat = "4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 2000 0 0 0 250 75 0 0 20 0 9 0 100 1000000 500";
        assert_eq!(parse_stat(stat), (3.25, 9));
        assert_eq!(parse_stat("garbage"), (0.0, 0));
    }

    #[test]
    fn this_process_has_memory_threads_and_descriptors() {
        let s = process_stats();
        assert!(s.rss_bytes > 1 << 20, "{s:?}");
        assert!(s.threads >= 1 && s.open_fds >= 3, "{s:?}");
    }
}
