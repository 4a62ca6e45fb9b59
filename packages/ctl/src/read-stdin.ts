/** Reads all of stdin as UTF-8 (the value of `set`/`mk`/`update` when the argument is absent). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
