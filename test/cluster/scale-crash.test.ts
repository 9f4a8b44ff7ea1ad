/**
 * The end-to-end crash scenario of `test/pipeline/scale-crash-scenario.ts` (two worker processes, one
 * SIGKILLed mid-run, then a graceful SIGTERM) against a real Redis Cluster: `REDIS_URL` is the
 * `redis+cluster://` seed URL of the cluster `global-setup.ts` started.
 */
import { describeScaleAndCrashes } from '../pipeline/scale-crash-scenario.js';

describeScaleAndCrashes();
