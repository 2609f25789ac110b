//! The allocator: service VIPs, published ports and task addresses (swarmkit `manager/allocator`).
//!
//! It is the only writer of addresses, so it keeps the in-use sets itself (one IPAM per overlay
//! network, one port space per protocol) and reconciles them with the committed store each
//! round: what it holds for services and tasks that are gone, changed or dead is released, and
//! what the store still lacks is allocated. Allocation is serial like docker's IPAM with
//! `com.docker.network.ipam.serial`: the next free address after the last one handed out,
//! wrapping around, so a released address is not handed out again soon.

use crate::api::{
    Endpoint, NetAddr, Network, NetworkAttachment, PortConfig, Protocol, PublishMode, Service, Subnet, Task, TaskState,
    VirtualIp,
};
use crate::ids::{NetworkId, ServiceId, TaskId};
use crate::store::{Store, StoreAction};
use crate::time::Instant;
use core::net::Ipv4Addr;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

/// Published ports picked for `--publish 80` (no published number), as in swarmkit.
pub const DYNAMIC_PORTS: RangeInclusive<u16> = 30000..=32767;

#[derive(Clone, Debug, Default)]
pub struct Allocator {
    /// Per overlay network: which of its addresses are taken.
    networks: BTreeMap<NetworkId, Ipam>,
    ports: PortSpaces,
    /// The endpoint (VIPs and published ports) each service holds.
    services: BTreeMap<ServiceId, Endpoint>,
    /// The addresses each task holds.
    tasks: BTreeMap<TaskId, Vec<(NetworkId, Ipv4Addr)>>,
    pub planted: crate::planted::Planted,
}

impl Allocator {
    /// An allocator for an empty store; on a store with objects, call `rebuild` first.
    pub fn new() -> Allocator {
        Allocator::default()
    }

    /// Rebuilds the in-use sets from the store (on becoming leader): every VIP of a service and
    /// every address of a task that is not dead is taken.
    pub fn rebuild(&mut self, store: &Store) {
        let planted = self.planted;
        *self = Allocator { planted, ..Allocator::new() };
        for network in store.networks.values() {
            self.ipam_for(network);
        }
        for service in store.services.values() {
            if let Some(endpoint) = &service.endpoint {
                self.adopt_endpoint(&service.id, endpoint);
            }
        }
        for task in store.tasks.values().filter(|t| !holds_no_addresses(t, planted)) {
            self.adopt_task_addresses(task);
        }
        // Continue after the highest address in use rather than refill holes at once: a
        // container that just died may still be wired to its old address on some node.
        for ipam in self.networks.values_mut() {
            ipam.resume_after_highest_taken();
        }
        self.ports.resume_after_highest_taken();
    }

    /// One round: service endpoints first (VIPs, published ports), then the addresses of NEW
    /// tasks, after releasing what gone or dead objects held.
    pub fn allocate(&mut self, store: &Store, now: Instant) -> Vec<StoreAction> {
        self.forget_removed_networks(store);
        self.release_removed_services(store);
        let survey = self.survey_tasks(store);
        for id in &survey.to_release {
            self.release_task(id);
        }
        let mut actions = Vec::new();
        let waiting: BTreeSet<&ServiceId> = survey.to_allocate.iter().map(|t| &t.service_id).collect();
        let ready = self.allocate_services(store, &waiting, &mut actions);
        for task in survey.to_allocate {
            if let Some(service) = ready.get(&task.service_id) {
                self.allocate_task(task, service, now, &mut actions);
            }
        }
        actions
    }

    /// The subnet for a new overlay network without `--subnet`: the first 10.0.N.0/24
    /// (N = 0, 1, ...) not used by a network in the store. Past 10.0.255.0/24 the search goes
    /// on through 10.1.0.0/24 and up, docker's default pool 10.0.0.0/8 cut into /24s.
    /// With `swarm init --default-addr-pool`, the pool's first free subnet instead.
    pub fn next_overlay_subnet(store: &Store) -> Result<Subnet, String> {
        let used: Vec<Subnet> = store.networks.values().filter_map(|n| n.subnet).collect();
        if let Some(pool) = store.cluster.as_ref().and_then(|c| c.default_addr_pool.as_ref()) {
            // libnetwork's wording when a pool has no subnet left.
            return pool.first_free(&used).ok_or_else(|| "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network".to_string());
        }
        let mut candidates = (0u32..1 << 16).map(|n| Subnet::new(Ipv4Addr::from(0x0A00_0000 | (n << 8)), 24));
        let first = Subnet::new(Ipv4Addr::new(10, 0, 0, 0), 24);
        // With all 65,536 taken there is no good answer; the overlap then shows at creation.
        Ok(candidates.find(|c| !used.iter().any(|u| u.overlaps(c))).unwrap_or(first))
    }

    /// Every address this allocator counts as taken (gateways excluded), by network.
    /// Whether the allocator counts `ip` on `network` as taken: O(1), for checkers that ask
    /// about every live task's addresses.
    pub fn is_address_taken(&self, network: &NetworkId, ip: Ipv4Addr) -> bool {
        self.networks
            .get(network)
            .map(|ipam| ipam.subnet.contains(ip) && ipam.is_taken(u32::from(ip) - u32::from(ipam.subnet.base)))
            .unwrap_or(false)
    }

    pub fn addresses_in_use(&self) -> BTreeSet<(NetworkId, Ipv4Addr)> {
        self.networks.iter().flat_map(|(id, ipam)| ipam.taken_hosts().map(move |ip| (id.clone(), ip))).collect()
    }

