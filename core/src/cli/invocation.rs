//! A command line lowered into what the daemon is asked ([`Request`]) and how the answer is
//! to be shown ([`View`]): docker's presentation flags never leave the CLI.

use super::command::{Command, CommandLine, Filters};
use super::parse::parse_invocation;
use crate::api::{DataBytes, DataSpec};
use crate::control::Request;
use crate::docker_version::DockerVersion;

/// One command line, ready to send: where, what, and how to show the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// `-H HOST[:PORT]`: answer on that daemon instead of the local one.
    pub host: Option<String>,
    pub request: Request,
    pub view: View,
    /// `secret|config create NAME FILE|-`: the file (`-`: standard input) whose bytes the
    /// driver reads and hands over with `supply_data` before the request is sent (core reads
    /// no files).
    pub data_file: Option<String>,
}

/// How the CLI shows a reply; the daemon never sees these.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// `-q`: IDs (or the token) only.
    pub quiet: bool,
    /// `--pretty`: inspect as text, not JSON.
    pub pretty: bool,
    /// `--no-trunc`: full task errors.
    pub no_trunc: bool,
    /// `--format TEMPLATE` of a listing (`format.rs`): replaces the table, and `-q`.
    pub format: Option<String>,
    /// `--filter KEY=VALUE` of a listing (`filter.rs`): checked and applied to the reply's
    /// objects, as the daemon would before it answers.
    pub filters: Filters,
    /// Set for `curl URL`: the request goes to the routing mesh of the host the URL names, and
    /// the reply is shown as curl shows it.
    pub curl: Option<CurlTarget>,
    /// Whose CLI prints the reply: tables and texts differ between docker 1.12 and 20.10.
    pub docker_version: DockerVersion,
}

/// Where a `curl` goes: `http://bd0:8000/` names host `bd0` (`hostport` `bd0:8000`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurlTarget {
    /// The URL as typed.
    pub url: String,
    pub host: String,
    pub hostport: String,
    pub port: u16,
}

/// Parses one command line (docker's grammar, or `curl URL`) into an [`Invocation`].
pub fn parse(line: &str) -> Result<Invocation, String> {
    parse_invocation(line).map(Invocation::of)
}

