/**
 * `listwash clean` as a user runs it (the CLI's `main([...])`, settings from the environment), against a simulated
 * mail world on loopback whose domains answer at once: for the CSV corpus and the report round trip.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { ListwashError } from '../../src/errors.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { dropKeys, pipelineEnv, reportRows, testPrefix } from '../pipeline/helpers.js';

/** What one `listwash clean` run gave. */
export interface CleanRun {
  /** The exit code `main` returned, or null when it threw. */
  exitCode: number | null;
  /** The error `main` threw (a failed list: `JOB_FAILED` with `details.cause`). */
  error: ListwashError | null;
  /** The output folder (with a trailing slash). */
  out: string;
  /** SMTP connections the world's hosts accepted during the run. */
  smtpConnections: number;
}

/** Settings that make every run quick: generous per-host limits, no catch-all probe, short retries. */
const QUICK: Record<string, string> = {
  LISTWASH_MX_RCPT_PER_SECOND: '200',
  LISTWASH_MX_MAX_CONNECTIONS: '4',
  LISTWASH_CATCH_ALL_PROBE: 'false',
  LISTWASH_BATCH_SIZE: '200',
};

export class CleanHarness {
  private runs = 0;

  private constructor(
    readonly world: SimWorld,
    readonly dir: string,
    private readonly prefix: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Start the world; `dir` is a fresh temporary folder for inputs and outputs. */
  static async start(spec: SimWorldSpec): Promise<CleanHarness> {
    const world = await SimWorld.start(spec);
    const dir = await mkdtemp(join(tmpdir(), 'lw-clean-'));
    const prefix = testPrefix();
    return new CleanHarness(world, dir, prefix, pipelineEnv(world, prefix, null, QUICK));
  }

  /** Every SMTP connection any host of the world has accepted so far. */
  smtpConnections(): number {
    return this.world.hostNames.reduce((n, h) => n + this.world.host(h).stats.connections, 0);
  }

  /** Run `listwash clean <input> --out <dir>/<name>/ --quiet [...extra]` with the world's settings. */
  async clean(input: string, extra: string[] = []): Promise<CleanRun> {
    const out = join(this.dir, `out-${++this.runs}-${randomBytes(3).toString('hex')}`) + '/';
    const before = this.smtpConnections();
    const saved = process.env;
    process.env = { ...saved, ...this.env };
    let exitCode: number | null = null;
    let error: ListwashError | null = null;
    try {
      exitCode = await main(['clean', input, '--out', out, '--quiet', ...extra]);
    } catch (err) {
      if (!(err instanceof ListwashError)) throw err;
      error = err;
    } finally {
      process.env = saved;
    }
    return { exitCode, error, out, smtpConnections: this.smtpConnections() - before };
  }

  /** report.csv of a run, parsed. */
  async report(run: CleanRun): Promise<ReturnType<typeof reportRows>> {
    return reportRows(await readFile(join(run.out, 'report.csv'), 'utf8'));
  }

  async stop(): Promise<void> {
    await dropKeys(this.env.REDIS_URL ?? 'redis://127.0.0.1:6379', this.prefix);
    await this.world.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