    /// Every ingress-mode published port this allocator counts as taken.
    pub fn published_ports_in_use(&self) -> BTreeSet<(Protocol, u16)> {
        self.ports.in_use()
    }

    fn ipam_for(&mut self, network: &Network) -> Option<&mut Ipam> {
        let subnet = network.subnet?;
        let ipam = self.networks.entry(network.id.clone()).or_insert_with(|| Ipam::new(subnet));
        debug_assert_eq!(ipam.subnet, subnet, "a network's subnet never changes");
        Some(ipam)
    }

    /// A removed network's addresses stay taken while a task still holds one (its container
    /// not yet stopped: `docker stack rm` removes the network right after the services), as
    /// swarmkit keeps such a network pending deletion until its tasks are gone.
    fn forget_removed_networks(&mut self, store: &Store) {
        if self.networks.keys().all(|id| store.networks.contains_key(id)) {
            return;
        }
        let held: BTreeSet<NetworkId> = self.tasks.values().flatten().map(|(n, _)| n.clone()).collect();
        self.networks.retain(|id, _| store.networks.contains_key(id) || held.contains(id));
    }

    fn release_removed_services(&mut self, store: &Store) {
        let removed: Vec<ServiceId> =
            self.services.keys().filter(|id| !store.services.contains_key(id)).cloned().collect();
        for id in removed {
            if let Some(endpoint) = self.services.remove(&id) {
                self.release_endpoint_parts(&endpoint.virtual_ips, &endpoint.ports);
            }
        }
    }

    // ----- services -----

    /// Gives an endpoint to every service that lacks one or whose endpoint no longer matches
    /// its spec. Returns, among `waiting` (the services with NEW tasks), those whose tasks can be
    /// allocated this round.
    fn allocate_services(
        &mut self,
        store: &Store,
        waiting: &BTreeSet<&ServiceId>,
        actions: &mut Vec<StoreAction>,
    ) -> BTreeMap<ServiceId, ReadyService> {
        let ingress = store.ingress_network().map(|n| &n.id);
        let mut ready = BTreeMap::new();
        for service in store.services.values() {
            let wanted = service.attached_networks(ingress);
            // A network missing from the store (or without a subnet) cannot be attached:
            // leave the service and its tasks for a later round.
            let Some(networks) = resolve_networks(store, &wanted) else { continue };
            for network in &networks {
                self.ipam_for(network);
            }
            let allocated;
            let endpoint = match &service.endpoint {
                Some(endpoint) if endpoint_matches_spec(endpoint, service, &wanted) => endpoint,
                _ => match self.allocate_endpoint(service, &networks) {
                    Some(endpoint) => {
                        actions.push(StoreAction::SetServiceEndpoint {
                            id: service.id.clone(),
                            endpoint: endpoint.clone(),
                        });
                        allocated = endpoint;
                        &allocated
                    }
                    None => continue,
                },
            };
            if waiting.contains(&service.id) {
                ready.insert(service.id.clone(), ReadyService::new(&networks, endpoint));
            }
        }
        ready
    }

    /// A new endpoint for `service`, keeping what it already holds that still fits (VIPs on
    /// networks it stays on, published ports it keeps) and releasing the rest. `None`, with
    /// nothing changed, when a subnet or the port range is exhausted or a port is taken.
    fn allocate_endpoint(&mut self, service: &Service, networks: &[&Network]) -> Option<Endpoint> {
        let held = self.services.get(&service.id).cloned().unwrap_or_default();
        let mut fresh = Fresh::default();
        let endpoint = self.build_endpoint(service, networks, &held, &mut fresh);
        let Some(endpoint) = endpoint else {
            self.release_endpoint_parts(&fresh.virtual_ips, &fresh.ports);
            return None;
        };
        let dropped_vips: Vec<VirtualIp> =
            held.virtual_ips.iter().filter(|v| !endpoint.virtual_ips.contains(v)).cloned().collect();
        let dropped_ports: Vec<PortConfig> =
            held.ports.iter().filter(|p| !holds_same_port(&endpoint.ports, p)).copied().collect();
        self.release_endpoint_parts(&dropped_vips, &dropped_ports);
        self.services.insert(service.id.clone(), endpoint.clone());
        Some(endpoint)
    }

    /// Assembles the endpoint, recording in `fresh` what it newly takes so a failure can undo it.
    fn build_endpoint(
        &mut self,
        service: &Service,
        networks: &[&Network],
        held: &Endpoint,
        fresh: &mut Fresh,
    ) -> Option<Endpoint> {
        let mut endpoint = Endpoint::default();
        for network in networks {
            let vip = match held.virtual_ips.iter().find(|v| v.network_id == network.id) {
                Some(vip) => vip.clone(),
                None => {
                    let addr = self.ipam_for(network)?.allocate()?;
                    let vip = VirtualIp { network_id: network.id.clone(), addr };
                    fresh.virtual_ips.push(vip.clone());
                    vip
                }
            };
            endpoint.virtual_ips.push(vip);
        }
        let mut reused = vec![false; held.ports.len()];
        for wanted in &service.spec.ports {
            let port = self.allocate_port(wanted, held, &mut reused, fresh)?;
            endpoint.ports.push(port);
        }
        Some(endpoint)
    }

