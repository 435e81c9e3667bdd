/**
 * One listening fd per worker for the same TCP port (SO_REUSEPORT), so the kernel spreads connections
 * and one worker's close or crash never touches another's listener.
 *
 * Node ≥ 22.12 (and ≥ 23.1) has `listen({reusePort: true})`. Node 20 silently ignores that option, so
 * there the socket is made through libc with koffi: socket → setsockopt(SO_REUSEADDR, SO_REUSEPORT) →
 * bind → listen, and the fd is handed to `server.listen({fd})`, which then owns (and closes) it.
 * Never share one fd number between threads: measured, one thread's close closed the listener for all
 * and the fd's reuse then aborted the process.
 */
import { endianness } from 'node:os';
import { constants as osConstants } from 'node:os';
import { createRequire } from 'node:module';
import net from 'node:net';

export type ReusePortMode = 'native' | 'ffi';

/** Detected once per thread. */
export const nativeReusePort: boolean = (() => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
})();

// Linux values (x86_64 and aarch64); other platforms refuse the FFI path with a clear error.
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_REUSEPORT = 15;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  listen(fd: number, backlog: number): number;
  close(fd: number): number;
  errno(): number;
}

let libc: Libc | null = null;

function loadLibc(): Libc {
  if (libc !== null) return libc;
  if (process.platform !== 'linux') {
    throw new Error(`SO_REUSEPORT through FFI is implemented for Linux only (platform ${process.platform}); use Node >= 22.12`);
  }
  // koffi is CommonJS with a native part: loaded on first use only, so Node >= 22.12 never pays for it.
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as {
    load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
    errno(): number;
  };
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int, int, int)');
  const setsockopt = lib.func('int setsockopt(int, int, int, const void *, uint32_t)');
  const bind = lib.func('int bind(int, const void *, uint32_t)');
  const listen = lib.func('int listen(int, int)');
  const close = lib.func('int close(int)');
  libc = {
    socket: (d, t, p) => socket(d, t, p) as number,
    setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len) as number,
    bind: (fd, addr, len) => bind(fd, addr, len) as number,
    listen: (fd, backlog) => listen(fd, backlog) as number,
    close: (fd) => close(fd) as number,
    errno: () => koffi.errno(),
  };
  return libc;
}

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** An error shaped like Node's listen errors (code, syscall, address, port). */
export class ListenError extends Error {
  readonly code: string;
  readonly syscall: string;

  constructor(syscall: string, errno: number, host: string, port: number) {
    const code = errnoNames.get(errno) ?? `errno ${errno}`;
    super(`${syscall} ${code} ${host}:${port}`);
    this.code = code;
    this.syscall = syscall;
  }
}

function sockaddr(host: string, port: number): { family: number; addr: Buffer } {
  const le = endianness() === 'LE';
  if (net.isIPv4(host)) {
    const addr = Buffer.alloc(16);
    if (le) addr.writeUInt16LE(AF_INET, 0);
    else addr.writeUInt16BE(AF_INET, 0);
    addr.writeUInt16BE(port, 2); // network byte order
    const parts = host.split('.').map(Number);
    for (let i = 0; i < 4; i++) addr[4 + i] = parts[i]!;
    return { family: AF_INET, addr };
  }
  if (net.isIPv6(host)) {
    const addr = Buffer.alloc(28);
    if (le) addr.writeUInt16LE(AF_INET6, 0);
    else addr.writeUInt16BE(AF_INET6, 0);
    addr.writeUInt16BE(port, 2);
    ipv6Bytes(host).copy(addr, 8);
    return { family: AF_INET6, addr };
  }
  throw new Error(`not a numeric IP address: ${host}`);
}

function ipv6Bytes(host: string): Buffer {
  const out = Buffer.alloc(16);
  let text = host;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const p = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i] ?? '0', 16), i * 2);
  return out;
}

/**
 * Creates, binds and listens a SO_REUSEPORT TCP socket on a numeric host; returns the fd for
 * `server.listen({fd})`. Throws a ListenError (EADDRINUSE, EACCES, ...) and closes the fd on failure.
 */
export function reusePortSocket(host: string, port: number, backlog: number): number {
  const c = loadLibc();
  const { family, addr } = sockaddr(host, port);
  const fd = c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new ListenError('socket', c.errno(), host, port);
  const one = Buffer.alloc(4);
  one.writeInt32LE(1, 0);
  const zero = Buffer.alloc(4);
  const fail = (syscall: string): never => {
    const e = c.errno();
    c.close(fd);
    throw new ListenError(syscall, e, host, port);
  };
  if (c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4) !== 0) fail('setsockopt');
  if (c.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, one, 4) !== 0) fail('setsockopt');
  // '::' listens dual-stack, as Node does.
  if (family === AF_INET6 && c.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, zero, 4) !== 0) fail('setsockopt');
  if (c.bind(fd, addr, addr.length) !== 0) fail('bind');
  if (c.listen(fd, backlog) !== 0) fail('listen');
  return fd;
}
