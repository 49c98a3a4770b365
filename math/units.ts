/**
 * Units and trailing words after a number: `72 degrees`, `64 square feet`, `10 cm^2`, `17 any text`,
 * `10weeks`, `30^\circ` all read as the number. A unit glued to the number is dropped only when it is a
 * known word of three letters or more: `10cm` or `10m` may as well be a product with variables.
 */

const GLUED_UNITS = new Set([
  'units',
  'unit',
  'degrees',
  'degree',
  'weeks',
  'week',
  'days',
  'day',
  'hours',
  'hour',
  'minutes',
  'minute',
  'seconds',
  'second',
  'years',
  'year',
  'months',
  'month',
  'meters',
  'metres',
  'feet',
  'inches',
  'miles',
  'dollars',
  'cents',
  'pounds',
  'liters',
  'litres',
  'grams',
  'kilograms',
  'people',
  'students',
  'times',
  'ways',
  'mph',
  'cups',
  'apples',
  'pages',
]);

/** Units of one letter, read as a unit only after a space (`5 m`, `3 s`): elsewhere a letter is a variable. */
const SHORT_UNITS = new Set(['m', 's', 'g', 'h', 'l', 'L', 'N', 'J', 'W', 'V', 'A', 'K', 'C', 'F']);
const NUMBER_THEN_WORDS =
  /^([-+]?\d[\d,]*(?:\.\d+)?|[-+]?\\frac\{\d+\}\{\d+\}|[-+]?\d+\/\d+)\s+([a-zA-Z]+(?:\/[a-zA-Z]+)?(?: [a-zA-Z]{2,})*)(?:\^\{?[23]\}?)?$/;
const NUMBER_THEN_GLUED = /^([-+]?\d[\d,]*(?:\.\d+)?)([a-zA-Z]{3,})$/;
const NUMBER_THEN_DEGREES = /^([-+]?\d[\d,]*(?:\.\d+)?)\s*\^\\circ(?:\s*[CF])?$/;

export function stripUnits(s: string): string {
  const spaced = NUMBER_THEN_WORDS.exec(s);
  if (spaced) {
    const unit = spaced[2] as string;
    const first = unit.split(/[ /]/)[0] as string;
    if (first.length >= 2 || SHORT_UNITS.has(first)) return spaced[1] as string;
  }
  const glued = NUMBER_THEN_GLUED.exec(s);
  if (glued && GLUED_UNITS.has((glued[2] as string).toLowerCase())) return glued[1] as string;
  // `0.64N`: a decimal glued to an SI unit letter (after an integer, `2A` may be a product).
  const si = /^([-+]?\d*\.\d+)([NJWVAKCF])$/.exec(s);
  if (si) return si[1] as string;
  const degrees = NUMBER_THEN_DEGREES.exec(s);
  if (degrees) return degrees[1] as string;
  return s;
}
