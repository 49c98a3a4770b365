/**
 * The numeric primitives the objective is written against, so the same equations run in float32 on
 * tfjs (training) and in float64 with exact gradients (golden vectors for other ports).
 *
 * Tensors are [B,T] (tokens), [B,1] (one value per response, broadcast over its tokens) or scalars;
 * binary operations broadcast. Ties in `min`/`max` send the gradient to the first argument, as tfjs does.
 */
export interface Ops<T> {
  scalar(v: number): T;
  /** A constant with one value per response, broadcast over that response's tokens. */
  rows(values: readonly number[]): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  min(a: T, b: T): T;
  max(a: T, b: T): T;
  neg(x: T): T;
  exp(x: T): T;
  log(x: T): T;
  /** Straight-through clamp: the value of max(x, m), the gradient of x. */
  clampST(x: T, m: number): T;
  /** 1 where a > b else 0; a constant (no gradient). */
  gt(a: T, b: T): T;
  /** Sum over tokens: [B,T] → [B,1]. */
  rowSum(x: T): T;
  /** Sum of everything → scalar. */
  sum(x: T): T;
  /** Largest element → scalar; for statistics, not differentiated. */
  maxAll(x: T): T;
}
