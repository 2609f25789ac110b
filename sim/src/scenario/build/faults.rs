//! Fault steps: which keys are faults (their building lives beside the other steps, in
//! `steps.rs`, since it shares the step context).

pub const FAULT_KEYWORDS: [&str; 19] = [
    "crash",
    "restart",
    "stop_daemon",
    "isolate",
    "partition",
    "cut",
    "heal",
    "lose_leader",
    "link",
    "clock",
    "slow_disk",
    "fail_disk",
    "disk_ok",
    "pause",
    "corrupt",
    "runtime_fails",
    "runtime_hangs",
    "lose_data_root",
    "rejoin",
];

pub fn is_fault_keyword(keyword: &str) -> bool {
    FAULT_KEYWORDS.contains(&keyword)
}
