// Exact decimal strings on the page. Prices and amounts come from the API and the websocket as decimal strings
// ("187.49000000", "0E-8" from an Avro decimal of zero); the page adds, averages and rounds them as whole units of
// 10^-8 (the platform's price and money grid) in BigInt, never in floating point, so a figure it works out is the
// one the server would give (processors/pnl.py: an average exact when it terminates, else to 8 places, half up).
'use strict';

const GRID_PLACES = 8;
const GRID = 10n ** 8n;

// "187.49000000" -> 18749000000n (units of 10^-8); null for none; more than 8 places round half away from zero.
function toUnits(text) {
  if (text === null || text === undefined || text === '') return null;
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(String(text).trim());
  if (!match || (match[2] === '' && !match[3])) throw new Error(`not a decimal string: ${text}`);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  const digits = BigInt((whole || '0') + fraction);
  const scale = fraction.length - Number(exponent);
  let units;
  if (scale <= GRID_PLACES) {
    units = digits * 10n ** BigInt(GRID_PLACES - scale);
  } else {
    const divisor = 10n ** BigInt(scale - GRID_PLACES);
    units = (2n * digits + divisor) / (2n * divisor);
  }
  return sign === '-' ? -units : units;
}

// numerator / denominator (BigInt, denominator > 0) as a plain decimal string: exact when it terminates, else
// rounded to `places`, halves away from zero (no tie is possible then).
function fractionText(numerator, denominator, places = GRID_PLACES) {
  const negative = numerator < 0n;
  let n = negative ? -numerator : numerator;
  let d = denominator;
  const gcd = (a, b) => (b === 0n ? a : gcd(b, a % b));
  const common = gcd(n, d) || 1n;
  n /= common; d /= common;
  let rest = d; let twos = 0; let fives = 0;
  while (rest % 2n === 0n) { rest /= 2n; twos += 1; }
  while (rest % 5n === 0n) { rest /= 5n; fives += 1; }
  let digits; let scale;
  if (rest === 1n) {
    scale = Math.max(twos, fives);
    digits = n * (10n ** BigInt(scale) / d);
  } else {
    scale = places;
    digits = (2n * n * 10n ** BigInt(places) + d) / (2n * d);
  }
  const text = digits.toString().padStart(scale + 1, '0');
  const body = scale ? `${text.slice(0, -scale)}.${text.slice(-scale)}` : text;
  return (negative && digits !== 0n ? '-' : '') + body;
}

// Units of 10^-8 as a decimal string, trailing zeros dropped ("187.49", "100").
function unitsText(units) { return trimZeros(fractionText(units, GRID)); }

// A decimal string as shown: exact, without trailing zeros ("500.25000000" -> "500.25"); '' for none.
function decimalText(text) {
  return text === null || text === undefined || text === '' ? '' : unitsText(toUnits(text));
}

// An amount to the cent, halves away from zero ("99500.505" -> "99500.51"); '' for none.
function centsText(text) {
  const units = toUnits(text);
  return units === null ? '' : unitsCents(units);
}

// Units of 10^-8 to the cent, halves away from zero (Decimal's ROUND_HALF_UP, as processors/pnl.py and
// processors/charges/money.py round money): 100500000n -> "1.01", -100500000n -> "-1.01"; never "-0.00".
function unitsCents(units) {
  const perCent = 10n ** 6n;
  const cents = ((units < 0n ? -units : units) * 2n + perCent) / (2n * perCent);
  const digits = cents.toString().padStart(3, '0');
  return (units < 0n && cents !== 0n ? '-' : '') + `${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

// Units of 10^-8 as an amount: exact, at least two places ("1.00", "1.0035"), as processors/pnl.py shows money.
function moneyText(units) {
  const [whole, fraction = ''] = unitsText(units).split('.');
  return `${whole}.${fraction.padEnd(2, '0')}`;
}

function trimZeros(text) { return text.includes('.') ? text.replace(/\.?0+$/, '') : text; }
