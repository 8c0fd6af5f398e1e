//! The machine's IPv4 addresses and which one the info page shows, read
//! with getifaddrs(3) and /proc/net/route: answered by the kernel at once,
//! on the calling thread (no helper thread, no network).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// Interfaces the network page leaves out: loopback, containers, bridges.
pub(crate) fn is_virtual_interface(name: &str) -> bool {
    const PREFIXES: [&str; 8] = [
        "lo", "docker", "veth", "br-", "virbr", "cni", "flannel", "vxlan",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix))
        || Path::new("/sys/class/net")
            .join(name)
            .join("bridge")
            .exists()
}

/// What the pages show of the network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Addresses {
    /// The info page's address.
    pub shown: Option<IpAddr>,
    /// Every IPv4 address of a real interface, sorted (the network page).
    pub interfaces: Vec<(String, IpAddr)>,
}

/// Reads the addresses now. `interface` names the interface whose address
/// the info page shows; empty: the default route's.
pub fn read(interface: &str) -> Addresses {
    let all = ipv4_addresses();
    let routes = if interface.is_empty() {
        std::fs::read_to_string("/proc/net/route").unwrap_or_default()
    } else {
        String::new()
    };
    choose(
        interface,
        default_route_interface(&routes).as_deref(),
        &all,
        is_virtual_interface,
    )
}

/// Every IPv4 address with its interface, in the kernel's order (an
/// interface's primary address first).
fn ipv4_addresses() -> Vec<(String, Ipv4Addr)> {
    let Ok(addresses) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addresses
        .filter_map(|a| {
            let ip = a.address?.as_sockaddr_in()?.ip();
            Some((a.interface_name, ip))
        })
        .collect()
}

/// The pages' addresses among `all`: the info page shows the first address
/// of `interface` when one is configured; otherwise that of the default
/// route's interface, else the first of an interface that is not virtual.
pub(crate) fn choose(
    interface: &str,
    default_route: Option<&str>,
    all: &[(String, Ipv4Addr)],
    is_virtual: impl Fn(&str) -> bool,
) -> Addresses {
    let first_of = |name: &str| all.iter().find(|(n, _)| n == name).map(|(_, ip)| *ip);
    let shown = if interface.is_empty() {
        default_route
            .and_then(first_of)
            .or_else(|| all.iter().find(|(n, _)| !is_virtual(n)).map(|(_, ip)| *ip))
    } else {
        first_of(interface)
    };
    let mut interfaces: Vec<(String, IpAddr)> = all
        .iter()
        .filter(|(name, _)| !is_virtual(name))
        .map(|(name, ip)| (name.clone(), IpAddr::V4(*ip)))
        .collect();
    interfaces.sort();
    Addresses {
        shown: shown.map(IpAddr::V4),
        interfaces,
    }
}

/// The interface of the IPv4 default route with the lowest metric, from
/// the text of /proc/net/route.
pub(crate) fn default_route_interface(routes: &str) -> Option<String> {
    const ROUTE_UP: u32 = 0x1;
    routes
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [name, destination, _gateway, flags, _refs, _use, metric, mask, ..] = fields[..]
            else {
                return None;
            };
            let flags = u32::from_str_radix(flags, 16).ok()?;
            let default = destination == "00000000" && mask == "00000000";
            (default && flags & ROUTE_UP != 0).then(|| (metric.parse::<u32>().ok(), name))
        })
        .min_by_key(|&(metric, _)| metric.unwrap_or(u32::MAX))
        .map(|(_, name)| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_and_bridges_are_left_out() {
        for name in ["lo", "docker0", "veth12ab", "br-1234", "virbr0"] {
            assert!(is_virtual_interface(name), "{name}");
        }
        for name in ["eth0", "wlan0", "end0"] {
            assert!(!is_virtual_interface(name), "{name}");
        }
    }

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    /// A Pi on a docker host: loopback, docker's bridge before the wire.
    fn docker_host() -> Vec<(String, Ipv4Addr)> {
        vec![
            ("lo".into(), ip("127.0.0.1")),
            ("docker0".into(), ip("172.17.0.1")),
            ("wlan0".into(), ip("192.168.5.20")),
            ("eth0".into(), ip("192.168.1.42")),
            ("eth0".into(), ip("192.168.1.43")),
        ]
    }

    fn virtual_by_name(name: &str) -> bool {
        ["lo", "docker"].iter().any(|p| name.starts_with(p))
    }

    #[test]
    fn the_configured_interface_shows_its_first_address() {
        let a = choose("wlan0", Some("eth0"), &docker_host(), virtual_by_name);
        assert_eq!(a.shown, Some(IpAddr::V4(ip("192.168.5.20"))));
        // even a virtual one, when asked for by name
        let a = choose("docker0", None, &docker_host(), virtual_by_name);
        assert_eq!(a.shown, Some(IpAddr::V4(ip("172.17.0.1"))));
        let a = choose("wlan9", Some("eth0"), &docker_host(), virtual_by_name);
        assert_eq!(a.shown, None, "a missing interface shows no address");
    }

    #[test]
    fn without_an_interface_the_default_route_chooses() {
        let a = choose("", Some("eth0"), &docker_host(), virtual_by_name);
        assert_eq!(a.shown, Some(IpAddr::V4(ip("192.168.1.42"))));
        // no default route: the first real interface, never docker's bridge
        let a = choose("", None, &docker_host(), virtual_by_name);
        assert_eq!(a.shown, Some(IpAddr::V4(ip("192.168.5.20"))));
        let only_virtual = &docker_host()[..2];
        assert_eq!(choose("", None, only_virtual, virtual_by_name).shown, None);
    }

    #[test]
    fn the_network_page_lists_real_interfaces_sorted() {
        let a = choose("", None, &docker_host(), virtual_by_name);
        let names: Vec<String> = a
            .interfaces
            .iter()
            .map(|(name, ip)| format!("{name} {ip}"))
            .collect();
        assert_eq!(
            names,
            [
                "eth0 192.168.1.42",
                "eth0 192.168.1.43",
                "wlan0 192.168.5.20"
            ]
        );
    }

    #[test]
    fn the_default_route_with_the_lowest_metric_wins() {
        let routes = "\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
wlan0\t00000000\t0105A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
";
        assert_eq!(default_route_interface(routes).as_deref(), Some("eth0"));
        let down = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
                    eth0\t00000000\t0101A8C0\t0002\t0\t0\t100\t00000000\n";
        assert_eq!(default_route_interface(down), None, "a route that is down");
        assert_eq!(default_route_interface(""), None);
        assert_eq!(default_route_interface("Iface\nshort line\n"), None);
    }
}
