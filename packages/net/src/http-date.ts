/** The `Date` header value of answers made by a hand-written loop, as node:http writes it. */

let dateSecond = -1;
let dateText = '';

/** The current time as an HTTP date, formatted once per second. */
export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