    /// One published port: host mode is copied as is (the node binds it); ingress mode reuses
    /// the service's earlier port when it still fits, else takes the asked number or a free one.
    fn allocate_port(
        &mut self,
        wanted: &PortConfig,
        held: &Endpoint,
        reused: &mut [bool],
        fresh: &mut Fresh,
    ) -> Option<PortConfig> {
        if wanted.mode == PublishMode::Host {
            return Some(*wanted);
        }
        if let Some(i) = reusable_port(held, reused, wanted) {
            reused[i] = true;
            return Some(PortConfig { published_port: held.ports[i].published_port, ..*wanted });
        }
        let space = self.ports.space(wanted.protocol);
        let published_port = if wanted.published_port != 0 {
            // Another service publishes it: swarmkit fails the allocation the same way.
            space.take(wanted.published_port).then_some(wanted.published_port)?
        } else {
            space.allocate_dynamic()?
        };
        let port = PortConfig { published_port, ..*wanted };
        fresh.ports.push(port);
        Some(port)
    }

    fn adopt_endpoint(&mut self, service: &ServiceId, endpoint: &Endpoint) {
        for vip in &endpoint.virtual_ips {
            if let Some(ipam) = self.networks.get_mut(&vip.network_id) {
                ipam.take(vip.addr.ip);
            }
        }
        for port in endpoint.ports.iter().filter(|p| holds_published_port(p)) {
            self.ports.space(port.protocol).take(port.published_port);
        }
        self.services.insert(service.clone(), endpoint.clone());
    }

    fn release_endpoint_parts(&mut self, virtual_ips: &[VirtualIp], ports: &[PortConfig]) {
        for vip in virtual_ips {
            self.release_address(&vip.network_id, vip.addr.ip);
        }
        for port in ports.iter().filter(|p| holds_published_port(p)) {
            self.ports.space(port.protocol).release(port.published_port);
        }
    }

    // ----- tasks -----

    /// One merge pass over the store's tasks and the tasks holding addresses (both sorted by
    /// ID), so a round costs O(tasks) without a lookup per task.
    fn survey_tasks<'s>(&self, store: &'s Store) -> TaskSurvey<'s> {
        let mut survey = TaskSurvey::default();
        let mut holders = self.tasks.keys().peekable();
        for (id, task) in &store.tasks {
            // Holders sorting before this task are gone from the store.
            while let Some(gone) = holders.next_if(|h| *h < id) {
                survey.to_release.push(gone.clone());
            }
            let holds = holders.next_if(|h| *h == id).is_some();
            let wants_addresses = task.status.state == TaskState::New && task.desired_state <= TaskState::Complete;
            // A NEW task that holds addresses had its allocation skipped: start over.
            if holds && (holds_no_addresses(task, self.planted) || wants_addresses) {
                survey.to_release.push(id.clone());
            }
            if wants_addresses {
                survey.to_allocate.push(task);
            }
        }
        survey.to_release.extend(holders.cloned());
        survey
    }

    fn allocate_task(&mut self, task: &Task, service: &ReadyService, now: Instant, actions: &mut Vec<StoreAction>) {
        let mut taken: Vec<(NetworkId, Ipv4Addr)> = Vec::with_capacity(service.networks.len());
        let mut attachments = Vec::with_capacity(service.networks.len());
        for network_id in &service.networks {
            let Some(addr) = self.networks.get_mut(network_id).and_then(Ipam::allocate) else {
                // Exhausted subnet: undo, and the task stays NEW until addresses free up.
                for (network, ip) in taken {
                    self.release_address(&network, ip);
                }
                return;
            };
            taken.push((network_id.clone(), addr.ip));
            attachments.push(NetworkAttachment { network_id: network_id.clone(), addresses: vec![addr] });
        }
        debug_assert!(
            !self.tasks.contains_key(&task.id),
            "a task's old addresses are released before it gets new ones"
        );
        self.tasks.insert(task.id.clone(), taken);
        actions.push(StoreAction::AllocateTask {
            id: task.id.clone(),
            networks: attachments,
            host_ports: service.host_ports.clone(),
            at: now,
        });
    }

    fn adopt_task_addresses(&mut self, task: &Task) {
        let mut held = Vec::new();
        for attachment in &task.networks {
            let Some(ipam) = self.networks.get_mut(&attachment.network_id) else { continue };
            for addr in &attachment.addresses {
                if ipam.take(addr.ip) {
                    held.push((attachment.network_id.clone(), addr.ip));
                }
            }
        }
        if !held.is_empty() {
            self.tasks.insert(task.id.clone(), held);
        }
    }

    fn release_task(&mut self, id: &TaskId) {
        for (network, ip) in self.tasks.remove(id).unwrap_or_default() {
            self.release_address(&network, ip);
        }
    }

    fn release_address(&mut self, network: &NetworkId, ip: Ipv4Addr) {
        // The network may be gone, and its addresses with it.
        if let Some(ipam) = self.networks.get_mut(network) {
            let was_taken = ipam.release(ip);
            debug_assert!(was_taken, "{ip} on {network} released but not taken");
        }
    }
}

/// A task whose container is gone (observed past RUNNING) no longer holds its addresses.
fn holds_no_addresses(task: &Task, planted: crate::planted::Planted) -> bool {
    if planted.is(crate::planted::PlantedBug::AllocatorReusesFreedAddress) {
        // The planted bug: told to stop is taken for stopped, though the container still runs.
        return task.status.state.is_terminal() || task.desired_state > TaskState::Complete;
    }
    task.status.state.is_terminal()
}

/// An ingress-mode port with a number: the only kind the port spaces track.
fn holds_published_port(port: &PortConfig) -> bool {
    port.mode == PublishMode::Ingress && port.published_port != 0
}

