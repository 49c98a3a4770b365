import { context, propagation, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Headers } from '../bus/bus.js';

/**
 * One span per task, its context carried in message headers so generator, verifier, buffer and learner
 * spans join the coordinator's trace. Uses the OpenTelemetry API only: without an SDK registered by the
 * host process these are no-ops.
 */

const tracer = trace.getTracer('nft-train');

export function startTaskSpan(
  name: string,
  attributes: Record<string, string | number>,
): { span: Span; headers: Headers } {
  const span = tracer.startSpan(name, { attributes });
  const headers: Headers = {};
  propagation.inject(trace.setSpan(context.active(), span), headers);
  return { span, headers };
}

/** Runs `fn` inside a child span of the context carried by `headers`. */
export async function withSpanFrom<T>(
  headers: Headers,
  name: string,
  attributes: Record<string, string | number>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), headers);
  const span = tracer.startSpan(name, { attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
