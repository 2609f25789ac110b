//! `swarmctl -H ADDR <docker verb ...>`: the docker CLI's swarm verbs against a swarmd, with
//! core's grammar and tables (the same text swarmsim prints) and `--format json`.
//!
//! Exit codes as docker's CLI: 0 on success, 1 when the daemon refuses (`Error response from
//! daemon: ...`) or cannot be reached, 125 on a flag error. `curl URL` does a real HTTP GET
//! (curl's exit codes 7 and 28 on refusal and timeout).

// Built with `--cfg madsim` this binary is a stub: the simulation builds the library only.
#[cfg(madsim)]
fn main() {
    eprintln!("built for madsim: not runnable");
}

#[cfg(not(madsim))]
fn main() {
    real::main()
}

#[cfg(not(madsim))]
mod real {
    use std::io::Write;
    use std::process::exit;
    use swarm_core::cli::{parse::parse_invocation, Command};
    use swarm_core::node::Reply;
    use swarmd::api::{self, ApiRequest};

    fn usage() -> ! {
        eprintln!("usage: swarmctl [-H HOST] [--format json] COMMAND [ARGS...]\n       swarmctl -H HOST metrics\n       swarmctl curl http://IP:PORT/");
        exit(125)
    }

    fn shell_quote(s: &str) -> String {
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c)) {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    }

    pub fn main() {
        let mut args: Vec<String> = std::env::args().skip(1).collect();
        let mut host = std::env::var("SWARMD_HOST").unwrap_or_else(|_| "unix:///var/lib/swarmd/swarmd.sock".into());
        let mut json = false;
        // Leading options of swarmctl itself; the rest is docker's grammar.
        loop {
            match args.first().map(String::as_str) {
                Some("-H") | Some("--host") if args.len() > 1 => {
                    host = args[1].clone();
                    args.drain(..2);
                }
                Some(a) if a.starts_with("--host=") => {
                    host = a["--host=".len()..].to_string();
                    args.remove(0);
                }
                Some("--format") if args.len() > 1 => {
                    json = args[1] == "json" || args[1] == "{{json .}}";
                    args.drain(..2);
                }
                Some("-h") | Some("--help") | None => usage(),
                _ => break,
            }
        }
        // `--format json` may also follow the verb, as docker allows.
        if let Some(i) = args.iter().position(|a| a == "--format") {
            if i + 1 < args.len() {
                json = args[i + 1] == "json" || args[i + 1] == "{{json .}}";
                args.drain(i..i + 2);
            }
        }
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        if args.first().map(String::as_str) == Some("metrics") {
            exit(rt.block_on(send(&host, ApiRequest::Metrics, false)));
        }
        let line = args.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ");
        let invocation = match parse_invocation(&line) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{e}");
                let flag_error = e.contains("unknown flag")
                    || e.contains("unknown shorthand flag")
                    || e.contains("flag needs an argument")
                    || e.contains("invalid argument");
                exit(if flag_error { 125 } else { 1 });
            }
        };
        if let Some(h) = invocation.host {
            host = h;
        }
        if let Command::Curl { url } = &invocation.command {
            exit(rt.block_on(curl(url)));
        }
        exit(rt.block_on(send(&host, ApiRequest::Command(invocation.command), json)));
    }

    async fn send(host: &str, request: ApiRequest, json: bool) -> i32 {
        match api::call(host, request).await {
            Ok(Reply::Text(t)) => {
                let out = if json { to_json(&t) } else { t };
                print!("{out}");
                let _ = std::io::stdout().flush();
                0
            }
            Ok(Reply::Error(e)) => {
                eprintln!("Error response from daemon: {e}");
                1
            }
            Ok(Reply::Route(_)) => {
                eprintln!("unexpected answer from the daemon");
                1
            }
            Err(e) => {
                eprintln!("Cannot connect to the Docker daemon at {host}. Is the docker daemon running? ({e})");
                1
            }
        }
    }

    /// Tables become one JSON object per row (docker's `--format json`), keyed by the header's
    /// words in CamelCase; JSON stays JSON; anything else becomes a JSON string.
    fn to_json(text: &str) -> String {
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            return text.to_string();
        }
        let mut lines = text.lines();
        let Some(header) = lines.next() else { return String::new() };
        let bytes = header.as_bytes();
        let mut starts = vec![0usize];
        for i in 2..bytes.len() {
            if bytes[i] != b' ' && bytes[i - 1] == b' ' && bytes[i - 2] == b' ' {
                starts.push(i);
            }
        }
        if starts.len() < 2 || !header.chars().all(|c| c.is_ascii_uppercase() || c == ' ') {
            return format!("{}\n", serde_json::Value::String(text.to_string()));
        }
        let cut = |line: &str, k: usize| -> String {
            let end = starts.get(k + 1).copied().unwrap_or(usize::MAX);
            let chars: Vec<char> = line.chars().collect();
            let s = starts[k].min(chars.len());
            let e = end.min(chars.len());
            chars[s..e].iter().collect::<String>().trim().to_string()
        };
        let keys: Vec<String> = (0..starts.len())
            .map(|k| {
                cut(header, k)
                    .split_whitespace()
                    .map(|w| if w == "ID" { w.to_string() } else { w[..1].to_string() + &w[1..].to_lowercase() })
                    .collect()
            })
            .collect();
        let mut out = String::new();
        for line in lines {
            let obj: serde_json::Map<String, serde_json::Value> = keys
                .iter()
                .enumerate()
                .map(|(k, key)| (key.clone(), serde_json::Value::String(cut(line, k))))
                .collect();
            out.push_str(&serde_json::Value::Object(obj).to_string());
            out.push('\n');
        }
        out
    }

    async fn curl(url: &str) -> i32 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rest = url.trim_start_matches("http://");
        let (hostport, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let addr = if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:80") };
        let work = async {
            let mut s = tokio::net::TcpStream::connect(&addr)
                .await
                .map_err(|e| (7, format!("curl: (7) Failed to connect to {addr}: {e}")))?;
            let req = format!("GET {path} HTTP/1.0\r\nHost: {hostport}\r\nUser-Agent: swarmctl\r\n\r\n");
            s.write_all(req.as_bytes()).await.map_err(|e| (56, format!("curl: (56) {e}")))?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await.map_err(|e| (56, format!("curl: (56) Recv failure: {e}")))?;
            if buf.is_empty() {
                return Err((52, "curl: (52) Empty reply from server".to_string()));
            }
            let text = String::from_utf8_lossy(&buf).to_string();
            Ok(text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or(text))
        };
        match tokio::time::timeout(std::time::Duration::from_secs(10), work).await {
            Ok(Ok(body)) => {
                print!("{body}");
                0
            }
            Ok(Err((code, msg))) => {
                eprintln!("{msg}");
                code
            }
            Err(_) => {
                eprintln!("curl: (28) Operation timed out");
                28
            }
        }
    }
}
