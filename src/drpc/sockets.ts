/**
 * Opening SEQPACKET sockets on a filesystem path: listen (with DAOS's rule for a path that already
 * exists), accept and dial. All fds are non-blocking and close-on-exec.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_SEQPACKET, SyscallError, errno, loadLibc, sockaddrUn } from './libc.js';

/** A live server answers on the path: it is never stolen. */
export class SocketFileInUseError extends Error {
  readonly code = 'SOCKET_FILE_IN_USE';
  readonly path: string;
  constructor(path: string) {
    super(`socket file in use: ${path} (another dRPC server answers on it; configure a different path or stop that server)`);
    this.path = path;
  }
}

function seqpacketFd(): number {
  const c = loadLibc();
  const fd = c.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError('socket', c.errno());
  return fd;
}

/** Connects a new socket to `path`; returns the fd, or the errno of the failed connect. */
export function dialSeqpacket(path: string): { fd: number } | { errno: number } {
  const c = loadLibc();
  const addr = sockaddrUn(path);
  const fd = seqpacketFd();
  if (c.connect(fd, addr, addr.length) === 0) return { fd };
  const e = c.errno();
  c.close(fd);
  return { errno: e };
}

/**
 * DAOS's stale-socket rule: dial the path first. Answered → refuse ("socket file in use");
 * ECONNREFUSED (a file nobody listens on, left by a dead process, or not a socket at all) → unlink it;
 * ENOENT → nothing to do. Any other error (EACCES, EPROTOTYPE for a stream socket …) is returned.
 */
export function clearStaleSocket(path: string): void {
  const r = dialSeqpacket(path);
  if ('fd' in r) {
    loadLibc().close(r.fd);
    throw new SocketFileInUseError(path);
  }
  // A full backlog (EAGAIN) means a live server, too.
  if (r.errno === errno.EAGAIN) throw new SocketFileInUseError(path);
  if (r.errno === errno.ENOENT) return;
  if (r.errno === errno.ECONNREFUSED) {
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`unlink old socket file ${path}: ${(err as Error).message}`, { cause: err });
    }
    return;
  }
  throw new SyscallError('connect', r.errno, path);
}

/**
 * Binds and listens on `path` with the file mode set before listen(), so no peer can connect while
 * the file still has the umask's mode. Returns the listening fd.
 */
export function listenSeqpacket(path: string, mode: number, backlog: number): number {
  const c = loadLibc();
  clearStaleSocket(path);
  const addr = sockaddrUn(path);
  const fd = seqpacketFd();
  const fail = (syscall: string, e: number): never => {
    c.close(fd);
    throw new SyscallError(syscall, e, path);
  };
  if (c.bind(fd, addr, addr.length) !== 0) fail('bind', c.errno());
  try {
    chmodSync(path, mode);
  } catch (err) {
    c.close(fd);
    try {
      unlinkSync(path);
    } catch {
      // best effort: the file is ours, just bound
    }
    throw new Error(`unable to set mode ${mode.toString(8)} on ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (c.listen(fd, backlog) !== 0) {
    const e = c.errno();
    try {
      unlinkSync(path);
    } catch {
      // best effort
    }
    fail('listen', e);
  }
  return fd;
}

/** accept4 of one pending connection: the fd, null when none is pending, or the errno. */
export function acceptSeqpacket(listenFd: number): { fd: number } | { errno: number } | null {
  const c = loadLibc();
  const fd = c.accept4(listenFd, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) return { fd };
  const e = c.errno();
  if (e === errno.EAGAIN || e === errno.EINTR) return null;
  return { errno: e };
}