fn holds_same_port(ports: &[PortConfig], port: &PortConfig) -> bool {
    ports.iter().any(|p| p.mode == port.mode && p.protocol == port.protocol && p.published_port == port.published_port)
}

/// Which of the service's earlier ports `wanted` can keep: one that fulfils it, or else one with
/// the same asked number (only the target changed), which the service must not conflict with.
fn reusable_port(held: &Endpoint, reused: &[bool], wanted: &PortConfig) -> Option<usize> {
    let unused = || held.ports.iter().enumerate().filter(|&(i, have)| !reused[i] && holds_published_port(have));
    let fulfilling = unused().find(|(_, have)| port_satisfies(have, wanted));
    let same_number = || {
        unused().find(|(_, have)| {
            wanted.published_port != 0
                && have.protocol == wanted.protocol
                && have.published_port == wanted.published_port
        })
    };
    fulfilling.or_else(same_number).map(|(i, _)| i)
}

/// The store's networks for `ids`, in order; `None` if one is missing or has no subnet.
fn resolve_networks<'s>(store: &'s Store, ids: &[NetworkId]) -> Option<Vec<&'s Network>> {
    ids.iter().map(|id| store.networks.get(id).filter(|n| n.subnet.is_some())).collect()
}

/// Whether an allocated port fulfils a spec port: same protocol, target and mode, the asked
/// published number if any, otherwise a picked one (ingress) or none (host).
fn port_satisfies(have: &PortConfig, wanted: &PortConfig) -> bool {
    let same_kind =
        have.protocol == wanted.protocol && have.target_port == wanted.target_port && have.mode == wanted.mode;
    let published_ok = match (wanted.published_port, wanted.mode) {
        (0, PublishMode::Ingress) => have.published_port != 0,
        (0, PublishMode::Host) => have.published_port == 0,
        (asked, _) => have.published_port == asked,
    };
    same_kind && published_ok
}

/// Whether the endpoint has one VIP per wanted network (in order) and the spec's ports.
fn endpoint_matches_spec(endpoint: &Endpoint, service: &Service, wanted: &[NetworkId]) -> bool {
    endpoint.virtual_ips.iter().map(|v| &v.network_id).eq(wanted.iter())
        && endpoint.ports.len() == service.spec.ports.len()
        && endpoint.ports.iter().zip(&service.spec.ports).all(|(have, want)| port_satisfies(have, want))
}

/// What a service's tasks get this round: an address on each network, its host-mode ports.
struct ReadyService {
    networks: Vec<NetworkId>,
    host_ports: Vec<PortConfig>,
}

impl ReadyService {
    fn new(networks: &[&Network], endpoint: &Endpoint) -> ReadyService {
        ReadyService {
            networks: networks.iter().map(|n| n.id.clone()).collect(),
            host_ports: endpoint.ports.iter().filter(|p| p.mode == PublishMode::Host).copied().collect(),
        }
    }
}

/// What an endpoint allocation newly took, to give back if it fails halfway.
#[derive(Default)]
struct Fresh {
    virtual_ips: Vec<VirtualIp>,
    ports: Vec<PortConfig>,
}

#[derive(Default)]
struct TaskSurvey<'s> {
    to_release: Vec<TaskId>,
    to_allocate: Vec<&'s Task>,
}

/// The addresses of one subnet: a bitmap by offset from the network address, set = taken.
/// The network address, gateway (.1) and broadcast are set from the start, as are the padding
/// bits past the broadcast, so a scan never has to special-case them.
#[derive(Clone, Debug)]
struct Ipam {
    subnet: Subnet,
    taken: Vec<u64>,
    /// Offsets in the subnet, the network address and broadcast included.
    size: u32,
    /// Free host addresses left: allocation fails in O(1) once the subnet is full.
    free: u32,
    /// Offset of the last address handed out; serial allocation continues after it.
    last: u32,
}

const GATEWAY_OFFSET: u32 = 1;

impl Ipam {
    fn new(subnet: Subnet) -> Ipam {
        let size = subnet.host_count() + 2;
        let words = size.div_ceil(64) as usize;
        let mut ipam = Ipam { subnet, taken: vec![0; words], size, free: size, last: GATEWAY_OFFSET };
        for offset in [0, GATEWAY_OFFSET, size - 1] {
            ipam.set(offset);
        }
        for offset in size..(words as u32 * 64) {
            ipam.taken[(offset / 64) as usize] |= 1 << (offset % 64);
        }
        ipam
    }

    fn offset_of(&self, ip: Ipv4Addr) -> Option<u32> {
        self.subnet.contains(ip).then(|| u32::from(ip) - u32::from(self.subnet.base))
    }

    fn is_reserved(&self, offset: u32) -> bool {
        offset == 0 || offset == GATEWAY_OFFSET || offset == self.size - 1
    }

    fn is_taken(&self, offset: u32) -> bool {
        self.taken[(offset / 64) as usize] & (1 << (offset % 64)) != 0
    }

    fn set(&mut self, offset: u32) {
        debug_assert!(!self.is_taken(offset), "offset {offset} in {} handed out twice", self.subnet);
        self.taken[(offset / 64) as usize] |= 1 << (offset % 64);
        self.free -= 1;
    }

    fn clear(&mut self, offset: u32) {
        debug_assert!(self.is_taken(offset));
        self.taken[(offset / 64) as usize] &= !(1 << (offset % 64));
        self.free += 1;
    }

