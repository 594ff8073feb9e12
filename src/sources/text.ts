// Text helpers for source messages.

// SourceState.message allows 4096 characters; leave room for a prefix the caller may add.
const MAX_MESSAGE_LENGTH = 4000;

/** An unknown thrown value as text. Duck-typed: errors from another realm fail `instanceof Error`. */
export function errorText(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

export function clip(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}

// Error text from outside (a server's error field, a TLS library) goes into status, conditions
// and Events: one short line, no control characters, no credentials.
const MAX_LINE_LENGTH = 160;

/**
 * `text` as one line of at most `max` characters: control characters and line breaks become
 * spaces, anything shaped like an HTTP credential (`Bearer x`, `Basic x`, `Authorization: x`,
 * `token=x`) and each of `secrets` becomes `[redacted]`.
 */
export function sanitizedLine(text: string, secrets: readonly string[] = [], max = MAX_LINE_LENGTH): string {
  let line = text;
  for (const secret of secrets) if (secret.length > 0) line = line.split(secret).join('[redacted]');
  line = line
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]+/gu, ' ')
    .replace(
      /\b(authorization|proxy-authorization|cookie|set-cookie)\s*[:=]\s*\S+(\s+\S+)?/gi,
      '$1: [redacted]',
    )
    .replace(/\b(bearer|basic)\s+[^\s,;"']+/gi, '$1 [redacted]')
    .replace(/\b(token|access_token|password|secret)=[^\s&,;"']+/gi, '$1=[redacted]')
    .trim();
  if (line.length === 0) return '(empty)';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

// What a peer says about a failure (a gRPC status message, an error from an address that is not
// etcd) reaches the status: one short line, so that the operator reflects no banner or body.
const MAX_PEER_ERROR_LENGTH = 160;

/** The first line of `text`, control characters removed, at most 160 characters. */
export function oneLine(text: string): string {
  const line = (text.split(/\r?\n/)[0] ?? '').replace(/\p{Cc}/gu, '').trim();
  return line.length > MAX_PEER_ERROR_LENGTH ? `${line.slice(0, MAX_PEER_ERROR_LENGTH - 1)}…` : line;
}
