//! `swarmctl -H ADDR <docker verb ...>`: the docker CLI's swarm verbs against a swarmd, with
//! core's grammar and tables (the same text swarmsim prints). `--format json` prints the reply's
//! objects themselves (one JSON object per line for listings, as docker's `--format json`).
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
    use swarm_core::cli::{self, Invocation};
    use swarm_core::control::{Reply, Request, Response};
    use swarmd::api::{self, ApiRequest, ApiResponse};

    fn usage() -> ! {
        eprintln!("usage: swarmctl [-H HOST] [--format json] [--docker-version 1.12|20.10] COMMAND [ARGS...]\n       swarmctl -H HOST metrics\n       swarmctl curl http://IP:PORT/");
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
        // The docker whose tables and texts to print (`--docker-version`, as swarmsim's).
        let mut docker_version = cli::DockerVersion::default();
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
                Some("--docker-version") if args.len() > 1 => {
                    let Some(v) = cli::DockerVersion::parse(&args[1]) else {
                        eprintln!("swarmctl: --docker-version {:?} is not 1.12 or 20.10", args[1]);
                        exit(125)
                    };
                    docker_version = v;
                    args.drain(..2);
                }
                Some("-h") | Some("--help") | None => usage(),
                _ => break,
            }
        }
        // `--format json` may also follow the verb, as docker allows; any other template is
        // the listing's own (`--format '{{.Name}}'`), which core's renderer fills.
        if let Some(i) = args.iter().position(|a| a == "--format") {
            if i + 1 < args.len() && (args[i + 1] == "json" || args[i + 1] == "{{json .}}") {
                json = true;
                args.drain(i..i + 2);
            }
        }
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        if args.first().map(String::as_str) == Some("metrics") {
            exit(rt.block_on(metrics(&host)));
        }
        let line = args.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ");
        if let Some(stack) = cli::parse::parse_stack_line(&line) {
            let (h, command) = stack.unwrap_or_else(|e| {
                eprintln!("{e}");
                exit(1)
            });
            exit(rt.block_on(stack_run(&h.unwrap_or(host), command, docker_version)));
        }
        let mut invocation = match cli::parse(&line) {
            Ok(i) => i.for_docker(docker_version),
            Err(e) => {
                eprintln!("{e}");
                let flag_error = e.contains("unknown flag")
                    || e.contains("unknown shorthand flag")
                    || e.contains("flag needs an argument")
                    || e.contains("invalid argument");
                exit(if flag_error { 125 } else { 1 });
            }
        };
        if let Some(h) = &invocation.host {
            host = h.clone();
        }
        // `secret|config create NAME FILE|-`: the bytes are read here, as docker's CLI reads
        // them (`-`: all of standard input).
        if let Some(file) = invocation.data_file.clone() {
            let read = if file == "-" {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map(|_| bytes)
            } else {
                std::fs::read(&file)
            };
            match read {
                Ok(bytes) => invocation.supply_data(bytes),
                Err(_) => {
                    eprintln!("open {file}: no such file or directory");
                    exit(1);
                }
            }
        }
        if let Some(target) = &invocation.view.curl {
            // A real HTTP GET: the daemon's routing mesh answers on the published port.
            exit(rt.block_on(curl(&target.url)));
        }
        exit(rt.block_on(send(&host, &invocation, json)));
    }

    /// `stack …`: core's `StackRun` asks, one request at a time; the compose file is read here,
    /// relative to the working directory, as docker's CLI reads it.
    async fn stack_run(host: &str, command: swarm_core::stack::StackCommand, version: cli::DockerVersion) -> i32 {
        use swarm_core::stack::{Next, StackRun};
        let read =
            |path: &str| std::fs::read_to_string(path).map_err(|_| format!("open {path}: no such file or directory"));
        let mut run = match StackRun::new(command, version, read) {
            Ok(run) => run,
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        };
        let mut reply = None;
        loop {
            match run.next(reply.take()) {
                Next::Done { exit_code, output } => {
                    print!("{output}");
                    let _ = std::io::stdout().flush();
                    return exit_code;
                }
                Next::Send(request) => match control(host, request).await {
                    Ok(r) => reply = Some(r),
                    Err(code) => return code,
                },
            }
        }
    }

    /// One typed request to the daemon's control route: its reply, or (having said why on
    /// stderr) the exit code.
    async fn control(host: &str, request: Box<Request>) -> Result<Reply, i32> {
        match api::call(host, ApiRequest::Control(request)).await {
            Ok(ApiResponse::Control(reply)) => Ok(reply),
            Ok(ApiResponse::Metrics(_)) => {
                eprintln!("unexpected answer from the daemon");
                Err(1)
            }
            Err(_) => {
                eprintln!("{}", cannot_connect(host));
                Err(1)
            }
        }
    }

    async fn send(host: &str, invocation: &Invocation, json: bool) -> i32 {
        let reply = match control(host, Box::new(invocation.request.clone())).await {
            Ok(reply) => reply,
            Err(code) => return code,
        };
        match &reply {
            Ok(response) => {
                let out = if json { to_json(response) } else { cli::render(invocation, &reply) };
                print!("{out}");
                let _ = std::io::stdout().flush();
            }
            Err(_) => eprint!("{}", cli::render(invocation, &reply)),
        }
        cli::exit_code(invocation, &reply)
    }

    async fn metrics(host: &str) -> i32 {
        match api::call(host, ApiRequest::Metrics).await {
            Ok(ApiResponse::Metrics(text)) => {
                print!("{text}");
                let _ = std::io::stdout().flush();
                0
            }
            Ok(ApiResponse::Control(Err(e))) => {
                eprintln!("Error response from daemon: {e}");
                1
            }
            Ok(ApiResponse::Control(Ok(_))) => {
                eprintln!("unexpected answer from the daemon");
                1
            }
            Err(_) => {
                eprintln!("{}", cannot_connect(host));
                1
            }
        }
    }

    /// Docker's words when no daemon answers, with the address as docker prints it
    /// (`192.168.0.192:5555` is `tcp://192.168.0.192:5555`) and nothing after them.
    fn cannot_connect(host: &str) -> String {
        let url = match api::parse_host(host) {
            api::Host::Unix(path) => format!("unix://{path}"),
            api::Host::Tcp(addr) => format!("tcp://{addr}"),
        };
        format!("Cannot connect to the Docker daemon at {url}. Is the docker daemon running?")
    }

    /// The reply's objects as JSON: a listing as one object per line (docker's `--format json`),
    /// anything else as one value.
    fn to_json(response: &Response) -> String {
        fn lines<T: serde::Serialize>(items: &[T]) -> String {
            items.iter().map(|i| format!("{}\n", serde_json::to_string(i).expect("serializes"))).collect()
        }
        match response {
            Response::Nodes(nodes) => lines(nodes),
            Response::Networks(networks) => lines(networks),
            Response::Services(services) => lines(services),
            Response::Tasks { tasks, .. } => lines(tasks),
            Response::Containers { containers, .. } => lines(containers),
            other => format!("{}\n", serde_json::to_string(other).expect("serializes")),
        }
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
