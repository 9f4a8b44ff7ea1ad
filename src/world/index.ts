/**
 * The simulated mail world: a DNS server and SMTP MX hosts on loopback, for tests, benchmarks and the demo.
 * Never part of a production run.
 */
export { SimDnsServer, type SimDnsServerOptions } from './dns-server.js';
export { ZoneTable, normalizeName, RCODE, SOA_MINIMUM, type SimZone, type UnknownNamePolicy } from './dns-zone.js';
export { SimMxHost, type SimMxHostConfig } from './smtp-host.js';
export { ADVERTISED_SIZE, DEFAULT_BAN_SECONDS, DEFAULT_SIM_HOSTNAME, type SimMxHostOptions } from './smtp-options.js';
export { HostPolicy, SIM_REPLIES, dnsblReply, toWire, type ConnectDecision } from './smtp-policy.js';
export { MAX_LINE_BYTES, SmtpSession, parsePath, type SessionAction } from './smtp-behaviour.js';
export { KNOWN_VERBS, SimHostStats, maxInWindow, type SimClientStats, type SimViolations } from './smtp-stats.js';
export { isLoopback, randomLoopbackSubnet } from './loopback.js';
export {
  DEFAULT_DNSBL_CODE,
  SimWorld,
  expectedVerdictsOf,
  type PolitenessViolation,
  type SimDnsblListing,
  type SimDnsblSpec,
  type SimNameSpec,
  type SimDomainSpec,
  type SimHostSpec,
  type SimWorldEnv,
  type SimWorldOptions,
  type SimWorldSpec,
} from './world.js';
export { DEMO_GREYLIST_SECONDS, DEMO_MAX_CONNECTIONS, DEMO_RATE_LIMIT_PER_SECOND, demoWorld, expectedVerdicts } from './scenarios.js';
