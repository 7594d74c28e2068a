// Which other programs have the board's serial port open. serialport's flock only stops
// programs that take the same lock; screen, minicom or an IDE monitor do not, and two
// readers on one tty split the bytes between them, so the key arrives with holes. Linux
// only (/proc); elsewhere the answer is "none seen".
import { promises as fs } from 'node:fs';

export interface PortHolder {
  pid: number;
  command: string;
}

/**
 * Processes (other than this one) with `port` open. For a pseudo-terminal, a process that
 * also holds /dev/ptmx is taken to be the other end (the virtual board's socat), not a reader.
 */
export async function portHolders(port: string): Promise<PortHolder[]> {
  if (process.platform !== 'linux') return [];
  let device: string;
  try {
    device = await fs.realpath(port);
  } catch {
    return [];
  }
  const pty = device.startsWith('/dev/pts/');
  const pids = (await fs.readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid);
  const found = await Promise.all(
    pids.map(async (pid): Promise<PortHolder | undefined> => {
      const dir = `/proc/${pid}/fd`;
      const fds = await fs.readdir(dir).catch(() => [] as string[]); // gone, or another user's
      const targets = await Promise.all(fds.map((fd) => fs.readlink(`${dir}/${fd}`).catch(() => '')));
      if (!targets.includes(device) || (pty && targets.includes('/dev/ptmx'))) return undefined;
      const command = (await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
      return { pid: Number(pid), command };
    }),
  );
  return found.filter((h): h is PortHolder => !!h).sort((a, b) => a.pid - b.pid);
}
