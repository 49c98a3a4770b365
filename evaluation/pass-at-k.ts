/**
 * pass@k with the unbiased estimator of Chen et al. (2021): from n samples of which c are correct, the
 * chance that k drawn without replacement include a correct one, 1 − C(n−c, k) / C(n, k). Computed as
 * a product, 1 − ∏_{i=n−c+1}^{n} (1 − k/i), which never forms the (huge) binomial coefficients.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k))
    throw new RangeError(`passAtK: n, c and k must be integers (got ${n}, ${c}, ${k})`);
  if (n < 1 || k < 1 || k > n || c < 0 || c > n)
    throw new RangeError(`passAtK: need 1 ≤ k ≤ n and 0 ≤ c ≤ n (got n ${n}, c ${c}, k ${k})`);
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

/** The k to report for n samples: powers of two below n, and n itself. */
export function defaultPassKs(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k < n; k *= 2) ks.push(k);
  ks.push(n);
  return ks;
}