impl Invocation {
    /// Lowers docker's syntax tree into the request and the view options.
    pub fn of(line: CommandLine) -> Invocation {
        let mut view = View::default();
        let mut data_file = None;
        let request = match line.command {
            Command::SwarmInit { advertise_addr, listen_addr, force_new_cluster } => {
                Request::InitSwarm { advertise_addr, listen_addr, force_new_cluster, default_addr_pool: None }
            }
            Command::SwarmInitWithPool { advertise_addr, listen_addr, force_new_cluster, default_addr_pool } => {
                Request::InitSwarm {
                    advertise_addr,
                    listen_addr,
                    force_new_cluster,
                    default_addr_pool: Some(default_addr_pool),
                }
            }
            Command::SwarmJoin { token, remote_addr, advertise_addr } => {
                Request::JoinSwarm { token, remote_addr, advertise_addr }
            }
            Command::SwarmJoinToken { role, quiet, rotate } => {
                view.quiet = quiet;
                if rotate {
                    Request::RotateJoinToken { role }
                } else {
                    Request::GetJoinToken { role }
                }
            }
            Command::SwarmLeave { force } => Request::LeaveSwarm { force },
            Command::SwarmUpdate(args) => Request::UpdateSwarm(args),
            Command::NodeLs { quiet, format, filter } => {
                view.quiet = quiet;
                view.format = format;
                view.filters = filter;
                Request::ListNodes
            }
            Command::NodeInspect { nodes, pretty } => {
                view.pretty = pretty;
                Request::InspectNodes { nodes }
            }
            Command::NodeUpdate(args) => Request::UpdateNode(args),
            Command::NodePromote { nodes } => Request::PromoteNodes { nodes },
            Command::NodeDemote { nodes } => Request::DemoteNodes { nodes },
            Command::NodeRm { nodes, force } => Request::RemoveNodes { nodes, force },
            Command::NetworkCreate { name, driver, subnet } => {
                Request::CreateNetwork { name, driver, subnet, labels: Default::default(), attachable: false }
            }
            Command::NetworkLs { quiet } => {
                view.quiet = quiet;
                Request::ListNetworks
            }
            Command::NetworkInspect { networks } => Request::InspectNetworks { networks },
            Command::NetworkRm { networks } => Request::RemoveNetworks { networks },
            Command::ServiceCreate(args) => Request::CreateService(args),
            Command::ServiceLs { quiet, format, filter } => {
                view.quiet = quiet;
                view.format = format;
                view.filters = filter;
                Request::ListServices
            }
            Command::NodePs { nodes, quiet, no_trunc, format, filter } => {
                view.quiet = quiet;
                view.no_trunc = no_trunc;
                view.format = format;
                view.filters = filter;
                Request::ListNodeTasks { nodes }
            }
            Command::ServicePs { services, quiet, no_trunc, format, filter } => {
                view.quiet = quiet;
                view.no_trunc = no_trunc;
                view.format = format;
                view.filters = filter;
                Request::ListTasks { services }
            }
            Command::ServiceInspect { services, pretty } => {
                view.pretty = pretty;
                Request::InspectServices { services }
            }
            Command::ServiceScale { scales } => Request::ScaleServices { scales },
            Command::ServiceUpdate(args) => Request::UpdateService(args),
            Command::ServiceRm { services } => Request::RemoveServices { services },
            Command::Ps { all, quiet, format, filter } => {
                view.quiet = quiet;
                view.format = format;
                // A `status` filter lists stopped containers too (dockerd's `foldFilter`).
                let all = all || filter.lists_all();
                view.filters = filter;
                Request::ListContainers { all }
            }
            Command::Kill { containers } => Request::KillContainers { containers },
            Command::Exec { container, command } => Request::Exec { container, command },
            Command::DataCreate { kind, name, labels, file } => {
                data_file = Some(file);
                Request::CreateData { kind, spec: Box::new(DataSpec { name, labels, data: DataBytes::default() }) }
            }
            Command::DataLs { kind, quiet, filter } => {
                view.quiet = quiet;
                view.filters = filter;
                Request::ListData { kind }
            }
            Command::DataInspect { kind, names, pretty } => {
                view.pretty = pretty;
                Request::InspectData { kind, names }
            }
            Command::DataRm { kind, names } => Request::RemoveData { kind, names },
            Command::Curl { url } => {
                let target = CurlTarget::of(&url);
                let port = target.port;
                view.curl = Some(target);
                Request::RouteIngress { port }
            }
        };
        Invocation { host: line.host, request, view, data_file }
    }

    /// The bytes of `data_file`, read by the driver, go into the create request.
    pub fn supply_data(&mut self, bytes: Vec<u8>) {
        if let Request::CreateData { spec, .. } = &mut self.request {
            spec.data = DataBytes(bytes);
        }
    }
}

impl Invocation {
    /// The same command line typed into `version`'s CLI: the reply is shown as that CLI shows
    /// it, and the request carries what that CLI adds to it before sending.
    pub fn for_docker(mut self, version: DockerVersion) -> Invocation {
        self.view.docker_version = version;
        if version == DockerVersion::V20_10 {
            // Since docker 1.13 the client tags an untagged image before it creates or updates
            // a service (moby's client `imageWithTagString`, from moby#28173's digest
            // pinning), so the spec says `nginx:latest` where 1.12's said `nginx`.
            match &mut self.request {
                Request::CreateService(args) => args.image = crate::image::with_tag(&args.image),
                Request::UpdateService(args) => {
                    if let Some(image) = &mut args.image {
                        *image = crate::image::with_tag(image);
                    }
                }
                _ => {}
            }
        }
        self
    }
}

impl CurlTarget {
    /// `http://HOST[:PORT]/...`; port 80 when the URL gives none (or one that is no port).
    fn of(url: &str) -> CurlTarget {
        let hostport = url.trim_start_matches("http://").split('/').next().unwrap_or("").to_string();
        let host = crate::addr::host(&hostport).to_string();
        let port = crate::addr::port(&hostport).unwrap_or(80);
        CurlTarget { url: url.to_string(), host, hostport, port }
    }
}