    fn addr(&self, offset: u32) -> NetAddr {
        NetAddr { ip: Ipv4Addr::from(u32::from(self.subnet.base) + offset), prefix_len: self.subnet.prefix_len }
    }

    /// The next free address after the last one handed out, wrapping around.
    fn allocate(&mut self) -> Option<NetAddr> {
        if self.free == 0 {
            return None;
        }
        let offset = self.first_free_from((self.last + 1) % self.size);
        debug_assert!(offset.is_some(), "the free count says {} has room", self.subnet);
        let offset = offset?;
        debug_assert!(!self.is_reserved(offset));
        self.set(offset);
        self.last = offset;
        Some(self.addr(offset))
    }

    /// Scans a word at a time from `start`, wrapping once: O(1) amortised for serial use.
    fn first_free_from(&self, start: u32) -> Option<u32> {
        let start_word = (start / 64) as usize;
        let below_start = (1u64 << (start % 64)) - 1;
        let first = self.taken[start_word] | below_start;
        if first != u64::MAX {
            return Some(start_word as u32 * 64 + (!first).trailing_zeros());
        }
        let after = start_word + 1..self.taken.len();
        // Back at the start word, its bits below `start` are the last ones left.
        after
            .chain(0..=start_word)
            .find(|&w| self.taken[w] != u64::MAX)
            .map(|w| w as u32 * 64 + (!self.taken[w]).trailing_zeros())
    }

    /// Marks an address held elsewhere (found in the store); false if outside the subnet,
    /// reserved or already taken.
    fn take(&mut self, ip: Ipv4Addr) -> bool {
        match self.offset_of(ip) {
            Some(offset) if !self.is_reserved(offset) && !self.is_taken(offset) => {
                self.set(offset);
                true
            }
            _ => false,
        }
    }

    /// Frees an address; false if it was not taken.
    fn release(&mut self, ip: Ipv4Addr) -> bool {
        match self.offset_of(ip) {
            Some(offset) if !self.is_reserved(offset) && self.is_taken(offset) => {
                self.clear(offset);
                true
            }
            _ => false,
        }
    }

    fn taken_hosts(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        (0..self.size).filter(|&o| !self.is_reserved(o) && self.is_taken(o)).map(|o| self.addr(o).ip)
    }

    fn resume_after_highest_taken(&mut self) {
        self.last = (GATEWAY_OFFSET + 1..self.size - 1).rev().find(|&o| self.is_taken(o)).unwrap_or(GATEWAY_OFFSET);
    }
}

/// Published ports of one protocol. Only ingress-mode ports are tracked: they are open on
/// every node, so two services cannot share one.
#[derive(Clone, Debug, Default)]
struct PortSpace {
    taken: BTreeSet<u16>,
    /// The last port picked from the dynamic range; picking continues after it.
    last_dynamic: Option<u16>,
}

impl PortSpace {
    fn take(&mut self, port: u16) -> bool {
        self.taken.insert(port)
    }

    fn release(&mut self, port: u16) {
        let was_taken = self.taken.remove(&port);
        debug_assert!(was_taken, "port {port} released but not taken");
    }

    fn allocate_dynamic(&mut self) -> Option<u16> {
        let (first, end) = (*DYNAMIC_PORTS.start(), *DYNAMIC_PORTS.end());
        let start = match self.last_dynamic {
            Some(last) if last < end => last + 1,
            _ => first,
        };
        let port = (start..=end).chain(first..start).find(|p| !self.taken.contains(p))?;
        self.taken.insert(port);
        self.last_dynamic = Some(port);
        Some(port)
    }

    fn resume_after_highest_taken(&mut self) {
        self.last_dynamic = self.taken.range(DYNAMIC_PORTS).next_back().copied();
    }
}

#[derive(Clone, Debug, Default)]
struct PortSpaces {
    tcp: PortSpace,
    udp: PortSpace,
}

impl PortSpaces {
    fn space(&mut self, protocol: Protocol) -> &mut PortSpace {
        match protocol {
            Protocol::Tcp => &mut self.tcp,
            Protocol::Udp => &mut self.udp,
        }
    }

    fn in_use(&self) -> BTreeSet<(Protocol, u16)> {
        let tcp = self.tcp.taken.iter().map(|&p| (Protocol::Tcp, p));
        let udp = self.udp.taken.iter().map(|&p| (Protocol::Udp, p));
        tcp.chain(udp).collect()
    }

