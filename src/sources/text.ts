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

// What a peer says about a failure (a gRPC status message, an error from an address that is not
// etcd) reaches the status: one short line, so that the operator reflects no banner or body.
const MAX_PEER_ERROR_LENGTH = 160;

/** The first line of `text`, control characters removed, at most 160 characters. */
export function oneLine(text: string): string {
  const line = (text.split(/\r?\n/)[0] ?? '').replace(/\p{Cc}/gu, '').trim();
  return line.length > MAX_PEER_ERROR_LENGTH ? `${line.slice(0, MAX_PEER_ERROR_LENGTH - 1)}…` : line;
}
