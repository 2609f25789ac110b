//! Running a program inside a node's network namespace and capturing what a terminal would
//! show: stdout and stderr interleaved in one stream, and the exit code.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a command printed and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// The exit status; 128 + signal for a killed process (as a shell reports it); 124 when it
    /// ran past its timeout (as coreutils' `timeout` reports it).
    pub exit_code: i32,
    pub output: String,
}

/// `nsenter --net=NETNS -- argv…`: the program sees the node's interfaces and nothing else.
pub fn in_netns(netns: &Path, argv: &[String]) -> Command {
    let mut command = Command::new("nsenter");
    command.arg(format!("--net={}", netns.display())).arg("--").args(argv);
    command
}

/// Runs `command` with stdin from `stdin_file` (or nothing), output captured, killed after
/// `timeout`.
pub fn capture(mut command: Command, stdin_file: Option<&Path>, timeout: Duration) -> Captured {
    let (mut reader, writer) = match std::io::pipe() {
        Ok(pair) => pair,
        Err(e) => return Captured { exit_code: 126, output: format!("cannot make a pipe: {e}\n") },
    };
    let Ok(writer_for_stderr) = writer.try_clone() else {
        return Captured { exit_code: 126, output: "cannot duplicate a pipe\n".into() };
    };
    command.stdout(writer).stderr(writer_for_stderr);
    match stdin_file.map(std::fs::File::open) {
        None => {
            command.stdin(Stdio::null());
        }
        Some(Ok(file)) => {
            command.stdin(file);
        }
        Some(Err(e)) => return Captured { exit_code: 126, output: format!("cannot open the input: {e}\n") },
    }
    let spawned = command.spawn();
    // The Command keeps the pipe's write ends until dropped: drop it so the reader sees EOF.
    drop(command);
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return Captured { exit_code: 127, output: format!("cannot run the command: {e}\n") },
    };
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = reader.read_to_end(&mut bytes);
        let _ = sender.send(bytes);
    });
    let until = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() > until => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    // A grandchild could hold the pipe open after the child exits; do not wait for it forever.
    let bytes = receiver.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    let exit_code = if timed_out {
        124
    } else {
        use std::os::unix::process::ExitStatusExt;
        match status {
            Some(s) => s.code().or_else(|| s.signal().map(|sig| 128 + sig)).unwrap_or(1),
            None => 1,
        }
    };
    Captured { exit_code, output: String::from_utf8_lossy(&bytes).into_owned() }
}
