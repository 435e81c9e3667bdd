/**
 * Unix socket paths: a file left by a crashed process (nobody accepts on it) is removed; a path a live
 * server accepts on is refused, never stolen.
 */
import net from 'node:net';
import { lstat, unlink } from 'node:fs/promises';

/** Resolves when the path is free to bind; rejects when a live server owns it or it is not a socket. */
export async function claimUnixPath(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  const live = await new Promise<boolean>((resolve, reject) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(new Error(`cannot probe unix socket ${path}: ${err.code ?? err.message}`));
    });
  });
  if (live) throw new Error(`unix socket ${path}: address in use by a live server`);
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
