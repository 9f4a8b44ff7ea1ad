/**
 * Which egress identity a session uses. Each lane of a verify call (its addresses not pinned to an
 * identity, or those pinned to one by greylisting) has a picker:
 * - unpinned addresses use every identity, starting at the pool's next one in turn, and stick to the
 *   identity that last talked to a host (a domain's sessions, and its catch-all probe, stay together);
 * - pinned addresses use their identity only — a busy or cooling identity is waited for, since
 *   greylisting keys on the client address — unless it is barred at the host (banned, broken): then
 *   the others may take them.
 * An identity is barred for the rest of the call at a host that refused or banned it, and everywhere
 * when it cannot reach the world at all (source address not bindable, SOCKS5 proxy down).
 */
import type { EgressIdentity } from '../egress/identity.js';
import type { EgressPool } from '../egress/pool.js';

/** Identities a verify call may no longer use, at one host or anywhere. */
export class EgressBars {
  private readonly everywhere = new Set<string>();
  private readonly atHost = new Map<string, Set<string>>();

  /** Bar `identity` at `host`, or everywhere when no host is given. */
  bar(identity: string, host?: string): void {
    if (host === undefined) this.everywhere.add(identity);
    else {
      let s = this.atHost.get(host);
      if (!s) this.atHost.set(host, (s = new Set()));
      s.add(identity);
    }
  }

  barred(identity: string, host: string): boolean {
    return this.everywhere.has(identity) || this.atHost.get(host)?.has(identity) === true;
  }
}

export class IdentityPicker {
  private readonly primaries: EgressIdentity[];
  private readonly fallbacks: EgressIdentity[];
  private sticky: string | null = null;

  /**
   * @param pin the identity the lane's addresses are pinned to (ignored when the pool does not have it)
   * @param prefer for an unpinned lane: the identity to try first (where the catch-all probe must go)
   */
  constructor(
    pool: EgressPool,
    private readonly bars: EgressBars,
    pin?: string,
    prefer?: string,
  ) {
    const pinned = pin !== undefined ? pool.get(pin) : undefined;
    if (pinned) {
      this.primaries = [pinned];
      this.fallbacks = pool.identities.filter((i) => i.name !== pinned.name);
    } else {
      const order = pool.rotation();
      const first = prefer !== undefined ? order.find((i) => i.name === prefer) : undefined;
      this.primaries = first ? [first, ...order.filter((i) => i !== first)] : order;
      this.fallbacks = [];
    }
  }

  /** The identities to try at `host` now, in order: the usable primaries (the sticky one first), else — all of them barred — the usable fallbacks. */
  at(host: string): EgressIdentity[] {
    const usable = (list: EgressIdentity[]) => list.filter((i) => !this.bars.barred(i.name, host));
    const primaries = usable(this.primaries);
    if (primaries.length > 0) {
      const s = primaries.find((i) => i.name === this.sticky);
      return s ? [s, ...primaries.filter((i) => i !== s)] : primaries;
    }
    return usable(this.fallbacks);
  }

  /** `identity` talked to a host: the lane's next sessions try it first. */
  stick(identity: string): void {
    this.sticky = identity;
  }
}
