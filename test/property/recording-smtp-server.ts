/**
 * A scripted SMTP server on loopback that records every byte a client sends: for checking what a prober writes,
 * whatever the server answers. Each command line gets the next scripted reply for its verb; a reply whose code is
 * 421 (and the reply to QUIT) closes the connection after it is sent.
 */
import { createServer, type Server, type Socket } from 'node:net';

/** Replies as lines (no line breaks), per verb; a verb's list is used in turn (cycled). */
export interface ServerScript {
  banner: readonly string[];
  ehlo: readonly (readonly string[])[];
  helo: readonly (readonly string[])[];
  starttls: readonly (readonly string[])[];
  mail: readonly (readonly string[])[];
  rcpt: readonly (readonly string[])[];
  rset: readonly (readonly string[])[];
  quit: readonly (readonly string[])[];
}

/** What one connection saw. */
export interface Recording {
  /** Every byte the client sent. */
  bytes: Buffer;
  /** The replies sent to RCPT commands, in order. */
  rcptReplies: (readonly string[])[];
}

type Verb = Exclude<keyof ServerScript, 'banner'>;

function wire(lines: readonly string[]): string {
  return lines.map((l) => `${l}\r\n`).join('');
}

export class RecordingSmtpServer {
  private onConnection: ((socket: Socket) => void) | null = null;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<RecordingSmtpServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const rec = new RecordingSmtpServer(server, (server.address() as { port: number }).port);
    server.on('connection', (socket) => {
      if (rec.onConnection) rec.onConnection(socket);
      else socket.destroy();
    });
    return rec;
  }

  /** Answer the next connection with `script`; resolves with its recording once the client has closed it. */
  expect(script: ServerScript): Promise<Recording> {
    return new Promise<Recording>((resolve) => {
      this.onConnection = (socket) => {
        this.onConnection = null;
        this.serve(socket, script, resolve);
      };
    });
  }

  private serve(socket: Socket, script: ServerScript, done: (r: Recording) => void): void {
    const received: Buffer[] = [];
    const rcptReplies: (readonly string[])[] = [];
    const used: Record<Verb, number> = { ehlo: 0, helo: 0, starttls: 0, mail: 0, rcpt: 0, rset: 0, quit: 0 };
    let pending = '';
    let closing = false;
    const next = (verb: Verb): readonly string[] => {
      const list = script[verb];
      return list[used[verb]++ % list.length] as readonly string[];
    };
    const answer = (line: string): void => {
      if (closing) return;
      const word = (line.split(' ', 1)[0] ?? '').toUpperCase();
      const verb: Verb | null = word === 'EHLO' ? 'ehlo' : word === 'HELO' ? 'helo' : word === 'STARTTLS' ? 'starttls' : word === 'MAIL' ? 'mail' : word === 'RCPT' ? 'rcpt' : word === 'RSET' ? 'rset' : word === 'QUIT' ? 'quit' : null;
      const reply: readonly string[] = verb ? next(verb) : ['500 5.5.1 command not recognised'];
      if (verb === 'rcpt') rcptReplies.push(reply);
      socket.write(wire(reply));
      if (verb === 'quit' || (reply.at(-1) ?? '').startsWith('421')) {
        closing = true;
        socket.end();
      }
    };
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      pending += chunk.toString('latin1');
      for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
        answer(pending.slice(0, nl).replace(/\r$/, ''));
        pending = pending.slice(nl + 1);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => done({ bytes: Buffer.concat(received), rcptReplies }));
    socket.write(wire(script.banner));
    if ((script.banner.at(-1) ?? '').startsWith('421')) {
      closing = true;
      socket.end();
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
