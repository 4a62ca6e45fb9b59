/**
 * Password prompts (`--username user` without a password, `user add`, `user passwd`), as etcdctl's:
 * the prompt goes to stdout, the password is read without echo on a terminal and followed by a new
 * line. Without a terminal one line is read from stdin (etcdctl does the same after its stty
 * fails), so scripts can pipe passwords in; several prompts read successive lines.
 */
import { createInterface, type Interface } from 'node:readline';

let lines: { rl: Interface; it: AsyncIterator<string> } | undefined;

/** Writes `prompt`, reads a password (no echo on a terminal), then ends the prompt's line. */
export async function promptPassword(prompt: string): Promise<string> {
  process.stdout.write(prompt);
  const password = process.stdin.isTTY ? await readHidden() : await readLine();
  process.stdout.write('\n');
  return password;
}

/** Frees stdin after prompts without a terminal (the process could not exit while it is read). */
export function closePrompts(): void {
  lines?.rl.close();
  lines = undefined;
  process.stdin.pause();
}

async function readLine(): Promise<string> {
  if (lines === undefined) {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    lines = { rl, it: rl[Symbol.asyncIterator]() };
  }
  const next = await lines.it.next();
  return next.done === true ? '' : next.value;
}

/** Reads keys in raw mode until Enter; Backspace edits, Ctrl-C ends the process as a terminal would. */
function readHidden(): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    let text = '';
    stdin.setRawMode(true);
    stdin.resume();
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.off('data', onData);
          stdin.setRawMode(false);
          stdin.pause();
          resolve(text);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          process.stdout.write('\n');
          process.exit(130);
        }
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
