/**
 * Scale-out and crashes with real worker processes against one Redis (REDIS_URL, default
 * 127.0.0.1:6379); the scenario itself is in `scale-crash-scenario.ts` (also run against a Redis
 * Cluster by `npm run test:cluster`).
 */
import { describeScaleAndCrashes } from './scale-crash-scenario.js';

describeScaleAndCrashes();
