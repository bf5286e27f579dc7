# SPDX-License-Identifier: MIT
"""Small tmpfs mounts for the disk-full faults: the dispatcher's database
and each agent's state directory live on one, which a filler file fills to
the last byte and gives back. Mounting needs root; `available()` says
whether this machine allows it."""

import atexit
import os
import shutil
import subprocess
import tempfile

FILLER = ".filler"
_LIVE = []


def _run(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def available():
    """(True, "") when a tmpfs can be mounted here, else (False, why)."""
    if os.geteuid() != 0:
        return False, "mounting a tmpfs needs root"
    d = tempfile.mkdtemp(prefix="cmdbus-faults-mnt-")
    try:
        r = _run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d])
        if r.returncode != 0:
            return False, "cannot mount a tmpfs: %s" % (
                r.stderr.decode(errors="replace").strip())
        _run(["umount", d])
        return True, ""
    finally:
        shutil.rmtree(d, ignore_errors=True)


class Tmpfs:
    """One tmpfs of `size_mb` at `path` (created)."""

    def __init__(self, path, size_mb):
        self.path = path
        self.size_mb = size_mb
        self.mounted = False

    def mount(self):
        self.path.mkdir(parents=True, exist_ok=True)
        r = _run(["mount", "-t", "tmpfs", "-o",
                  "size=%dm,mode=0700" % self.size_mb, "tmpfs",
                  str(self.path)])
        if r.returncode != 0:
            raise RuntimeError("mount tmpfs on %s: %s" % (
                self.path, r.stderr.decode(errors="replace").strip()))
        self.mounted = True
        _LIVE.append(self)
        return self

    def free_bytes(self):
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def fill(self):
        """Fills the file system with a filler file until a write fails
        with ENOSPC; returns the bytes it took. Unbuffered, so that no
        failed write is left behind to fail again at close."""
        path = self.path / FILLER
        total = 0
        with open(path, "ab", buffering=0) as f:
            # Most of it at once, then page by page to the last one.
            bulk = self.free_bytes() - (1 << 20)
            if bulk > 0:
                try:
                    os.posix_fallocate(f.fileno(), 0, bulk)
                    total = bulk
                    f.seek(0, os.SEEK_END)
                except OSError:
                    pass
            for chunk in (65536, 4096):
                block = b"\0" * chunk
                # Bounded: the rest of the room is at most what statvfs
                # said, in chunks.
                for _ in range(self.free_bytes() // chunk + 2):
                    try:
                        total += f.write(block)
                    except OSError:
                        break
        return total

    def release(self):
        """Gives the space back."""
        try:
            (self.path / FILLER).unlink()
        except FileNotFoundError:
            pass

    def unmount(self, save_to=None):
        """Unmounts; with save_to, copies what it holds there first (the
        evidence of a failed run outlives the mount)."""
        if not self.mounted:
            return
        if save_to is not None:
            self.release()
            shutil.copytree(self.path, save_to, dirs_exist_ok=True)
        r = _run(["umount", str(self.path)])
        if r.returncode != 0:
            _run(["umount", "-l", str(self.path)])
        self.mounted = False
        if self in _LIVE:
            _LIVE.remove(self)


def unmount_all():
    for m in list(_LIVE):
        m.unmount()


atexit.register(unmount_all)
