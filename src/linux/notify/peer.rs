//! Who is at the other end of an accepted connection, as the kernel recorded
//! it at connect(2): the user and group (`SO_PEERCRED`) and the supplementary
//! groups (`SO_PEERGROUPS`). No user database is asked: NSS may sit on LDAP
//! or sssd and block the loop.

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::libc;

/// The sender's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Peer {
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// The supplementary groups.
    pub groups: Vec<u32>,
}

// (not in the libc crate for Linux; 59 on every architecture but SPARC's)
#[cfg(not(any(target_arch = "sparc", target_arch = "sparc64")))]
const SO_PEERGROUPS: libc::c_int = 59;
#[cfg(any(target_arch = "sparc", target_arch = "sparc64"))]
const SO_PEERGROUPS: libc::c_int = 0x3d;
/// The kernel's own bound on supplementary groups (NGROUPS_MAX).
const MOST_GROUPS: usize = 65_536;

/// The identity of the process that connected `connection`.
pub(crate) fn peer(connection: BorrowedFd<'_>) -> std::io::Result<Peer> {
    let creds = rustix::net::sockopt::socket_peercred(connection)?;
    Ok(Peer {
        uid: creds.uid.as_raw(),
        gid: creds.gid.as_raw(),
        groups: peer_groups(connection, 32)?,
    })
}

/// `getsockopt(SO_PEERGROUPS)` (neither rustix nor nix has it), with room
/// for `room` groups at first and as many as the kernel asks for then.
#[allow(unsafe_code)]
fn peer_groups(connection: BorrowedFd<'_>, room: usize) -> std::io::Result<Vec<u32>> {
    const GID: usize = std::mem::size_of::<libc::gid_t>();
    let mut groups: Vec<libc::gid_t> = vec![0; room];
    loop {
        let mut length = libc::socklen_t::try_from(groups.len() * GID)
            .map_err(|_| std::io::Error::from_raw_os_error(libc::ERANGE))?;
        // SAFETY: `groups` has room for `length` bytes; the kernel writes at
        // most that many and sets `length` to what it wrote, or to what it
        // needs when it returns ERANGE.
        let result = unsafe {
            libc::getsockopt(
                connection.as_raw_fd(),
                libc::SOL_SOCKET,
                SO_PEERGROUPS,
                groups.as_mut_ptr().cast(),
                &mut length,
            )
        };
        let needed = length as usize / GID;
        if result == 0 {
            groups.truncate(needed);
            return Ok(groups);
        }
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::ERANGE)
            && needed > groups.len()
            && needed <= MOST_GROUPS
        {
            groups.resize(needed, 0);
            continue;
        }
        return Err(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn the_kernel_tells_who_connected_with_every_group() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let peer = peer(ours.as_fd()).unwrap();
        drop(theirs);
        assert_eq!(peer.uid, nix::unistd::Uid::effective().as_raw());
        assert_eq!(peer.gid, nix::unistd::Gid::effective().as_raw());
        let mut expected: Vec<u32> = nix::unistd::getgroups()
            .unwrap()
            .into_iter()
            .map(|g| g.as_raw())
            .collect();
        let mut groups = peer.groups.clone();
        expected.sort_unstable();
        groups.sort_unstable();
        assert_eq!(groups, expected);
        // (no room at first: the kernel says how much it needs)
        let mut again = peer_groups(ours.as_fd(), 0).unwrap();
        again.sort_unstable();
        assert_eq!(again, expected);
    }
}
