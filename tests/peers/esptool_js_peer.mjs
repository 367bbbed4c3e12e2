// A real peer for the simulated ESP: esptool-js (npm) under Node, with a
// small Web Serial stand-in over a pty. It connects, syncs and names the
// chip (ESPLoader.detectChip), then stops: no stub upload, nothing written.
// usage: node esptool_js_peer.mjs PTY [MODULE_DIR]
// Prints "CHIP <name>" on success, exit 0; anything else exits 1.
import fs from 'node:fs';
import tty from 'node:tty';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';

const pty = process.argv[2];
const modDir = process.argv[3] || path.resolve('node_modules');
const { ESPLoader, Transport } = await import(pathToFileURL(path.join(modDir, 'esptool-js', 'lib', 'index.js')).href);

// The Web Serial port object esptool-js's Transport wants: open/close,
// readable/writable web streams, setSignals (a pty carries no modem lines:
// the calls are recorded only), getInfo. The loader closes and reopens the
// port between attempts, so close() ends both streams and open() makes new.
class PtyPort {
  constructor(p) { this.path = p; this.readable = null; this.writable = null; this.signals = []; }
  getInfo() { return { usbVendorId: undefined, usbProductId: undefined }; }
  async open() {
    this.fd = fs.openSync(this.path, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    this.rs = new tty.ReadStream(this.fd);
    this.rs.setRawMode(true);
    this.readable = Readable.toWeb(this.rs);
    const fd = this.fd;
    this.writable = new WritableStream({ write(chunk) { fs.writeSync(fd, chunk); } });
  }
  async close() {
    const rs = this.rs;
    this.readable = null;
    this.writable = null;
    if (rs) { rs.destroy(); this.rs = null; } // closes the descriptor
  }
  async setSignals(s) { this.signals.push(s); }
}

const port = new PtyPort(pty);
const transport = new Transport(port, false);
const lines = [];
const terminal = {
  clean() {}, writeLine(d) { lines.push(d); }, write(d) { lines.push(d); },
};
const loader = new ESPLoader({ transport, baudrate: 115200, terminal, debugLogging: false });
const timer = setTimeout(() => { console.log('TIMEOUT'); console.log(lines.join('\n')); process.exit(1); }, 60000);
try {
  await loader.detectChip('default_reset');
  const name = loader.chip ? loader.chip.CHIP_NAME : null;
  console.log(lines.join('\n'));
  console.log(`SIGNALS ${port.signals.length}`);
  console.log(name ? `CHIP ${name}` : 'NO CHIP');
  clearTimeout(timer);
  await transport.disconnect().catch(() => {});
  process.exit(name ? 0 : 1);
} catch (e) {
  console.log(lines.join('\n'));
  console.log(`ERROR ${e && e.message ? e.message : e}`);
  process.exit(1);
}
