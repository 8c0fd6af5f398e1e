#!/usr/bin/python3
"""A FUSE filesystem with one regular file, `slow`, whose every read takes
DELAY seconds: a hung NFS mount or a 1-wire sensor, for the custom-page
tests. Usage: slow_fs.py MOUNTPOINT DELAY (foreground; unmount to stop)."""

import errno
import stat
import sys
import time

import fusepy

TEXT = b"slow file text\n"


class SlowFile(fusepy.Operations):
    def __init__(self, delay):
        self.delay = delay

    def getattr(self, path, fh=None):
        if path == "/":
            return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2)
        if path == "/slow":
            return dict(st_mode=stat.S_IFREG | 0o444, st_nlink=1, st_size=len(TEXT))
        raise fusepy.FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", "slow"]

    def read(self, path, size, offset, fh):
        time.sleep(self.delay)
        return TEXT[offset : offset + size]


if __name__ == "__main__":
    fusepy.FUSE(SlowFile(float(sys.argv[2])), sys.argv[1], foreground=True, direct_io=True)
