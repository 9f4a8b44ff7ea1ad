// Minimal types for the socksv5 dev dependency (it ships none): the server side the tests use.
declare module 'socksv5' {
  import type { AddressInfo, Server as NetServer } from 'node:net';

  interface ConnectionInfo {
    srcAddr: string;
    srcPort: number;
    dstAddr: string;
    dstPort: number;
  }
  interface Auth {
    METHOD: number;
  }
  interface Server extends NetServer {
    useAuth(auth: Auth): this;
    address(): AddressInfo;
  }
  const socks: {
    createServer(listener: (info: ConnectionInfo, accept: () => void, deny: () => void) => void): Server;
    auth: {
      None(): Auth;
      UserPassword(check: (user: string, password: string, cb: (ok: boolean) => void) => void): Auth;
    };
  };
  export default socks;
}