    fn resume_after_highest_taken(&mut self) {
        self.tcp.resume_after_highest_taken();
        self.udp.resume_after_highest_taken();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::*;
    use crate::test_support::apply_all;

    fn apply(store: &mut Store, actions: Vec<StoreAction>) {
        apply_all(store, actions);
    }

    fn network(id: &str, subnet: &str, ingress: bool) -> Network {
        Network {
            labels: Default::default(),
            attachable: false,
            id: NetworkId(id.into()),
            name: id.into(),
            driver: NetworkDriver::Overlay,
            scope: NetworkScope::Swarm,
            subnet: Some(Subnet::parse(subnet).unwrap()),
            ingress,
            created_at: Instant::ZERO,
        }
    }

    fn with_networks(nets: &[(&str, &str)]) -> Store {
        let mut store = Store::new();
        let mut actions = vec![StoreAction::CreateNetwork(network("ingress", "10.255.0.0/16", true))];
        actions.extend(nets.iter().map(|(id, subnet)| StoreAction::CreateNetwork(network(id, subnet, false))));
        apply(&mut store, actions);
        store
    }

    fn ingress_port(target: u16, published: u16) -> PortConfig {
        PortConfig {
            protocol: Protocol::Tcp,
            target_port: target,
            published_port: published,
            mode: PublishMode::Ingress,
        }
    }

    fn spec(name: &str, ports: Vec<PortConfig>, networks: &[&str]) -> ServiceSpec {
        ServiceSpec {
            labels: Default::default(),
            name: name.into(),
            mode: ServiceMode::Replicated { replicas: 1 },
            task: TaskTemplate {
                networks: networks.iter().map(|n| NetworkId(n.to_string())).collect(),
                ..TaskTemplate::for_image("nginx")
            },
            ports,
            update: None,
            rollback: None,
        }
    }

    fn add_service(store: &mut Store, name: &str, ports: Vec<PortConfig>, networks: &[&str]) {
        let svc = Service {
            id: ServiceId(name.into()),
            spec: spec(name, ports, networks),
            spec_version: 1,
            endpoint: None,
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
            update_status: None,
            previous_spec: None,
            job_status: None,
        };
        apply(store, vec![StoreAction::CreateService(svc)]);
    }

    fn add_new_task(store: &mut Store, id: &str, service: &str) {
        let svc = &store.services[&ServiceId(service.into())];
        let task = Task {
            id: TaskId(id.into()),
            service_id: svc.id.clone(),
            service_name: service.into(),
            slot: 1,
            node_id: None,
            spec: svc.spec.task.clone(),
            spec_version: 1,
            host_ports: vec![],
            desired_state: TaskState::Running,
            status: TaskStatus::new(TaskState::New, Instant::ZERO, "created"),
            networks: vec![],
            created_at: Instant::ZERO,
            job_iteration: None,
        };
        apply(store, vec![StoreAction::CreateTask(task)]);
    }

    fn set_state(store: &mut Store, id: &str, state: TaskState) {
        let status = TaskStatus::new(state, Instant(1), "");
        apply(store, vec![StoreAction::SetTaskStatus { id: TaskId(id.into()), status }]);
    }

    /// Runs a round and applies its actions, as the leader would once they commit.
    fn round(allocator: &mut Allocator, store: &mut Store) -> Vec<StoreAction> {
        let actions = allocator.allocate(store, Instant(1));
        apply(store, actions.clone());
        actions
    }

    fn vips(store: &Store, service: &str) -> Vec<(String, String)> {
        let endpoint = store.services[&ServiceId(service.into())].endpoint.clone().unwrap_or_default();
        endpoint.virtual_ips.iter().map(|v| (v.network_id.0.clone(), v.addr.to_string())).collect()
    }

    fn task_addrs(store: &Store, task: &str) -> Vec<String> {
        let task = &store.tasks[&TaskId(task.into())];
        task.networks.iter().flat_map(|a| a.addresses.iter().map(|x| x.to_string())).collect()
    }

    fn published(store: &Store, service: &str) -> Vec<u16> {
        let endpoint = store.services[&ServiceId(service.into())].endpoint.clone().unwrap_or_default();
        endpoint.ports.iter().map(|p| p.published_port).collect()
    }

    #[test]
    fn published_service_on_a_user_overlay_gets_vips_on_ingress_and_the_overlay() {
        let mut store = with_networks(&[("myswarm", "10.0.0.0/24")]);
        add_service(&mut store, "my-web", vec![ingress_port(80, 8000)], &["myswarm"]);
        add_new_task(&mut store, "t1", "my-web");
        add_new_task(&mut store, "t2", "my-web");
        let mut allocator = Allocator::new();
        round(&mut allocator, &mut store);
        assert_eq!(
            vips(&store, "my-web"),
            [("ingress".to_string(), "10.255.0.2/16".to_string()), ("myswarm".to_string(), "10.0.0.2/24".to_string())]
        );
        assert_eq!(published(&store, "my-web"), [8000]);
        assert_eq!(task_addrs(&store, "t1"), ["10.255.0.3/16", "10.0.0.3/24"]);
        assert_eq!(task_addrs(&store, "t2"), ["10.255.0.4/16", "10.0.0.4/24"]);
        assert!(store.tasks.values().all(|t| t.status.state == TaskState::Pending));
        assert!(round(&mut allocator, &mut store).is_empty(), "nothing left to do");
    }

    #[test]
    fn addresses_are_unique_across_services_and_tasks() {
        let mut store = with_networks(&[("net", "10.0.0.0/24")]);
        for s in ["a", "b", "c"] {
            add_service(&mut store, s, vec![ingress_port(80, 0)], &["net"]);
            for t in 0..5 {
                add_new_task(&mut store, &format!("{s}{t}"), s);
            }
        }
        let mut allocator = Allocator::new();
        round(&mut allocator, &mut store);
        let mut all: Vec<String> =
            store.services.keys().flat_map(|s| vips(&store, &s.0).into_iter().map(|(_, a)| a)).collect();
        all.extend(store.tasks.keys().flat_map(|t| task_addrs(&store, &t.0)));
        let unique: BTreeSet<&String> = all.iter().collect();
        assert_eq!(all.len(), 3 * 2 + 15 * 2);
        assert_eq!(unique.len(), all.len());
        assert_eq!(allocator.addresses_in_use().len(), all.len());
    }

    #[test]
    fn exhausted_subnet_leaves_the_task_new_until_an_address_is_released() {
        // A /29 has 6 hosts: the gateway, the VIP and 4 tasks.
        let mut store = with_networks(&[("small", "10.0.9.0/29")]);
        add_service(&mut store, "web", vec![], &["small"]);
        for t in 1..=5 {
            add_new_task(&mut store, &format!("t{t}"), "web");
        }
        let mut allocator = Allocator::new();
        round(&mut allocator, &mut store);
        assert_eq!(vips(&store, "web"), [("small".to_string(), "10.0.9.2/29".to_string())]);
        assert_eq!(task_addrs(&store, "t4"), ["10.0.9.6/29"]);
        assert_eq!(store.tasks[&TaskId("t5".into())].status.state, TaskState::New);

        set_state(&mut store, "t2", TaskState::Running);
        assert!(round(&mut allocator, &mut store).is_empty(), "a running task keeps its address");
        assert_eq!(store.tasks[&TaskId("t5".into())].status.state, TaskState::New);

        set_state(&mut store, "t2", TaskState::Failed);
        round(&mut allocator, &mut store);
        assert_eq!(task_addrs(&store, "t5"), ["10.0.9.4/29"]);
    }

    #[test]
    fn released_addresses_come_back_only_after_the_rest_of_the_subnet() {
        let mut store = with_networks(&[("net", "10.0.0.0/24")]);
        add_service(&mut store, "web", vec![], &["net"]);
        add_new_task(&mut store, "t1", "web");
        add_new_task(&mut store, "t2", "web");
        let mut allocator = Allocator::new();
        round(&mut allocator, &mut store);
        assert_eq!(task_addrs(&store, "t1"), ["10.0.0.3/24"]);
        apply(&mut store, vec![StoreAction::RemoveTask { id: TaskId("t1".into()) }]);
        add_new_task(&mut store, "t3", "web");
        round(&mut allocator, &mut store);
        assert_eq!(task_addrs(&store, "t3"), ["10.0.0.5/24"], "serial: after the last one handed out");
        assert!(!allocator.addresses_in_use().contains(&(NetworkId("net".into()), Ipv4Addr::new(10, 0, 0, 3))));
    }

    #[test]
    fn published_ports_without_a_number_come_from_the_dynamic_range() {
        let mut store = with_networks(&[]);
        add_service(&mut store, "a", vec![ingress_port(80, 0)], &[]);
        add_service(&mut store, "b", vec![ingress_port(80, 30001)], &[]);
        add_service(&mut store, "c", vec![ingress_port(80, 0), ingress_port(443, 0)], &[]);
        let host = PortConfig { protocol: Protocol::Tcp, target_port: 80, published_port: 0, mode: PublishMode::Host };
        add_service(&mut store, "d", vec![host], &[]);
        add_new_task(&mut store, "d1", "d");
        let mut allocator = Allocator::new();
        round(&mut allocator, &mut store);
        assert_eq!(published(&store, "a"), [30000]);
        assert_eq!(published(&store, "b"), [30001]);
        assert_eq!(published(&store, "c"), [30002, 30003]);
        assert_eq!(published(&store, "d"), [0], "host mode: the node picks the port");
        assert_eq!(store.tasks[&TaskId("d1".into())].host_ports, [host]);
        assert!(vips(&store, "d").is_empty(), "no ingress VIP without an ingress port");

        // Adding a port keeps the one already published and releases nothing.
        let new_spec = spec("a", vec![ingress_port(80, 0), ingress_port(8080, 0)], &[]);
        apply(
            &mut store,
            vec![StoreAction::UpdateServiceSpec { id: ServiceId("a".into()), spec: new_spec, at: Instant(2) }],
        );
        round(&mut allocator, &mut store);
        assert_eq!(published(&store, "a"), [30000, 30004]);

        // Removing the service frees its ports for others.
        apply(&mut store, vec![StoreAction::RemoveService { id: ServiceId("a".into()) }]);
        round(&mut allocator, &mut store);
        assert!(!allocator.published_ports_in_use().contains(&(Protocol::Tcp, 30000)));
        add_service(&mut store, "e", vec![ingress_port(80, 30000)], &[]);
        round(&mut allocator, &mut store);
        assert_eq!(published(&store, "e"), [30000]);
    }

    #[test]
    fn a_taken_published_port_blocks_only_the_service_asking_for_it() {
        let mut store = with_networks(&[]);
        add_service(&mut store, "a", vec![ingress_port(80, 8080)], &[]);
        add_service(&mut store, "b", vec![ingress_port(81, 8080)], &[]);
        add_new_task(&mut store, "b1", "b");
        let mut allocator = Allocator::new();
        round(&mut allocator, &mut store);
        assert_eq!(published(&store, "a"), [8080]);
        assert!(store.services[&ServiceId("b".into())].endpoint.is_none());
        assert_eq!(store.tasks[&TaskId("b1".into())].status.state, TaskState::New);
        // A service may retarget its own port.
        let retarget = spec("a", vec![ingress_port(8000, 8080)], &[]);
        apply(
            &mut store,
            vec![StoreAction::UpdateServiceSpec { id: ServiceId("a".into()), spec: retarget, at: Instant(2) }],
        );
        round(&mut allocator, &mut store);
        assert_eq!(store.services[&ServiceId("a".into())].endpoint.as_ref().unwrap().ports[0].target_port, 8000);
    }

    #[test]
    fn changed_networks_keep_remaining_vips_and_release_dropped_ones() {
        let mut store = with_networks(&[("n1", "10.0.0.0/24"), ("n2", "10.0.1.0/24")]);
        add_service(&mut store, "web", vec![ingress_port(80, 0)], &["n1"]);
        let mut allocator = Allocator::new();
        round(&mut allocator, &mut store);
        let moved = spec("web", vec![], &["n1", "n2"]);
        apply(
            &mut store,
            vec![StoreAction::UpdateServiceSpec { id: ServiceId("web".into()), spec: moved, at: Instant(2) }],
        );
        round(&mut allocator, &mut store);
        assert_eq!(
            vips(&store, "web"),
            [("n1".to_string(), "10.0.0.2/24".to_string()), ("n2".to_string(), "10.0.1.2/24".to_string())]
        );
        let in_use = allocator.addresses_in_use();
        assert!(!in_use.iter().any(|(net, _)| net.0 == "ingress"), "the ingress VIP went with the port");
        assert!(allocator.published_ports_in_use().is_empty());
    }

    #[test]
    fn missing_network_holds_back_the_service_and_its_tasks() {
        let mut store = with_networks(&[]);
        add_service(&mut store, "web", vec![], &["nowhere"]);
        add_new_task(&mut store, "t1", "web");
        let mut allocator = Allocator::new();
        assert!(round(&mut allocator, &mut store).is_empty());
        apply(&mut store, vec![StoreAction::CreateNetwork(network("nowhere", "10.0.3.0/24", false))]);
        round(&mut allocator, &mut store);
        assert_eq!(task_addrs(&store, "t1"), ["10.0.3.3/24"]);
    }

    #[test]
    fn rebuild_from_the_store_reproduces_the_in_use_sets() {
        let mut store = with_networks(&[("net", "10.0.0.0/24")]);
        add_service(&mut store, "web", vec![ingress_port(80, 0)], &["net"]);
        add_service(&mut store, "db", vec![ingress_port(5432, 5432)], &["net"]);
        for t in 1..=4 {
            add_new_task(&mut store, &format!("w{t}"), "web");
        }
        let mut allocator = Allocator::new();
        round(&mut allocator, &mut store);
        set_state(&mut store, "w2", TaskState::Failed);
        round(&mut allocator, &mut store);

        let mut rebuilt = Allocator::new();
        rebuilt.rebuild(&store);
        assert_eq!(rebuilt.addresses_in_use(), allocator.addresses_in_use());
        assert_eq!(rebuilt.published_ports_in_use(), allocator.published_ports_in_use());
        assert_eq!(rebuilt.addresses_in_use().len(), 2 * 2 + 3 * 2);

        // The rebuilt allocator continues without handing out anything twice.
        add_new_task(&mut store, "w5", "web");
        add_service(&mut store, "api", vec![ingress_port(80, 0)], &[]);
        round(&mut rebuilt, &mut store);
        // Services go first in a round: api's VIP takes 10.255.0.8.
        assert_eq!(vips(&store, "api"), [("ingress".to_string(), "10.255.0.8/16".to_string())]);
        assert_eq!(task_addrs(&store, "w5"), ["10.255.0.9/16", "10.0.0.8/24"]);
        assert_eq!(published(&store, "api"), [30001]);
    }

    #[test]
    fn next_overlay_subnet_skips_used_ones() {
        let mut store = with_networks(&[]);
        assert_eq!(Allocator::next_overlay_subnet(&store).unwrap().to_string(), "10.0.0.0/24");
        apply(
            &mut store,
            vec![
                StoreAction::CreateNetwork(network("a", "10.0.0.0/24", false)),
                StoreAction::CreateNetwork(network("b", "10.0.1.0/24", false)),
            ],
        );
        assert_eq!(Allocator::next_overlay_subnet(&store).unwrap().to_string(), "10.0.2.0/24");
        apply(&mut store, vec![StoreAction::RemoveNetwork { id: NetworkId("a".into()) }]);
        assert_eq!(Allocator::next_overlay_subnet(&store).unwrap().to_string(), "10.0.0.0/24");
    }

    #[test]
    fn ipam_wraps_around_and_never_hands_out_reserved_addresses() {
        let mut ipam = Ipam::new(Subnet::parse("10.0.0.0/30").unwrap());
        // A /30: network .0, gateway .1, one host .2, broadcast .3.
        assert_eq!(ipam.allocate().map(|a| a.to_string()), Some("10.0.0.2/30".to_string()));
        assert_eq!(ipam.allocate(), None);
        assert!(ipam.release(Ipv4Addr::new(10, 0, 0, 2)));
        assert!(!ipam.release(Ipv4Addr::new(10, 0, 0, 1)), "the gateway is never released");
        assert_eq!(ipam.allocate().map(|a| a.ip), Some(Ipv4Addr::new(10, 0, 0, 2)));

        let mut big = Ipam::new(Subnet::parse("10.255.0.0/16").unwrap());
        let first: Vec<Ipv4Addr> = (0..65533).map(|_| big.allocate().unwrap().ip).collect();
        assert_eq!(first[0], Ipv4Addr::new(10, 255, 0, 2));
        assert_eq!(*first.last().unwrap(), Ipv4Addr::new(10, 255, 255, 254));
        assert_eq!(big.allocate(), None);
        big.release(Ipv4Addr::new(10, 255, 1, 7));
        big.release(Ipv4Addr::new(10, 255, 0, 9));
        assert_eq!(big.allocate().map(|a| a.ip), Some(Ipv4Addr::new(10, 255, 0, 9)), "wrapped to the lowest free");
        assert_eq!(big.allocate().map(|a| a.ip), Some(Ipv4Addr::new(10, 255, 1, 7)));
    }
}
