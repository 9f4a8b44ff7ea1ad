/**
 * Loopback address helpers of the simulator: everything it binds must be on 127.0.0.0/8 or ::1.
 */
import { isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import { ErrorCodes, ListwashError } from '../errors.js';

/** Whether `ip` is a loopback address (127.0.0.0/8, ::1, or IPv4-mapped 127.x). */
export function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(ip) === 6 && (ip === '::1' || ip === '0:0:0:0:0:0:0:1');
}

/** Throw `SIM_WORLD` unless `ip` is a loopback address. */
export function assertLoopback(ip: string, what: string): void {
  if (!isLoopback(ip)) {
    throw new ListwashError(ErrorCodes.SIM_WORLD, `${what}: ${JSON.stringify(ip)} is not a loopback address (127.0.0.0/8 or ::1)`, { ip });
  }
}

/** `ip:port`, or `[ip]:port` for IPv6. */
export function formatHostPort(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Client address as the simulator keys it: IPv4-mapped IPv6 reduced to plain IPv4. */
export function clientIp(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  return remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
}

/**
 * A random `127.A.B` prefix, A and B in 1..254, so parallel test processes use distinct addresses
 * (127.0.0.1 and its neighbours are avoided).
 */
export function randomLoopbackSubnet(): [number, number] {
  return [randomInt(1, 255), randomInt(1, 255)];
}
