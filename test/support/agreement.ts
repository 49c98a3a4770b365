/**
 * Agreement of the verifier with expected verdicts, by family, with false negatives (a right
 * answer scored wrong: NFT pushes the model away from it) and false positives (a wrong answer
 * rewarded) counted apart.
 */
export interface Tally {
  total: number;
  agreed: number;
  falseNegatives: number;
  falsePositives: number;
}

export function tallyByFamily(
  rows: readonly { family: string; expected: boolean; got: boolean }[],
): Record<string, Tally> {
  const out: Record<string, Tally> = {};
  for (const r of rows) {
    const t = out[r.family] ?? { total: 0, agreed: 0, falseNegatives: 0, falsePositives: 0 };
    out[r.family] = t;
    t.total++;
    if (r.got === r.expected) t.agreed++;
    else if (r.expected) t.falseNegatives++;
    else t.falsePositives++;
  }
  return out;
}

export function overall(tallies: Record<string, Tally>): Tally {
  const sum: Tally = { total: 0, agreed: 0, falseNegatives: 0, falsePositives: 0 };
  for (const t of Object.values(tallies)) {
    sum.total += t.total;
    sum.agreed += t.agreed;
    sum.falseNegatives += t.falseNegatives;
    sum.falsePositives += t.falsePositives;
  }
  return sum;
}

export function formatTallies(tallies: Record<string, Tally>): string {
  return Object.entries({ ...tallies, all: overall(tallies) })
    .map(
      ([family, t]) =>
        `${family.padEnd(20)} ${t.agreed}/${t.total} (${((100 * t.agreed) / Math.max(1, t.total)).toFixed(1)}%)  FN ${t.falseNegatives}  FP ${t.falsePositives}`,
    )
    .join('\n');
}
