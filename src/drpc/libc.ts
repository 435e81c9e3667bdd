/**
 * The libc calls dRPC needs, bound through koffi: Node's `net` cannot open SOCK_SEQPACKET sockets, and
 * libuv's stream reads would cut a 128 KiB packet into its 64 KiB read buffer (a SEQPACKET read that is
 * shorter than the packet drops the rest), so message boundaries would be lost.
 *
 * Every socket is non-blocking; the only call that waits is poll(), on the reactor's own poll thread
 * (src/drpc/reactor.ts). Linux only (x86_64 and aarch64 share these constants).
 */
import { createRequire } from 'node:module';
import { constants as osConstants, endianness } from 'node:os';

export const AF_UNIX = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;
export const MSG_TRUNC = 0x20;
export const MSG_NOSIGNAL = 0x4000;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
/** sun_path is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export const errno = osConstants.errno;
const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

export function errnoName(n: number): string {
  return errnoNames.get(n) ?? `errno ${n}`;
}

/** A failed system call, shaped like Node's errors (code, syscall, path). */
export class SyscallError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;

  constructor(syscall: string, errnoValue: number, path?: string) {
    const code = errnoName(errnoValue);
    super(`${syscall} ${code}${path === undefined ? '' : ` ${path}`}`);
    this.code = code;
    this.errno = errnoValue;
    this.syscall = syscall;
  }
}

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number, flags: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
  eventfd(initval: number, flags: number): number;
  write(fd: number, buf: Buffer, len: number): number;
  read(fd: number, buf: Buffer, len: number): number;
  errno(): number;
}

let libc: Libc | null = null;

export function loadLibc(): Libc {
  if (libc !== null) return libc;
  if (process.platform !== 'linux') throw new Error(`dRPC (SOCK_SEQPACKET through libc) is implemented for Linux only (platform ${process.platform})`);
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as {
    load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
    errno(): number;
  };
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int, int, int)');
  const bind = lib.func('int bind(int, const void *, uint32_t)');
  const listen = lib.func('int listen(int, int)');
  const accept4 = lib.func('int accept4(int, void *, void *, int)');
  const connect = lib.func('int connect(int, const void *, uint32_t)');
  const recv = lib.func('intptr_t recv(int, void *, uintptr_t, int)');
  const send = lib.func('intptr_t send(int, const void *, uintptr_t, int)');
  const close = lib.func('int close(int)');
  const eventfd = lib.func('int eventfd(unsigned int, int)');
  const write = lib.func('intptr_t write(int, const void *, uintptr_t)');
  const read = lib.func('intptr_t read(int, void *, uintptr_t)');
  libc = {
    socket: (d, t, p) => socket(d, t, p) as number,
    bind: (fd, addr, len) => bind(fd, addr, len) as number,
    listen: (fd, backlog) => listen(fd, backlog) as number,
    accept4: (fd, flags) => accept4(fd, null, null, flags) as number,
    connect: (fd, addr, len) => connect(fd, addr, len) as number,
    recv: (fd, buf, len, flags) => Number(recv(fd, buf, len, flags)),
    send: (fd, buf, len, flags) => Number(send(fd, buf, len, flags)),
    close: (fd) => close(fd) as number,
    eventfd: (v, flags) => eventfd(v, flags) as number,
    write: (fd, buf, len) => Number(write(fd, buf, len)),
    read: (fd, buf, len) => Number(read(fd, buf, len)),
    errno: () => koffi.errno(),
  };
  return libc;
}

/** struct sockaddr_un for a filesystem path; throws when the path does not fit sun_path. */
export function sockaddrUn(path: string): Buffer {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length === 0) throw new Error('a unix socket path must not be empty');
  if (bytes.length > MAX_SOCKET_PATH_BYTES) throw new Error(`unix socket path is ${bytes.length} bytes, longer than sun_path allows (${MAX_SOCKET_PATH_BYTES}): ${path}`);
  const addr = Buffer.alloc(2 + bytes.length + 1);
  if (endianness() === 'LE') addr.writeUInt16LE(AF_UNIX, 0);
  else addr.writeUInt16BE(AF_UNIX, 0);
  bytes.copy(addr, 2);
  return addr;
}
