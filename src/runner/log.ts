/**
 * A run's log file (harness.log): written line by line through a filter (secret redaction) and capped. Past
 * the cap only the last TAIL_BYTES are kept, appended at close after a line saying how much was dropped, so a
 * candidate that prints without end cannot fill the disk and the error at the end still reaches the debugger.
 */
import fs from "node:fs";

export const LOG_CAP_BYTES = 4 * 2 ** 20;
const TAIL_BYTES = 64 * 2 ** 10;
const MAX_LINE = 64 * 2 ** 10;

export class CappedLog {
  private readonly fd: number;
  private written = 0;
  private dropped = 0;
  private pending = "";
  private tail = "";

  constructor(file: string, private readonly filter: (text: string) => string, private readonly cap = LOG_CAP_BYTES) {
    this.fd = fs.openSync(file, "w");
  }

  write(chunk: Buffer | string): void {
    this.pending += chunk.toString();
    const cut = this.pending.length > MAX_LINE ? this.pending.length : this.pending.lastIndexOf("\n") + 1;
    if (cut <= 0) return;
    const text = this.filter(this.pending.slice(0, cut));
    this.pending = this.pending.slice(cut);
    this.emit(text);
  }

  private emit(text: string): void {
    const room = this.cap - this.written;
    if (room > 0) {
      const head = Buffer.from(text).subarray(0, room);
      fs.writeSync(this.fd, head);
      this.written += head.length;
      if (head.length === Buffer.byteLength(text)) return;
      text = Buffer.from(text).subarray(head.length).toString();
    }
    this.dropped += Buffer.byteLength(text);
    this.tail = (this.tail + text).slice(-TAIL_BYTES);
  }

  close(): void {
    if (this.pending) this.emit(this.filter(this.pending));
    this.pending = "";
    if (this.dropped > 0) {
      const kept = Buffer.byteLength(this.tail);
      fs.writeSync(this.fd, `\n[archlab: log capped at ${this.cap} bytes; ${this.dropped - kept} bytes dropped; the last ${kept} follow]\n${this.tail}`);
    }
    fs.closeSync(this.fd);
  }
}
