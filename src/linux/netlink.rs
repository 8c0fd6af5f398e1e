//! The kernel's word that the machine's addresses or routes changed: an
//! rtnetlink socket subscribed to those changes, so that the address shown
//! is read again only when it may differ, never at each refresh.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{
    bind, recv, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag,
    SockProtocol, SockType,
};

/// The change notices that can alter what the pages show: IPv4 addresses
/// (the pages show IPv4 only), IPv4 routes (the default route picks the
/// address of the info page) and links (an interface renamed or removed).
/// IPv6 changes are left out: privacy addresses come and go for ever and
/// never change what is shown.
const GROUPS: u32 = (libc::RTMGRP_IPV4_IFADDR | libc::RTMGRP_IPV4_ROUTE | libc::RTMGRP_LINK) as u32;

/// The socket's receive buffer. Only "something changed" matters, not what:
/// while nobody looks (the screen off) notices pile up to this many bytes,
/// then the kernel drops them and says so, which counts as a change too.
const RECEIVE_BUFFER: usize = 4096;

/// An rtnetlink socket that becomes readable when an IPv4 address, an IPv4
/// route or a link changes. Never blocks.
pub(crate) struct AddressChanges {
    socket: OwnedFd,
}

impl AddressChanges {
    /// Subscribes to the changes. Fails where netlink is not allowed (a
    /// sandbox without AF_NETLINK in `RestrictAddressFamilies=`).
    pub(crate) fn subscribe() -> io::Result<AddressChanges> {
        let socket = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )?;
        setsockopt(&socket, sockopt::RcvBuf, &RECEIVE_BUFFER)?;
        bind(socket.as_raw_fd(), &NetlinkAddr::new(0, GROUPS))?;
        Ok(AddressChanges { socket })
    }

    /// Reads every notice queued, without waiting; true when there was at
    /// least one (or the kernel dropped some because nobody read them).
    pub fn drain(&mut self) -> bool {
        let mut buffer = [0u8; RECEIVE_BUFFER];
        let mut changed = false;
        loop {
            match recv(self.socket.as_raw_fd(), &mut buffer, MsgFlags::MSG_DONTWAIT) {
                Ok(0) => return changed,
                Ok(_) | Err(Errno::ENOBUFS) => changed = true,
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return changed,
                // a socket that fails for good would otherwise hide changes
                Err(_) => return true,
            }
        }
    }
}
