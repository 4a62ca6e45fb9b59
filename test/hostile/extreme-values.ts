/**
 * Values a hostile client puts where a number, a boolean or a short string belongs: the edges of
 * the number types the server parses into (2^53 for doubles, 2^63 and 2^64 for Go's int64/uint64),
 * the spellings parsers disagree on (`-0`, `1e3`, `0x10`, ` 1`), empty and huge digit strings.
 */
import fc from 'fast-check';

/** Numbers at and past the limits, as text (the wire carries text). */
export const EXTREME_NUMBERS: readonly string[] = [
  '0', '1', '2', '-1', '-0', '+1', '1.5', '1e3', '1E3', '1e400', '0x10', '010', ' 1', '1 ', '\t1', '',
  'NaN', 'Infinity', '-Infinity',
  '4294967295', '4294967296', '2147483647', '2147483648', '-2147483649',
  '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993',
  '9223372036854775806', '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809',
  '18446744073709551615', '18446744073709551616', '-18446744073709551616',
  '1' + '0'.repeat(30), '9'.repeat(400), '0'.repeat(1000) + '1',
];

/** Texts the boolean parameters get (Go's ParseBool spellings and near misses). */
export const BOOLEAN_SPELLINGS: readonly string[] = ['true', 'false', '1', '0', 't', 'f', 'T', 'F', 'TRUE', 'True', 'tRUE', 'yes', 'maybe', '', ' true', 'true\u0000'];

/** A number-ish value: an extreme one most of the time, a random integer or double otherwise. */
export function numberText(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...EXTREME_NUMBERS) },
    { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String) },
    { weight: 1, arbitrary: fc.double().map(String) },
    { weight: 1, arbitrary: fc.nat(100).map(String) },
  );
}

/** Any short or long string: ASCII, full Unicode (lone surrogates included), control characters. */
export function oddText(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
    { weight: 1, arbitrary: fc.constantFrom('\u0000', '\r\n', '%', '%zz', '%C3%28', '&', '=', '+', ';', '\ufeff', '\ud800', 'é', '💥', '"', '\\') },
    { weight: 1, arbitrary: fc.constantFrom(1_000, 8_192, 70_000, 1_100_000).map((n) => 'v'.repeat(n)) },
  );
}

/** A value for any parameter: numbers, booleans and odd text mixed. */
export function paramValue(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: numberText() },
    { weight: 2, arbitrary: fc.constantFrom(...BOOLEAN_SPELLINGS) },
    { weight: 3, arbitrary: oddText() },
  );
}
