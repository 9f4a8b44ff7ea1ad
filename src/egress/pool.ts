/**
 * The pool of egress identities of one process. Sessions pick an identity from it: each verify call
 * starts at the next identity in turn (so domains spread over the pool), and moves on to the others
 * when one is busy, banned or broken.
 */
import type { EgressIdentity } from './identity.js';

export class EgressPool {
  private turn = 0;
  private readonly byName: ReadonlyMap<string, EgressIdentity>;

  constructor(readonly identities: readonly EgressIdentity[]) {
    if (identities.length === 0) throw new RangeError('EgressPool: at least one identity');
    this.byName = new Map(identities.map((i) => [i.name, i]));
  }

  get size(): number {
    return this.identities.length;
  }

  /** The identity called `name`, if this pool has it (a greylist pin of another configuration may not). */
  get(name: string): EgressIdentity | undefined {
    return this.byName.get(name);
  }

  /** Every identity, starting at the next one in turn (round robin over calls). */
  rotation(): EgressIdentity[] {
    const start = this.turn++ % this.identities.length;
    return [...this.identities.slice(start), ...this.identities.slice(0, start)];
  }
}
