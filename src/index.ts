/**
 * listwash — public API.
 *
 * The engine's pure pieces (address parsing, reply classification, the verdict vocabulary), the
 * engine itself, the pipeline service and the simulated mail world used by tests and the demo.
 *
 * ```ts
 * import { parseAddress, classifyReply } from 'listwash';
 * parseAddress('Bob@Bücher.de');            // { ok: true, normalized: 'Bob@xn--bcher-kva.de', … }
 * classifyReply('rcpt', '550 5.1.1 User unknown'); // { status: 'undeliverable', reason: 'mailbox_not_found' }
 * ```
 */
export * from './verdict.js';
export * from './errors.js';
export { loadConfig, SETTINGS, type Config, type SettingName } from './config.js';
export {
  parseAddress,
  dedupKey,
  suggestDomain,
  isDisposableDomain,
  isFreeDomain,
  isRoleLocalPart,
  type AddressFlags,
  type AddressResult,
  type InvalidAddress,
  type ParsedAddress,
} from './address/index.js';
export { classifyReply, explainReply, parseReply, enhancedCodeOf, ReplyReader, type SmtpReply, type SmtpStage, type ReplyExplanation } from './smtp/index.js';
export { ProbeSession, type RcptOutcome, type ProbeSessionOptions } from './smtp/probe-session.js';
export { MailResolver, MemoryTtlCache, type MailRoute, type TtlCache } from './dns/index.js';
export { TargetPolicy } from './net/targets.js';
export { createVerifier, DomainVerifier, OPEN_GATE, type AddressOutcome, type DomainResult, type ProbeGate, type GateLease, type GateRefusal, type HostSignal } from './engine/index.js';
export { ListwashService, type SubmitOptions, type WorkerSelection } from './pipeline/service.js';
export { createRedis, assertRedis, type RedisClient } from './redis/connect.js';
export { REPORT_COLUMNS, STATUS_FILES, STATUS_FILE_COLUMNS, OUTPUT_FILES, SUMMARY_FILE, escapeFormula, type Summary } from './pipeline/aggregate.js';
export { ListJobV1, checkListJob, listJobJsonSchema, LIST_JOB_VERSION, LIST_JOB_QUEUE, LIST_JOB_NAME, type ListJob } from './contract/list-job.js';
export { Watcher, runWatch, watchListId, type Submitted, type WatchedObject } from './watch/index.js';
export type { WebhookBody, WebhookFile, WebhookAttempt, AttemptOutcome } from './webhooks/index.js';
export { MxThrottle, resolveThrottleGroup, BUILTIN_PROVIDERS, type ThrottleGroup, type ProviderRule } from './throttle/index.js';
export { parseLocation, storeFor, checkOutputWritable, isPermanentStorageError, type Location, type Store } from './storage/index.js';
export { sniffCsv, readCsvRows, type CsvDialect } from './csv/index.js';
export { doctor, checkSpf, runChecks, type DoctorIdentity, type DoctorReport, type CheckResult, type SpfVerdict } from './doctor/index.js';
export { SimWorld, demoWorld, type SimWorldSpec } from './world/index.js';
