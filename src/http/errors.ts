/**
 * Maps every error to one JSON shape: `{ error, message, issues?, requestId }`.
 * Domain errors keep their code; validation errors say which field; anything
 * unexpected is a 500 that names only the request id (details go to the log).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, type ErrorCode, type Issue } from '../shared/errors.ts';

const STATUS: Record<ErrorCode, number> = {
  validation: 400,
  unauthenticated: 401,
  mfa_required: 401,
  forbidden: 403,
  csrf: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  locked: 423,
  rate_limited: 429,
  config: 500,
  integrity: 500,
};

/** The body of every error response. */
export interface ErrorBody {
  error: ErrorCode | 'internal';
  message: string;
  issues?: Issue[];
  requestId: string;
}

/** Fastify error handler: the one place errors become HTTP responses. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const requestId = request.id;
  if (error instanceof DomainError) {
    const body: ErrorBody = { error: error.code, message: error.message, requestId };
    if (error.issues.length) body.issues = error.issues;
    return reply.status(STATUS[error.code]).send(body);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      where: [error.validationContext, ...String(v.instancePath).split('/').filter(Boolean)].join('.'),
      message: v.message ?? 'is not valid',
    }));
    const message = issues.map((i) => `${i.where}: ${i.message}`).join('; ');
    return reply.status(400).send({ error: 'validation', message, issues, requestId } satisfies ErrorBody);
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply.status(413).send({
      error: 'payload_too_large',
      message: `The request body is larger than the ${request.routeOptions.bodyLimit ?? ''} bytes this server accepts`.replace('  ', ' '),
      requestId,
    } satisfies ErrorBody);
  }
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    const code = fastifyError.statusCode === 429 ? 'rate_limited' : fastifyError.statusCode === 404 ? 'not_found' : 'validation';
    return reply.status(fastifyError.statusCode).send({ error: code, message: fastifyError.message, requestId } satisfies ErrorBody);
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply
    .status(500)
    .send({ error: 'internal', message: `Something went wrong on the server (request ${requestId})`, requestId } satisfies ErrorBody);
}
