/** Values cut for display: megabyte values shown whole filled the page's memory and stalled it. */

/** Most characters of a value shown in a list (the rest is counted). */
export const MAX_VALUE_SHOWN = 200;

/** `value` cut to {@link MAX_VALUE_SHOWN} characters, saying how many were left out. */
export function shortValue(value: string | undefined): string {
  if (value === undefined) return '';
  if (value.length <= MAX_VALUE_SHOWN) return value;
  return `${value.slice(0, MAX_VALUE_SHOWN)}… (${value.length - MAX_VALUE_SHOWN} more characters)`;
}
