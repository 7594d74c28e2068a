// SDK errors in plain words, each with the one thing to do about it. `action` is the
// IAM action of the call that failed (`iot:CreateThing`), so AccessDenied names it.
import { KeyprovError, ToolError, UsageError } from '../errors.js';

const PERMISSIONS_DOC = 'docs/aws.md lists every IAM action keyprov needs';

interface SdkLikeError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $retryable?: unknown;
}

export function errorName(e: unknown): string {
  const err = e as SdkLikeError;
  return err?.name ?? err?.code ?? '';
}

export function isNotFound(e: unknown): boolean {
  return errorName(e) === 'ResourceNotFoundException';
}

const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException', 'RequestLimitExceeded', 'SlowDown']);
const CONFLICTS = new Set(['ResourceAlreadyExistsException', 'ConflictException', 'ConflictingResourceUpdateException', 'DeleteConflictException', 'VersionConflictException', 'CertificateConflictException']);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedException', 'UnrecognizedClientException', 'InvalidSignatureException']);

export interface AwsErrorContext {
  /** IAM action of the failed call, e.g. `iot:CreateThing`. */
  action: string;
  region?: string;
}

/** Turn whatever the SDK threw into a KeyprovError with a hint. KeyprovErrors pass through. */
export function mapAwsError(e: unknown, ctx: AwsErrorContext): KeyprovError {
  if (e instanceof KeyprovError) return e;
  const err = (e ?? {}) as SdkLikeError;
  const name = errorName(e);
  const msg = err.message ?? String(e);
  const details = { action: ctx.action, awsError: name, region: ctx.region, httpStatus: err.$metadata?.httpStatusCode };
  const opts = (hint: string) => ({ hint, cause: e, details });

  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(msg)) {
    return new UsageError('AWS_NO_CREDENTIALS', 'no AWS credentials found (environment, shared profile, SSO or instance role)', opts(
      'run `aws configure` or `aws sso login --profile NAME`, then set aws.profile (or AWS_PROFILE); or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    ));
  }
  if (name === 'ExpiredTokenException' || name === 'ExpiredToken' || /token.*expired|expired.*token/i.test(msg)) {
    return new UsageError('AWS_CREDENTIALS_EXPIRED', `the AWS session has expired: ${msg}`, opts('log in again (`aws sso login --profile NAME`) or refresh the temporary credentials'));
  }
  if (/region is missing/i.test(msg)) {
    return new UsageError('AWS_REGION_MISSING', 'no AWS region is set', opts('set aws.region in keyprov.config.yaml, pass --region, or export AWS_REGION'));
  }
  if (['ENOTFOUND', 'EAI_AGAIN'].includes(err.code ?? '') || /getaddrinfo|ENOTFOUND/.test(msg)) {
    return new ToolError('AWS_UNREACHABLE', `cannot reach the AWS IoT endpoint for region ${ctx.region ?? '(unset)'}: ${msg}`, opts(
      'check the region name (aws.region / --region / AWS_REGION) and the network connection',
    ));
  }
  if (DENIED.has(name) || err.$metadata?.httpStatusCode === 403) {
    // IAM says "User: arn:... is not authorized to perform: iot:CreateThing on resource: ...".
    const said = /perform:\s*([a-z0-9-]+:[A-Za-z0-9]+)/.exec(msg)?.[1];
    const action = said ?? ctx.action;
    const who = /User:\s*(\S+)/.exec(msg)?.[1];
    if (name === 'UnrecognizedClientException' || name === 'InvalidSignatureException') {
      return new UsageError('AWS_BAD_CREDENTIALS', `AWS rejected the credentials: ${msg}`, opts('check the access key and secret (or the profile), and that the clock is right'));
    }
    return new ToolError('AWS_ACCESS_DENIED', `AWS denied ${action}${who ? ` to ${who}` : ''}`, {
      ...opts(`grant "${action}" to ${who ?? 'the identity keyprov uses'} in IAM (${PERMISSIONS_DOC})`),
      details: { ...details, action },
    });
  }
  if (THROTTLING.has(name)) {
    const attempts = err.$metadata?.attempts;
    return new ToolError('AWS_THROTTLED', `AWS IoT throttled ${ctx.action}${attempts ? ` on all ${attempts} attempts` : ''}: ${msg}`, opts(
      'wait a minute and run again, or raise aws.maxAttempts so the SDK retries longer with backoff',
    ));
  }
  if (CONFLICTS.has(name)) {
    return new ToolError('AWS_CONFLICT', `${ctx.action} conflicts with an existing resource: ${msg}`, opts(
      'another resource with that name or state exists; inspect it with `aws iot` or choose another name',
    ));
  }
  if (name === 'InvalidRequestException' || name === 'MalformedPolicyException' || name === 'CertificateValidationException') {
    return new ToolError('AWS_INVALID_REQUEST', `AWS IoT refused ${ctx.action}: ${msg}`, opts('fix the input named in the message (run with --dry-run to see the request)'));
  }
  if (isNotFound(e)) {
    return new ToolError('AWS_NOT_FOUND', `${ctx.action}: ${msg}`, opts('the resource does not exist in this account and region; check aws.region'));
  }
  return new ToolError('AWS_FAILED', `${ctx.action} failed: ${name ? `${name}: ` : ''}${msg}`, opts('run with --verbose for the request and the stack trace'));
}

/** The CA that should have signed the device certificate is not registered in this account/region. */
export function caNotRegistered(e: unknown, region?: string): KeyprovError {
  return new ToolError('AWS_CA_NOT_REGISTERED', `the CA that issued the device certificate is not registered with AWS IoT${region ? ` in ${region}` : ''}`, {
    hint: 'run `keyprov aws register-ca` first (or `--mode sni-only` to register the certificate without its CA)',
    cause: e,
    details: { awsError: errorName(e), region },
  });
}

/** RegisterCertificate's way of saying its CA is unknown. */
export function looksLikeCaNotRegistered(e: unknown): boolean {
  const name = errorName(e);
  const msg = (e as SdkLikeError)?.message ?? '';
  return (name === 'ResourceNotFoundException' || name === 'CertificateValidationException' || name === 'InvalidRequestException') && /\bCA\b|certificate authority|issuer/i.test(msg);
}
