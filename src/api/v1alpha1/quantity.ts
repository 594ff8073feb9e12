// Byte sizes as Kubernetes writes them: an integer, or a resource.Quantity string in its full
// grammar (k8s.io/apimachinery/pkg/api/resource):
//
//   <quantity>  ::= <sign>? <number> <suffix>?
//   <number>    ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
//   <suffix>    ::= Ki | Mi | Gi | Ti | Pi | Ei              (powers of 1024)
//                 | n | u | m | k | M | G | T | P | E        (powers of 1000, 10^-9 to 10^18)
//                 | e<sign>?<digits> | E<sign>?<digits>      (a decimal exponent)
//
// As ParseQuantity does, the exponent is an integer ("1e1.5" is refused though the documented
// grammar allows a fraction there), "1E" is 10^18 and "1e" nothing. A size is then rounded up to
// whole bytes, as Quantity.Value() rounds up ("1500m" is 2 bytes). Pure: no I/O.

/** The grammar above as one pattern: the CRD's and the zod schema's. */
export const SIZE_PATTERN = '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$';

/** Quantities longer than this are refused before any arithmetic: the input is untrusted. */
export const MAX_SIZE_LENGTH = 64;

/** The largest size the operator handles exactly: JavaScript's safe integers (8 PiB). */
export const MAX_SIZE_BYTES = Number.MAX_SAFE_INTEGER;

export type SizeParse = { ok: true; bytes: number } | { ok: false; reason: string };

const BINARY_EXPONENTS: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const DECIMAL_EXPONENTS: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const SUFFIX_HELP =
  'use Ki, Mi, Gi, Ti, Pi or Ei (powers of 1024), n, u, m, k, M, G, T, P or E (powers of 1000), or an exponent such as e9';
// 10^19 > 2^60 (the largest binary suffix) * 10 (any further digit): past this many decimal
// places below the digits, a non-zero value is below one byte.
const FRACTION_SLACK = 20;

/** Bytes in `size`, an integer or a quantity, rounded up; a readable reason when it is not a size. */
export function sizeBytes(size: string | number): SizeParse {
  if (typeof size === 'number') {
    if (!Number.isInteger(size)) return refuse(`${size} is not a whole number of bytes`);
    return checked(BigInt(size), String(size));
  }
  const text = size;
  if (text === '') return refuse('"" is empty: give a number of bytes, or a quantity such as 100Mi or 4Gi');
  if (text.length > MAX_SIZE_LENGTH)
    return refuse(`${JSON.stringify(text.slice(0, 16))}... is longer than ${MAX_SIZE_LENGTH} characters`);
  const match = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/s.exec(text)!;
  const [, sign, whole = '', fraction, suffix = ''] = match;
  if (whole === '' && (fraction ?? '') === '')
    return refuse(`${JSON.stringify(text)} has no number: a size is a quantity such as 100Mi, 4Gi or 8G`);

  let binaryExponent = 0n;
  let decimalExponent = -(fraction ?? '').length;
  if (suffix in BINARY_EXPONENTS) binaryExponent = BINARY_EXPONENTS[suffix]!;
  else if (suffix in DECIMAL_EXPONENTS) decimalExponent += DECIMAL_EXPONENTS[suffix]!;
  else if (/^[eE][+-]?[0-9]+$/.test(suffix)) decimalExponent += Number(suffix.slice(1));
  else if (suffix !== '')
    return refuse(`${JSON.stringify(text)} has an unknown suffix ${JSON.stringify(suffix)}: ${SUFFIX_HELP}`);

  const digits = BigInt(`${whole}${fraction ?? ''}`);
  if (digits === 0n) return { ok: true, bytes: 0 };
  if (sign === '-') return refuse(`${JSON.stringify(text)} is negative`);
  const scaled = digits << binaryExponent;
  if (decimalExponent >= 0) {
    // 10^16 already exceeds MAX_SIZE_BYTES; the bound only keeps the arithmetic small.
    if (decimalExponent > 16) return tooLarge(JSON.stringify(text));
    return checked(scaled * 10n ** BigInt(decimalExponent), JSON.stringify(text));
  }
  const places = -decimalExponent;
  if (places > (whole + (fraction ?? '')).length + FRACTION_SLACK) return { ok: true, bytes: 1 };
  const divisor = 10n ** BigInt(places);
  // Rounded up, as Quantity.Value() does.
  return checked((scaled + divisor - 1n) / divisor, JSON.stringify(text));
}

/** Bytes in a size the schema already accepted; throws only on a bug (an unvalidated value). */
export function parseSizeBytes(size: string | number): number {
  const parsed = sizeBytes(size);
  if (!parsed.ok) throw new Error(`invalid size ${JSON.stringify(size)}: ${parsed.reason}`);
  return parsed.bytes;
}

/** `shown`: the size as the message quotes it. */
function checked(bytes: bigint, shown: string): SizeParse {
  if (bytes < 0n) return refuse(`${shown} is negative`);
  if (bytes > BigInt(MAX_SIZE_BYTES)) return tooLarge(shown);
  return { ok: true, bytes: Number(bytes) };
}

function tooLarge(shown: string): SizeParse {
  return refuse(`${shown} is more than ${MAX_SIZE_BYTES} bytes (8 PiB), the largest size handled`);
}

function refuse(reason: string): SizeParse {
  return { ok: false, reason };
}
