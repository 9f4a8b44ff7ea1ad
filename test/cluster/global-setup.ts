/**
 * `npm run test:cluster`: one real Redis Cluster (3 masters on loopback) for the whole run. Every test
 * file of `test/cluster/` sees it as `REDIS_URL` (a `redis+cluster://` seed URL), as do the worker
 * processes they start; it is torn down (processes stopped, temp dirs removed) at the end.
 */
import type { TestProject } from 'vitest/node';
import { startRedisCluster } from './redis-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The masters' ports of the test cluster. */
    redisClusterPorts: number[];
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startRedisCluster(3);
  process.env.REDIS_URL = cluster.url;
  project.provide('redisClusterPorts', cluster.ports);
  return () => cluster.stop();
}
