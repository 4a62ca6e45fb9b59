/**
 * Reads all of stdin, byte for byte, as UTF-8 (the value of `set`/`mk`/`update` when the argument
 * is absent). Nothing is trimmed and line ends are kept, as etcdctl's ioutil.ReadAll: a value from a
 * pipe or a redirected file is stored exactly as given.
 */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // Decode once at the end: a multi-byte character split across chunks stays whole.
  return Buffer.concat(chunks).toString('utf8');
}
